"""Policy kinds: the registry of what may be configured as a versioned policy.

A policy is data an administrator edits — a threshold, a table of limits, a tier list — kept as
immutable, versioned JSON bodies per organisation (see `gonghui.organizations.policies`, the
tenant layer that stores and resolves them). This module is the kernel half and knows no
domain: an app registers each kind it owns in its `AppConfig.ready()`::

    register_policy_kind(
        "aggregate.small_group",
        label="统计小组抑制阈值",
        schema=SmallGroupBody,          # a pydantic model for the body
        default={"min_group": 10},      # the shipped body, used where no version applies
        manage_perm=Perm.POLICY_MANAGE, # who may propose a version
        four_eyes=True,                 # a second person must approve it
    )

`policy_body_validate(kind, body)` checks a proposed body against the kind's schema and returns
the normalised JSON, or raises `ValidationFailed` whose fields carry Chinese messages keyed by
the dotted path of the offending value ("limits.K.high")."""

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from gonghui.core.errors import NotFound, ValidationFailed
from gonghui.core.permissions import Perm


@dataclass(frozen=True)
class PolicyKind:
    kind: str
    label: str
    schema: type[BaseModel]
    default: Mapping[str, Any]
    manage_perm: str
    four_eyes: bool


_KINDS: dict[str, PolicyKind] = {}


def register_policy_kind(
    kind: str,
    *,
    label: str,
    schema: type[BaseModel],
    default: Mapping[str, Any],
    manage_perm: str = Perm.POLICY_MANAGE,
    four_eyes: bool = True,
) -> PolicyKind:
    """Declare a policy kind. The default body must itself pass the schema; registering the
    same kind twice with a different declaration is a programming error."""
    schema.model_validate(default)
    entry = PolicyKind(kind, label, schema, dict(default), manage_perm, four_eyes)
    existing = _KINDS.get(kind)
    if existing is not None and existing != entry:
        raise ValueError("policy kind %r is already registered differently" % kind)
    _KINDS[kind] = entry
    return entry


def policy_kind(kind: str) -> PolicyKind:
    entry = _KINDS.get(kind)
    if entry is None:
        raise NotFound("政策类型不存在：%(kind)s" % {"kind": kind})
    return entry


def policy_kinds() -> list[PolicyKind]:
    return sorted(_KINDS.values(), key=lambda k: k.kind)


_MESSAGES = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "decimal_type": "必须是数字",
    "decimal_parsing": "必须是数字",
    "finite_number": "必须是有限的数字",
    "float_parsing": "必须是数字",
    "string_type": "必须是文本",
    "bool_type": "必须是是/否",
    "bool_parsing": "必须是是/否",
    "dict_type": "必须是对象（键值表）",
    "list_type": "必须是列表",
    "model_type": "必须是对象（键值表）",
    "greater_than": "必须大于 %(gt)s",
    "greater_than_equal": "不能小于 %(ge)s",
    "less_than": "必须小于 %(lt)s",
    "less_than_equal": "不能大于 %(le)s",
    "string_too_long": "最多 %(max_length)s 个字符",
    "string_too_short": "至少 %(min_length)s 个字符",
}


def _message(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    template = _MESSAGES.get(error["type"])
    if template is None:
        return "取值无效"
    return template % {k: v for k, v in ctx.items()}


def policy_body_validate(kind: str, body: object) -> dict[str, Any]:
    """The body normalised by the kind's schema (JSON-ready), or `ValidationFailed`."""
    entry = policy_kind(kind)
    if not isinstance(body, Mapping):
        raise ValidationFailed("政策内容必须是 JSON 对象", fields={"body": "必须是对象（键值表）"})
    try:
        parsed = entry.schema.model_validate(body)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "body"
            fields.setdefault(where, _message(error))
        raise ValidationFailed(
            "%(label)s的内容有误：%(count)s 处" % {"label": entry.label, "count": len(fields)}, fields=fields
        ) from exc
    normalised: dict[str, Any] = parsed.model_dump(mode="json")
    return normalised


def policy_body_text(body: Mapping[str, Any]) -> str:
    """A body as the console shows and edits it: indented JSON, keys sorted, Chinese as is."""
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)


def policy_body_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """The lines of a unified diff from one version's body to the next."""
    before = policy_body_text(old).splitlines() if old is not None else []
    return list(difflib.unified_diff(before, policy_body_text(new).splitlines(), "上一版本", "本版本", lineterm=""))
