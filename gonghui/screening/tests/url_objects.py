"""How to build union A's object for each parameterised URL of the screening app (see
site/tests/test_url_access.py)."""

import datetime as dt
from typing import Any

from gonghui.core import jobs
from gonghui.screening import services
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import Candidate, Change, EngineName, Rule, Run
from gonghui.screening.tests.helpers import csv_bytes
from gonghui.site.testing import World


def dataset_pk(world: World) -> dict[str, Any]:
    dataset = services.dataset_upload(
        actor=world.staff_a,
        organization=world.union_a,
        kind=DatasetKind.MZ_DIBAO,
        name="甲公司低保名单",
        filename="dibao.csv",
        content=csv_bytes(["身份证号码"], [["110105194912310029"]]),
    )
    return {"pk": dataset.pk}


def _run(world: World) -> Run:
    job = jobs.job_create(kind=services.RUN_JOB, organization=world.union_a, enqueue=False)
    return Run.objects.create(
        organization=world.union_a, job=job, engine=EngineName.DUCKDB, reference_date=dt.date(2026, 6, 30)
    )


def run_pk(world: World) -> dict[str, Any]:
    return {"pk": _run(world).pk}


def candidate_pk(world: World) -> dict[str, Any]:
    services.rules_install_shipped()
    rule = Rule.objects.get(key="civil_aid", version=1)
    candidate = Candidate.objects.create(
        run=_run(world),
        member=world.member_a,
        organization=world.union_a,
        rule=rule,
        rule_key=rule.key,
        evidence={"suggestion": "建档"},
        evidence_key="0" * 32,
        change=Change.NEW,
    )
    return {"pk": candidate.pk}


def rule_key(world: World) -> dict[str, Any]:
    services.rules_install_shipped()
    return {"key": "civil_aid"}


URL_OBJECTS = {
    "screening:dataset_detail": dataset_pk,
    "screening:dataset_errors": dataset_pk,
    "screening:dataset_retire": dataset_pk,
    "screening:rule_edit": rule_key,
    "screening:run_detail": run_pk,
    "screening:candidate_detail": candidate_pk,
    "screening:candidate_accept": candidate_pk,
    "screening:candidate_reject": candidate_pk,
}
