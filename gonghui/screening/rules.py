"""Rules as data, and the one SQL every engine runs for them.

A rule (a `models.Rule` version, or an unsaved one being previewed) says which dataset kinds
it reads, its condition (`listed`: the member is on the list; `yearly_sum`: the amounts of a
calendar year add up to more than a threshold), the date range it looks at, and what it
suggests. `compile_rule` turns it into one SELECT in the subset of SQL that DuckDB and Spark
SQL both accept:

    SELECT / FROM / JOIN … ON / WHERE / GROUP BY / HAVING / UNION ALL, SUM / COUNT / MAX,
    CAST(… AS BIGINT | STRING | DATE), date literals as CAST('yyyy-mm-dd' AS DATE),
    string literals of the kind codes (lower-case words, never user text).

It reads the views every engine registers: `members` (member_id, org_id, id_blind — the run's
blind-index export of the registry) and `ds_<kind>` (id_blind, event_date, amount_fen,
category, row_no — a dataset's normalised Parquet file). Every rule's query returns the same
columns (`RESULT_COLUMNS`), so candidates are built the same way whatever the engine.
No engine-specific function is used, so nothing is spelled per engine. A run hands the engine
each rule's SELECT tagged with its position (`compile_rule_parts`); Spark runs them as one
statement joined by UNION ALL (`engines.EngineSession.collect_all`: one job), DuckDB one after
the other (`engines.DuckDBSession.collect_all`)."""

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import ConditionType, Since, SuggestionKind

RESULT_COLUMNS = ("member_id", "org_id", "amount_fen", "event_date", "row_count", "category", "source")
# The columns of `compile_rule_parts`: the rule's position in the list, then `RESULT_COLUMNS`.
FOUND_COLUMNS = ("rule_no", *RESULT_COLUMNS)
MEMBERS_VIEW = "members"
# The blind-index export of the registry, as the run writes it (a headerless CSV).
MEMBERS_COLUMNS = (("member_id", "BIGINT"), ("org_id", "BIGINT"), ("id_blind", "VARCHAR"))
DEFAULT_LAST_RUN_DAYS = 90
MEDICAL_THRESHOLD_FEN = 6_000_000  # ¥60,000 a year of personal spend (天津's 大病救助 line, SPEC §3)

EVIDENCE_CHOICES = {
    "amount_fen": "金额",
    "event_date": "日期",
    "row_count": "记录数",
    "category": "类别",
    "source": "数据来源",
}

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def view_name(kind: str) -> str:
    if not _CODE.match(kind) or kind not in DatasetKind.values:
        raise ValueError("unknown dataset kind %r" % kind)
    return "ds_%s" % kind


def _date(day: dt.date) -> str:
    return "CAST('%s' AS DATE)" % day.isoformat()


@dataclass(frozen=True, slots=True)
class ShippedRule:
    key: str
    name: str
    description: str
    condition_type: str
    dataset_kinds: tuple[str, ...]
    suggestion_kind: str
    suggestion: str
    evidence: tuple[str, ...]
    threshold_fen: int | None = None
    since: str = Since.ANY
    since_days: int | None = None


SHIPPED_RULES = (
    ShippedRule(
        key="medical_spend",
        name="医保个人负担超大病救助线",
        description="医保结算明细中，本年度个人负担累计超过大病救助起付线（默认 6 万元）",
        condition_type=ConditionType.YEARLY_SUM,
        dataset_kinds=(DatasetKind.YB_SETTLEMENT,),
        threshold_fen=MEDICAL_THRESHOLD_FEN,
        suggestion_kind=SuggestionKind.MEDICAL,
        suggestion="大病救助",
        evidence=("amount_fen", "row_count", "event_date"),
    ),
    ShippedRule(
        key="civil_aid",
        name="低保、特困对象建档",
        description="在民政低保或特困供养名单中，建议建立困难职工档案",
        condition_type=ConditionType.LISTED,
        dataset_kinds=(DatasetKind.MZ_DIBAO, DatasetKind.MZ_TEKUN),
        suggestion_kind=SuggestionKind.FILE,
        suggestion="建档",
        evidence=("source", "category", "event_date", "amount_fen"),
    ),
    ShippedRule(
        key="unemployment_new",
        name="新增失业登记",
        description="上次筛查以来新办理失业登记（首次筛查看最近 90 天），建议下岗失业慰问",
        condition_type=ConditionType.LISTED,
        dataset_kinds=(DatasetKind.RS_UNEMPLOYMENT,),
        since=Since.LAST_RUN,
        since_days=DEFAULT_LAST_RUN_DAYS,
        suggestion_kind=SuggestionKind.VISIT,
        suggestion="下岗失业",
        evidence=("event_date", "category"),
    ),
    ShippedRule(
        key="work_injury",
        name="工伤认定",
        description="最近一年内有工伤认定，建议患职业病临时救助",
        condition_type=ConditionType.LISTED,
        dataset_kinds=(DatasetKind.RS_INJURY,),
        since=Since.DAYS,
        since_days=365,
        suggestion_kind=SuggestionKind.CASE,
        suggestion="患职业病",
        evidence=("event_date", "category"),
    ),
)


