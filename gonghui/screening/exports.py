"""The candidate list as XLSX: masked names, the evidence as shown on the page. A list up to
`settings.EXPORT_SYNC_ROWS` downloads at once; a longer one is a background export job."""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import QuerySet

from gonghui.core import exports, parsing
from gonghui.core.export_jobs import ExportPlan
from gonghui.screening import selectors
from gonghui.screening.evidence import evidence_lines
from gonghui.screening.models import Candidate

CANDIDATES_EXPORT = "screening.candidates"
HEADERS = ("线索编号", "姓名", "会员编号", "所属工会", "规则", "建议", "证据", "变化", "状态", "排除原因")


def _row(candidate: Candidate) -> tuple[Any, ...]:
    return (
        candidate.pk,
        candidate.member.name_masked,
        candidate.member.member_no,
        candidate.organization.name,
        "%s v%s" % (candidate.rule.name, candidate.rule.version),
        candidate.evidence.get("suggestion", ""),
        "；".join(evidence_lines(candidate.evidence)),
        candidate.get_change_display(),
        candidate.get_status_display(),
        candidate.reason,
    )


def _rows(qs: QuerySet[Candidate]) -> Iterator[tuple[Any, ...]]:
    for candidate in qs.iterator(chunk_size=2000):
        yield _row(candidate)


def candidates_export(*, actor: Any, qs: QuerySet[Candidate], filters: dict[str, str]) -> exports.Export:
    return exports.xlsx_export(
        actor=actor,
        action="screening.candidates_export",
        filename="筛查线索.xlsx",
        sheets=[exports.Sheet(title="筛查线索", header=HEADERS, rows=_rows(qs))],
        detail={"filters": filters},
    )


def candidates_export_plan(actor: Any, params: Mapping[str, Any]) -> ExportPlan:
    filters = selectors.candidate_filters(actor=actor, params=params)
    qs = selectors.candidate_list(actor=actor, filters=filters)
    return ExportPlan(
        filename="筛查线索.xlsx",
        title="筛查线索",
        header=HEADERS,
        rows=_rows(qs),
        total=qs.count(),
        detail={"filters": {k: parsing.clean(v)[:40] for k, v in params.items()}},
    )
