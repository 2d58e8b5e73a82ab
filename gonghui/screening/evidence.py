"""A candidate's evidence as the lines the pages and the export show."""

from typing import Any

from gonghui.core.parsing import format_yuan


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    lines = []
    dataset = evidence.get("dataset") or {}
    if evidence.get("source"):
        source = evidence["source"]
        if dataset:
            source = "%(source)s（%(name)s v%(version)s）" % {
                "source": source,
                "name": dataset.get("name", ""),
                "version": dataset.get("version", ""),
            }
        lines.append("数据来源：%s" % source)
    if evidence.get("amount_fen") is not None:
        text = "金额：%s 元" % format_yuan(int(evidence["amount_fen"]))
        if evidence.get("threshold_fen") is not None:
            text += "（门槛 %s 元）" % format_yuan(int(evidence["threshold_fen"]))
        lines.append(text)
    if evidence.get("row_count") is not None:
        lines.append("记录数：%s" % evidence["row_count"])
    if evidence.get("event_date"):
        lines.append("日期：%s" % evidence["event_date"])
    if evidence.get("category"):
        lines.append("类别：%s" % evidence["category"])
    return lines
