"""What every JSON endpoint shares in its OpenAPI description: the error body, the error
statuses of session and device operations, and the headers a signed device request carries
(see `gonghui.core.signing`)."""

from typing import Any

from ninja import Schema

from gonghui.core.signing import MAX_SKEW_SECONDS


class ErrorOut(Schema):
    """Every refusal: a stable `code`, a Chinese `message` for people, and per-field messages."""

    code: str
    message: str
    fields: dict[str, str]


# Session operations: 401 not logged in, 403 refused (CSRF, second factor, permission).
SESSION_ERRORS = frozenset({401, 403})
# Operations with a JSON body: 400 not JSON at all, 422 not as described.
BODY_ERRORS = frozenset({400, 422})
# Signed device operations: 401 signature refused, and the body errors.
DEVICE_ERRORS = frozenset({401}) | BODY_ERRORS

SIGNATURE_DESCRIPTION = (
    "设备签名：请求头 X-Device-Key、X-Timestamp、X-Nonce、X-Signature 四项必填。"
    "X-Signature = hex(HMAC-SHA256(设备密钥, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(sha256(body))))，"
    "PATH 含查询串；时间戳与服务器相差超过 %(skew)d 秒、或随机数已用过的请求被拒绝（401）。"
) % {"skew": MAX_SKEW_SECONDS}

SIGNATURE_PARAMETERS: list[dict[str, Any]] = [
    {
        "in": "header",
        "name": "X-Device-Key",
        "required": True,
        "description": "设备登记时分配的密钥编号",
        "schema": {"type": "string", "maxLength": 64},
    },
    {
        "in": "header",
        "name": "X-Timestamp",
        "required": True,
        "description": "发送时刻的 Unix 秒数（与服务器相差不超过 %(skew)d 秒）" % {"skew": MAX_SKEW_SECONDS},
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
    },
    {
        "in": "header",
        "name": "X-Nonce",
        "required": True,
        "description": "本设备从未用过的随机串（最长 64 字符），防重放",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    {
        "in": "header",
        "name": "X-Signature",
        "required": True,
        "description": "HMAC-SHA256 签名的十六进制小写串（64 字符）",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
]

IDEMPOTENCY_KEY_DESCRIPTION = (
    "幂等键（可选）：8 至 64 位字母、数字或 ._:- 。同一会员对同一活动以相同的键重试，返回首次领到的那张券。"
)
IDEMPOTENCY_KEY_PATTERN = r"^([A-Za-z0-9._:-]{8,64})?$"
