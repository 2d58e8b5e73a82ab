"""An optional large-language-model summary of a report (off by default).

The model gets only what the rules found — the abnormal items with their values, references,
grades, trends and the catalogue's advice; never the member's name or ID — and is asked to
restate it in plain words. Its answer is kept only if every number it quotes appears in the
report itself (`report_text`); otherwise it is discarded and the rule-based summary stands.

Settings (read with defaults, so nothing is needed to leave it off):
`HEALTH_LLM_ENABLED` (False), `HEALTH_LLM_BASE_URL` (an OpenAI-compatible `/v1` endpoint),
`HEALTH_LLM_MODEL`, `HEALTH_LLM_API_KEY`, `HEALTH_LLM_TIMEOUT_SECONDS` (20)."""

import json
import re
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings

from gonghui.health import services
from gonghui.health.models import Checkup, LlmStatus
from gonghui.health.report import ReportView, build_report, report_text

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
SYSTEM_PROMPT = (
    "你是工会职工体检报告的解读助手。只能用通俗的中文复述下面“规则判读结果”中已经给出的内容，"
    "不得增加新的诊断、数值、药物或建议；提到数字时必须与原文完全一致，并使用阿拉伯数字。"
    "请用 3～6 句话概括，先说异常项目，再给出原文中的建议。"
)


@dataclass(frozen=True)
class LlmOutcome:
    status: str
    text: str
    reason: str


def enabled() -> bool:
    return bool(getattr(settings, "HEALTH_LLM_ENABLED", False) and getattr(settings, "HEALTH_LLM_BASE_URL", ""))


def numbers_in(text: str) -> set[Decimal]:
    out = set()
    for match in _NUMBER.findall(unicodedata.normalize("NFKC", text)):
        try:
            out.add(Decimal(match).normalize())
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            continue
    return out


def unsupported_numbers(summary: str, reference: str) -> list[str]:
    """Numbers quoted in `summary` that do not appear in `reference` (6.30 and 6.3 match)."""
    allowed = numbers_in(reference)
    quoted = _NUMBER.findall(unicodedata.normalize("NFKC", summary))
    return [q for q in quoted if Decimal(q).normalize() not in allowed]


def findings_prompt(view: ReportView) -> str:
    lines = [
        "规则判读结果（%(date)s，%(sex)s，%(age)s岁）："
        % {"date": view.exam_date.isoformat(), "sex": view.sex_label, "age": view.age}
    ]
    lines.extend(view.summary_lines)
    for item in view.abnormal:
        lines.append("【%s】说明：%s 建议：%s" % (item.name, item.explanation, item.advice))
    return "\n".join(lines)


def _complete(prompt: str) -> str:
    base = str(getattr(settings, "HEALTH_LLM_BASE_URL", "")).rstrip("/")
    body = json.dumps(
        {
            "model": getattr(settings, "HEALTH_LLM_MODEL", "default"),
            "temperature": 0,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
        },
        ensure_ascii=False,
    ).encode()
    headers = {"Content-Type": "application/json"}
    key = getattr(settings, "HEALTH_LLM_API_KEY", "")
    if key:
        headers["Authorization"] = "Bearer %s" % key
    request = urllib.request.Request(base + "/chat/completions", data=body, headers=headers, method="POST")  # noqa: S310
    timeout = float(getattr(settings, "HEALTH_LLM_TIMEOUT_SECONDS", 20))
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from settings
        data = json.loads(response.read().decode("utf-8"))
    return str(data["choices"][0]["message"]["content"]).strip()


def summarise(view: ReportView) -> LlmOutcome:
    if not enabled():
        return LlmOutcome(LlmStatus.NONE, "", "未启用")
    try:
        text = _complete(findings_prompt(view))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        return LlmOutcome(LlmStatus.FAILED, "", "调用失败：%s" % type(exc).__name__)
    if not text:
        return LlmOutcome(LlmStatus.FAILED, "", "模型返回为空")
    unknown = unsupported_numbers(text, report_text(view))
    if unknown:
        return LlmOutcome(LlmStatus.REJECTED, "", "引用了报告中没有的数字：%s" % "、".join(unknown[:10]))
    return LlmOutcome(LlmStatus.ACCEPTED, text[:2000], "")


SUMMARY_CRASHED = "生成时发生系统错误（%(error)s），未生成解读"


def checkup_summary_run(*, checkup_id: int) -> None:
    """Summarise one check-up and store the outcome (the summary task's body; a summary already
    accepted is kept). It always ends with a stored status: an unexpected error is stored as
    failed, with its reason in the audit trail, and raised again for the worker's log."""
    checkup = Checkup.objects.select_related("member__organization").get(pk=checkup_id)
    if checkup.llm_status == LlmStatus.ACCEPTED:
        return
    try:
        outcome = summarise(build_report(checkup))
    except Exception as exc:
        reason = SUMMARY_CRASHED % {"error": type(exc).__name__}
        services.checkup_llm_summary_store(checkup_id=checkup_id, status=LlmStatus.FAILED, reason=reason)
        raise
    if outcome.status != LlmStatus.NONE:
        services.checkup_llm_summary_store(
            checkup_id=checkup_id, status=outcome.status, text=outcome.text, reason=outcome.reason
        )
