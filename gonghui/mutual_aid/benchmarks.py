"""`python manage.py bench mutual_aid --members 350000 --claims 30000`

1. `enrol_seconds`: the members of every unit (members ÷ 70 of them, at most 5,000, under ten
   county federations) are enrolled through the real services, each county listing its units'
   members (集中参保), on `--workers` threads: the submit (sealed upload, the `mutual_aid.enrol`
   job queued), the job run as the worker runs it (`jobs.job_execute`: the tabular reader, the
   set-based check, a bill per unit and multi-row INSERTs of the enrolments, the bills' audit
   events appended together), the list's payment activating its enrolments in one UPDATE.
2. `claims_per_s`: that many claims (made beforehand in bulk as `claim_submit` leaves them,
   not timed) are adjudicated by 初审
   through `claims_review` (批量初审 of `--batch` claims, as the claim list's button sends them;
   `claim_review` is the batch of one) — the kernel workflow (`workflow_transition_many`), the
   allowance rows locked, the policy, the sealed steps, the audit — on `--workers` threads,
   each on its own database connection.
3. `report_ms`: the fund report of the whole federation on that data (median of `--repeat`).

The organisations and members are made beforehand with bulk inserts (not timed)."""

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core import crypto, jobs
from gonghui.core.identifiers import make_resident_id
from gonghui.core.models import WorkflowCase, WorkflowStep
from gonghui.core.permissions import Role
from gonghui.members.identity import identity_from_raw, new_card_no, new_member_no
from gonghui.members.models import Member
from gonghui.mutual_aid import selectors, services
from gonghui.mutual_aid.models import Claim, ClaimStatus, Enrolment, Period
from gonghui.mutual_aid.workflows import CLAIM
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create, role_grant

ROOT_CODE = "BENCH-MA-ROOT"
START = dt.date(2026, 1, 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=350_000)
    parser.add_argument("--claims", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=4, help="threads enrolling units and adjudicating claims")
    parser.add_argument("--batch", type=int, default=200, help="claims per 批量初审 (1: one at a time)")
    parser.add_argument("--repeat", type=int, default=7, help="fund report renders to time")
    parser.add_argument("--seed", type=int, default=20260701)


def _tree(units: int) -> tuple[Organization, list[Organization]]:
    root = organization_create(
        actor=None,
        parent=None,
        code=ROOT_CODE + str(time.time_ns())[-8:],
        name="互助基准测试总工会",
        level=Level.PROVINCE,
        region_code="630000",
    )
    counties = [
        organization_create(
            actor=None,
            parent=root,
            code="%s-C%02d" % (root.code, c),
            name="基准县总工会%d" % c,
            level=Level.COUNTY,
            region_code="630100",
        )
        for c in range(10)
    ]
    grassroots = [
        organization_create(
            actor=None,
            parent=counties[u % len(counties)],
            code="%s-U%05d" % (root.code, u),
            name="基准单位工会%d" % u,
            level=Level.GRASSROOTS,
            region_code="630102",
        )
        for u in range(units)
    ]
    return root, grassroots


def _members(units: list[Organization], count: int, *, region: str) -> dict[int, list[tuple[str, str]]]:
    """Members spread over the units; returns unit id → [(name, ID number)]."""
    lists: dict[int, list[tuple[str, str]]] = {u.pk: [] for u in units}
    batch: list[Member] = []
    for i in range(count):
        unit = units[i % len(units)]
        birth = dt.date(1966, 1, 1) + dt.timedelta(days=i % 12000)
        number = make_resident_id(region, birth, i // 12000 % 500, "M" if i // 6_000_000 % 2 else "F")
        identity = identity_from_raw(number)
        name = "职工%d" % i
        batch.append(
            Member(
                organization=unit,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name=name,
                sex=identity.resident.sex,
                birth_date=identity.resident.birth_date,
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                joined_on=dt.date(2015, 1, 1),
            )
        )
        lists[unit.pk].append((name, number))
        if len(batch) >= 5000:
            Member.objects.bulk_create(batch)
            batch = []
    Member.objects.bulk_create(batch)
    return lists


def _csv(rows: list[tuple[str, str]]) -> bytes:
    return ("姓名,证件号码\n" + "".join("%s,%s\n" % r for r in rows)).encode("utf-8")


def _submitted(staff: User, enrolments: list[Enrolment], rng: random.Random) -> list[int]:
    """Claims as `claim_submit` leaves them — the sealed diagnosis and costs, the workflow case
    in 待初审 and its first history row — made with bulk inserts (setup, not timed)."""
    now = timezone.now()
    made = []
    for enrolment in enrolments:
        personal = rng.randint(50, 3000) * 10_000
        outside = personal // 10
        health = {
            "diagnosis": "基准诊断",
            "total_fen": personal * 3,
            "basic_insurance_fen": personal * 2,
            "serious_illness_insurance_fen": 0,
            "self_inside_catalogue_fen": personal - outside,
            "self_outside_catalogue_fen": outside,
        }
        made.append(
            Claim(
                period_id=enrolment.period_id,
                enrolment=enrolment,
                member_id=enrolment.member_id,
                organization_id=enrolment.organization_id,
                hospital="基准医院",
                admitted_on=dt.date(2026, 4, 1) + dt.timedelta(days=rng.randint(0, 200)),
                discharged_on=dt.date(2026, 12, 30),
                days=rng.randint(1, 30),
                health_encrypted=crypto.encrypt(
                    json.dumps(health, ensure_ascii=False), purpose=services.HEALTH_PURPOSE
                ),
                submitted_by=staff,
            )
        )
    with transaction.atomic():
        Claim.objects.bulk_create(made, batch_size=2000)
        content_type = ContentType.objects.get_for_model(Claim)
        state = ClaimStatus.SUBMITTED
        WorkflowCase.objects.bulk_create(
            [
                WorkflowCase(
                    content_type=content_type,
                    object_id=c.pk,
                    workflow=CLAIM.name,
                    state=state,
                    entered_at=now,
                    due_at=CLAIM.due_at(state, now),
                )
                for c in made
            ],
            batch_size=2000,
        )
        WorkflowStep.objects.bulk_create(
            [
                WorkflowStep(
                    workflow=CLAIM.name,
                    content_type=content_type,
                    object_id=c.pk,
                    transition="submit",
                    label="提交",
                    from_state="",
                    to_state=state,
                    actor=staff,
                    at=now,
                    data={},
                )
                for c in made
            ],
            batch_size=2000,
        )
    return [c.pk for c in made]


def _spread[T](work: Callable[[list[T]], int], items: list[T], workers: int) -> int:
    """`work` over `items` dealt to `workers` threads (each its own connection); in this
    thread when there is one worker (so that a profiler sees it)."""
    if workers <= 1:
        return work(items)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(work, [items[i::workers] for i in range(workers)]))