def cutoff(rule: Any, *, reference_date: dt.date, last_run_date: dt.date | None) -> dt.date | None:
    """The day after which a rule's rows count (None: any date)."""
    if rule.since == Since.DAYS:
        return reference_date - dt.timedelta(days=rule.since_days or 0)
    if rule.since == Since.LAST_RUN:
        if last_run_date is not None:
            return last_run_date
        return reference_date - dt.timedelta(days=rule.since_days or DEFAULT_LAST_RUN_DAYS)
    return None


def _source(kinds: Iterable[str], *, where: str, tagged: bool) -> str:
    """The rows of `kinds` passing `where`; `tagged`: with the kind of each as `source` (a rule
    over one kind names it once, outside the aggregation: a text aggregate over millions of
    rows is what such a query spends most on)."""
    column = ", '%(kind)s' AS source" if tagged else ""
    parts = [
        ("SELECT id_blind, event_date, amount_fen, category" + column + " FROM %(view)s%(where)s")
        % {"kind": kind, "view": view_name(kind), "where": where}
        for kind in kinds
    ]
    return " UNION ALL ".join(parts)


def compile_rule(
    rule: Any, *, available: Iterable[str], reference_date: dt.date, last_run_date: dt.date | None = None
) -> str | None:
    """The SELECT of `rule` over the dataset kinds `available` (None if it reads none of them)."""
    kinds = [k for k in rule.dataset_kinds if k in set(available)]
    if not kinds:
        return None
    conditions = ["event_date <= %s" % _date(reference_date)]
    if rule.condition_type == ConditionType.YEARLY_SUM:
        year = reference_date.year
        conditions = [
            "event_date >= %s" % _date(dt.date(year, 1, 1)),
            "event_date < %s" % _date(dt.date(year + 1, 1, 1)),
        ]
    else:
        since = cutoff(rule, reference_date=reference_date, last_run_date=last_run_date)
        if since is not None:
            conditions.append("event_date > %s" % _date(since))
        else:
            conditions = ["(event_date IS NULL OR event_date <= %s)" % _date(reference_date)]
    where = " WHERE " + " AND ".join(conditions)
    tagged = len(kinds) > 1
    source = _source(kinds, where=where, tagged=tagged)
    values: dict[str, str | int] = {
        "source": source,
        "members": MEMBERS_VIEW,
        "kind": "MAX(%s.source)" if tagged else "'%s'" % kinds[0],
    }
    if rule.condition_type == ConditionType.YEARLY_SUM:
        # A year of settlements is the largest input: its aggregate keeps to numbers, and the
        # category is gathered only for a rule that shows it.
        values["threshold"] = int(rule.threshold_fen or 0)
        values["category"] = "MAX(s.category)" if "category" in rule.evidence else "CAST(NULL AS STRING)"
        values["kind"] = str(values["kind"]).replace("%s", "s")
        return (  # noqa: S608 - kind codes checked against DatasetKind; dates and numbers formatted here
            "SELECT m.member_id, m.org_id, d.amount_fen, d.event_date, d.row_count, d.category, d.source "
            "FROM (SELECT s.id_blind, CAST(SUM(s.amount_fen) AS BIGINT) AS amount_fen, "
            "MAX(s.event_date) AS event_date, CAST(COUNT(*) AS BIGINT) AS row_count, "
            "%(category)s AS category, %(kind)s AS source "
            "FROM (%(source)s) s WHERE s.amount_fen IS NOT NULL GROUP BY s.id_blind "
            "HAVING SUM(s.amount_fen) > %(threshold)d) d "
            "JOIN %(members)s m ON m.id_blind = d.id_blind"
        ) % values
    values["kind"] = str(values["kind"]).replace("%s", "d")
    return (  # noqa: S608 - kind codes checked against DatasetKind; dates formatted here
        "SELECT m.member_id, m.org_id, CAST(MAX(d.amount_fen) AS BIGINT) AS amount_fen, "
        "MAX(d.event_date) AS event_date, CAST(COUNT(*) AS BIGINT) AS row_count, "
        "MAX(d.category) AS category, %(kind)s AS source "
        "FROM (%(source)s) d JOIN %(members)s m ON m.id_blind = d.id_blind "
        "GROUP BY m.member_id, m.org_id"
    ) % values


def compile_rule_parts(
    rules: Sequence[Any], *, available: Iterable[str], reference_date: dt.date, last_run_date: dt.date | None = None
) -> tuple[list[str], list[bool]]:
    """One SELECT of `FOUND_COLUMNS` per rule that reads an available dataset (each rule's query
    tagged with its position), and for each rule whether it ran."""
    kinds = set(available)
    parts: list[str] = []
    ran: list[bool] = []
    for number, rule in enumerate(rules):
        query = compile_rule(rule, available=kinds, reference_date=reference_date, last_run_date=last_run_date)
        ran.append(query is not None)
        if query is not None:
            parts.append("SELECT CAST(%d AS INT) AS rule_no, r%d.* FROM (%s) r%d" % (number, number, query, number))  # noqa: S608
    return parts, ran
