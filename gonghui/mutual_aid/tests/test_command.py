import io
import json

import pytest
from django.core.management import call_command

BASE = {
    "plan": "standard",
    "total_fen": 2_000_000,
    "basic_insurance_fen": 400_000,
    "serious_illness_insurance_fen": 50_000,
    "self_outside_catalogue_fen": 50_000,
    "days": 10,
    "enrolled_on": "2026-01-01",
    "first_enrolment": True,
    "admitted_on": "2026-06-01",
    "period_paid_fen": 0,
}


def run(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    call_command("mutual_aid_adjudicate", stdout=out)
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_one_answer_per_line_and_bad_lines_do_not_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    day = {**BASE, "plan": "day_allowance", "days": 4}
    answers = run(
        [
            json.dumps(BASE),
            "{not json",
            json.dumps({**BASE, "plan": "gold"}),
            json.dumps({**BASE, "total_fen": -1}),
            json.dumps({**BASE, "admitted_on": "2026-02-30"}),
            json.dumps(day),
            json.dumps({**BASE, "admitted_on": "2026-03-31"}),
            json.dumps({**BASE, "period_paid_fen": 19_700_000}),
        ],
        monkeypatch,
    )
    assert len(answers) == 8
    # allowable 15,000 元 → above the 1,000 deductible 14,000 → 5,000 + 2,400
    assert answers[0]["benefit_fen"] == 740_000
    assert [s["step"] for s in answers[0]["steps"]][:3] == ["waiting", "allowable", "deductible"]
    assert answers[1] == {"line": 2, "error": "不是有效的 JSON"}
    assert "未知的方案" in answers[2]["error"]
    assert "总费用" in answers[3]["error"]
    assert "入院日期" in answers[4]["error"]
    assert answers[5]["benefit_fen"] == 4_000
    assert answers[6]["benefit_fen"] == 0
    assert answers[7]["benefit_fen"] == 300_000


def test_reads_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({**BASE, "first_enrolment": "yes"}) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("mutual_aid_adjudicate", str(path), stdout=out)
    assert json.loads(out.getvalue()) == {"line": 1, "error": "首次参保（first_enrolment）必须是 true 或 false"}