def run(
    *, stdout: Any, members: int, claims: int, workers: int, batch: int, repeat: int, seed: int, **_: Any
) -> dict[str, Any]:
    rng = random.Random(seed)
    n_units = max(1, min(5000, members // 70))
    stdout.write("building %d units and %d members…" % (n_units, members))
    with transaction.atomic():
        # ID numbers are unique: each run takes its own region code (12 million numbers each).
        runs = Organization.objects.filter(code__startswith=ROOT_CODE, parent=None).count()
        root, units = _tree(n_units)
        lists = _members(units, members, region="64%04d" % (runs % 10_000))
        staff = User.objects.create_staff_user(
            username="bench_ma_%s" % root.code[-8:], password=None, display_name="基准经办"
        )
        approver = User.objects.create_staff_user(
            username="bench_mb_%s" % root.code[-8:], password=None, display_name="基准审批"
        )
        for role in (Role.ADMIN, Role.HANDLER, Role.FINANCE):
            role_grant(actor=None, user=staff, organization=root, role=role)
        role_grant(actor=None, user=approver, organization=root, role=Role.REVIEWER)
        period = services.period_create(
            actor=staff,
            organization=root,
            data=services.PeriodInput(
                plan="standard",
                number=6,
                name="第6期（基准）",
                premium_fen=10_000,
                starts_on=START,
                ends_on=dt.date(2026, 12, 31),
                enrol_opens_on=dt.date(2025, 12, 1),
                enrol_closes_on=dt.date(2026, 11, 30),
                min_age=16,
                max_age=65,
            ),
        )
    # Each county federation lists the members of its units (集中参保): one list, one job, a
    # bill per unit, one payment for the list.
    by_county: dict[int, list[tuple[str, str]]] = {}
    for unit in units:
        by_county.setdefault(unit.parent_id or root.pk, []).extend(lists[unit.pk])
    counties = {o.pk: o for o in Organization.objects.filter(pk__in=list(by_county))}
    files = {pk: _csv(rows) for pk, rows in by_county.items()}

    def enrol(chunk: list[int]) -> int:
        try:
            for county_id in chunk:
                batch = services.enrolment_list_submit(
                    actor=staff,
                    period=period,
                    unit=counties[county_id],
                    content=files[county_id],
                    filename="名单.csv",
                    today=START,
                    enqueue=False,
                )
                assert batch.job_id is not None
                jobs.job_execute(job_id=batch.job_id)  # what the worker's task does
                batch.refresh_from_db()
                assert batch.bill_count, batch.error_message
                services.batch_pay(actor=staff, batch=batch, paid_on=START, payment_ref="B%d" % batch.pk)
            return len(chunk)
        finally:
            connection.close()

    stdout.write("enrolling %d units (%d lists) on %d workers…" % (n_units, len(files), workers))
    t = time.perf_counter()
    _spread(enrol, sorted(files), workers)
    enrol_seconds = time.perf_counter() - t
    enrolled = Enrolment.objects.filter(period=period, status="active").count()
    stdout.write("submitting %d claims (bulk, not timed)…" % claims)
    ids = list(Enrolment.objects.filter(period=period).values_list("id", flat=True))
    picked = rng.sample(ids, min(claims, len(ids)))
    claim_ids = _submitted(staff, list(Enrolment.objects.filter(pk__in=picked)), rng)

    def review(chunk: list[int]) -> int:
        try:
            for start in range(0, len(chunk), batch):
                page = list(Claim.objects.filter(pk__in=chunk[start : start + batch]).only("id"))
                services.claims_review(actor=staff, claims=page)
            return len(chunk)
        finally:
            connection.close()

    stdout.write("adjudicating %d claims on %d workers…" % (len(claim_ids), workers))
    t = time.perf_counter()
    done = _spread(review, claim_ids, workers)
    claim_seconds = time.perf_counter() - t
    report = []
    for _round in range(max(1, repeat)):
        t = time.perf_counter()
        result = selectors.fund_report(actor=staff, period=period, organization=root)
        report.append(time.perf_counter() - t)
    assert result.total.members == enrolled
    return {
        "units": n_units,
        "members": enrolled,
        "claims": done,
        "enrol_seconds": round(enrol_seconds, 2),
        "enrol_members_per_s": round(enrolled / enrol_seconds) if enrol_seconds else None,
        "claims_per_s": round(done / claim_seconds, 1) if claim_seconds else None,
        "review_batch": batch,
        "report_ms": round(statistics.median(report) * 1000, 1),
        "periods": Period.objects.filter(organization=root).count(),
    }


BENCHMARKS = {"mutual_aid": (add_arguments, run)}
