"""`python manage.py bench health --results N`

1. Interpretation alone: N synthetic results as a check-up centre sends them (LOINC codes, local
   codes or Chinese names; canonical or conventional units such as mg/dL; text values) go
   through the real path — catalogue lookup, value reading, unit check and conversion, interval
   choice by sex and age, critical limits, flag. Goal ≥ 50,000 results/s (`results_per_s`).
2. Storage, reported separately: the same results grouped into reports (one per member and
   year) and stored with their values encrypted (`store_results_per_s`).
3. `report_ms`: the member's H5 report page for a member with 10 years of history (10 annual
   exams and a year of 健康小屋 visits), through the real view (median of `--repeat`); also the
   report build alone and the PDF.
"""

import argparse
import datetime as dt
import random
import statistics
import time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.test import Client
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core.identifiers import make_resident_id
from gonghui.health import services
from gonghui.health.catalogue import Catalogue, IndicatorSpec, current_catalogue
from gonghui.health.cleaning import age_on
from gonghui.health.demo import TYPICAL
from gonghui.health.importing import PreparedCheckup, PreparedResult, critical_limits_by_org
from gonghui.health.interpret import CriticalLimits, Interpretation, interpret_raw
from gonghui.health.models import Checkup, CheckupKind
from gonghui.health.pdf import render_report_pdf
from gonghui.health.report import build_report
from gonghui.members.identity import identity_from_raw, new_card_no, new_member_no
from gonghui.members.models import ConsentPurpose, Member
from gonghui.members.services import consent_grant, has_consent
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create

ROOT_CODE = "BENCH-HEALTH"
UNION_CODE = "BENCH-HEALTH-GR"
REPORT_MEMBER_PHONE = "13700000000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=int, default=200_000, help="synthetic results to interpret and store")
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15, help="report renders to time")
    parser.add_argument("--seed", type=int, default=20260401)
    parser.add_argument("--no-store", action="store_true", help="interpret only")


def _union() -> Organization:
    union = Organization.objects.filter(code=UNION_CODE).first()
    if union is not None:
        return union
    root = organization_create(
        actor=None, parent=None, code=ROOT_CODE, name="体检基准测试总工会", level=Level.PROVINCE, region_code="320000"
    )
    return organization_create(
        actor=None,
        parent=root,
        code=UNION_CODE,
        name="体检基准测试基层工会",
        level=Level.GRASSROOTS,
        region_code="320508",
    )


def _members(union: Organization, count: int) -> list[Member]:
    existing = list(Member.objects.filter(organization=union).select_related("organization").order_by("id"))
    missing = count - len(existing)
    if missing > 0:
        rows = []
        for i in range(len(existing), count):
            sex = "M" if i % 2 else "F"
            birth = dt.date(1966, 1, 1) + dt.timedelta(days=(i * 37) % 12000)
            identity = identity_from_raw(make_resident_id(union.region_code, birth, i // 12000, sex))
            rows.append(
                Member(
                    organization=union,
                    member_no=new_member_no(),
                    card_no=new_card_no(),
                    name="基准%d" % i,
                    sex=identity.resident.sex,
                    birth_date=identity.resident.birth_date,
                    id_number_encrypted=identity.encrypted,
                    id_blind=identity.blind,
                    id_masked=identity.masked,
                    phone=REPORT_MEMBER_PHONE if i == 0 else "137%08d" % i,
                    joined_on=dt.date(2015, 1, 1),
                )
            )
        Member.objects.bulk_create(rows, batch_size=2000)
        existing = list(Member.objects.filter(organization=union).select_related("organization").order_by("id"))
    return existing[:count]


def _sources(catalogue: Catalogue) -> list[list[tuple[str, str, Decimal]]]:
    """For each indicator with typical values, the (code, unit label, divisor) ways it may
    arrive: LOINC, local codes and names, each with a unit that code accepts."""
    out = []
    for spec in catalogue.indicators:
        if spec.code not in TYPICAL:
            continue
        ways = []
        for key, (entry_spec, allowed) in catalogue.index.items():
            if entry_spec is not spec:
                continue
            for unit_key, label in spec.unit_labels.items():
                if allowed is None or unit_key in allowed:
                    factor, offset = spec.conversions[unit_key]
                    if offset == 0:
                        ways.append((key, label, factor))
        out.append(ways)
    return out


def _inputs(catalogue: Catalogue, members: list[Member], total: int, rng: random.Random) -> list[tuple[Any, ...]]:
    """(exam number, code, value text, unit, member) — one result per indicator per exam."""
    sources = _sources(catalogue)
    specs = [s for s in catalogue.indicators if s.code in TYPICAL]
    rows: list[tuple[Any, ...]] = []
    exam = 0
    while len(rows) < total:
        member = members[exam % len(members)]
        for spec, ways in zip(specs, sources, strict=True):
            if len(rows) >= total:
                break
            code, unit, factor = rng.choice(ways)
            male, female, spread = TYPICAL[spec.code]
            canonical = rng.gauss(male if member.sex == "M" else female, spread)
            value = max(canonical, spread * 0.05) / float(factor)
            rows.append((exam, code, "%.*f" % (max(spec.decimals, 2), value), unit, member))
        exam += 1
    return rows


def _interpret_all(
    catalogue: Catalogue, rows: list[tuple[Any, ...]], limits: dict[str, Any], exam_dates: dict[int, dt.date]
) -> tuple[float, list[tuple[IndicatorSpec, Interpretation]]]:
    ages: dict[tuple[int, int], int] = {}
    prepared = []
    for exam, _code, _value, _unit, member in rows:
        key = (exam, member.pk)
        if key not in ages:
            ages[key] = age_on(member.birth_date, exam_dates[exam])
    started = time.perf_counter()
    for exam, code, value, unit, member in rows:
        prepared.append(
            interpret_raw(
                catalogue,
                code=code,
                value=value,
                unit=unit,
                sex=member.sex,
                age=ages[(exam, member.pk)],
                critical=limits[member.organization.path],
            )
        )
    return time.perf_counter() - started, prepared


def _typical_result(
    catalogue: Catalogue,
    spec: IndicatorSpec,
    member: Member,
    day: dt.date,
    rng: random.Random,
    limits: dict[int, CriticalLimits],
    *,
    floor: float | None = None,
) -> PreparedResult:
    """A plausible value of `spec` for the member on `day` (TYPICAL mean and spread by sex),
    interpreted and ready to store."""
    male, female, spread = TYPICAL[spec.code]
    drawn = rng.gauss(male if member.sex == "M" else female, spread)
    value = Decimal("%.*f" % (spec.decimals, drawn if floor is None else max(drawn, floor)))
    _s, result = interpret_raw(
        catalogue,
        code=spec.code,
        value=value,
        unit=spec.unit,
        sex=member.sex,
        age=age_on(member.birth_date, day),
        critical=limits,
    )
    payload = {"v": format(result.canonical_value, "f"), "o": format(value, "f"), "u": spec.unit, "r": "", "c": ""}
    return PreparedResult(spec=spec, interpretation=result, measured_on=day, payload=payload)


def _report_member(union: Organization, catalogue: Catalogue, rng: random.Random) -> Checkup:
    """The member whose report is rendered: 10 annual exams and monthly kiosk visits."""
    member = Member.objects.select_related("organization").get(organization=union, phone=REPORT_MEMBER_PHONE)
    latest = (
        Checkup.objects.filter(member=member, source="benchrep", kind=CheckupKind.EXAM).order_by("-exam_date").first()
    )
    if latest is not None:
        return latest
    limits = critical_limits_by_org([union.path])[union.path]
    today = timezone.localdate()
    checkups = []
    specs = [s for s in catalogue.indicators if s.code in TYPICAL]
    for back in range(10, 0, -1):
        day = dt.date(today.year - back, 4, 10)
        exam = PreparedCheckup(member=member, external_id="Y%d" % day.year, centre="基准体检中心", exam_date=day)
        for spec in specs:
            exam.results.append(_typical_result(catalogue, spec, member, day, rng, limits, floor=0.1))
        checkups.append(exam)
    visits = []
    for month in range(12):
        day = today - dt.timedelta(days=30 * month + 3)
        visit = PreparedCheckup(member=member, external_id="BENCH-K%d" % month, centre="基准健康小屋", exam_date=day)
        for code in ("SBP", "DBP", "GLU", "UA", "WEIGHT"):
            visit.results.append(_typical_result(catalogue, catalogue.by_code[code], member, day, rng, limits))
        visits.append(visit)
    services.results_store(checkups=checkups, source="benchrep")
    services.results_store(checkups=visits, source="kiosk", kind=CheckupKind.KIOSK)
    return Checkup.objects.filter(member=member, source="benchrep").order_by("-exam_date").first()  # type: ignore[return-value]


def run(*, stdout: Any, results: int, members: int, repeat: int, seed: int, no_store: bool, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    catalogue = current_catalogue()
    with transaction.atomic():
        union = _union()
        people = _members(union, max(members, 2) + 1)
    limits = critical_limits_by_org({m.organization.path for m in people})
    bulk = people[1:]  # the first member is the one whose 10-year report is rendered
    rows = _inputs(catalogue, bulk, results, rng)
    exams = rows[-1][0] + 1
    # members are born 1966–1998, so every exam (2016–2025) is of an adult
    exam_dates = {e: dt.date(2016 + e // len(bulk) % 10, 1 + e % 12, 1 + e % 28) for e in range(exams)}
    stdout.write("interpreting %d results (%d exams, %d members)…" % (len(rows), exams, len(bulk)))
    elapsed, interpreted = _interpret_all(catalogue, rows, limits, exam_dates)
    figures: dict[str, Any] = {
        "results": len(rows),
        "results_per_s": round(len(rows) / elapsed),
        "interpret_s": round(elapsed, 3),
        "flags": {},
    }
    for _spec, result in interpreted:
        figures["flags"][result.flag] = figures["flags"].get(result.flag, 0) + 1
    if not no_store:
        Checkup.objects.filter(member__organization=union, source="bench").delete()
        grouped: dict[int, PreparedCheckup] = {}
        for (exam, _code, value, unit, member), (spec, result) in zip(rows, interpreted, strict=True):
            checkup = grouped.get(exam)
            if checkup is None:
                checkup = grouped[exam] = PreparedCheckup(
                    member=member, external_id="BENCH-%d" % exam, centre="基准体检中心", exam_date=exam_dates[exam]
                )
            payload = {"v": format(result.canonical_value, "f"), "o": value, "u": unit, "r": "", "c": ""}
            checkup.results.append(
                PreparedResult(spec=spec, interpretation=result, measured_on=exam_dates[exam], payload=payload)
            )
        batches = list(grouped.values())
        stdout.write("storing %d reports…" % len(batches))
        started = time.perf_counter()
        stored = 0
        for start in range(0, len(batches), 200):
            stored += services.results_store(checkups=batches[start : start + 200], source="bench").results
        store_elapsed = time.perf_counter() - started
        figures.update(
            {
                "stored": stored,
                "store_results_per_s": round(stored / store_elapsed),
                "store_s": round(store_elapsed, 3),
                "end_to_end_results_per_s": round(stored / (store_elapsed + elapsed)),
            }
        )
    report = _report_member(union, catalogue, rng)
    member = report.member
    if member.user is None:
        member.user = User.objects.create_user(username="bench_health_member", display_name=member.name)
        member.save(update_fields=["user"])
    if not has_consent(member=member, purpose=ConsentPurpose.HEALTH):
        consent_grant(member=member, purpose=ConsentPurpose.HEALTH, text_version=services.CONSENT_TEXT_VERSION)
    client = Client()
    client.force_login(member.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    url = "/h5/health/reports/%d/" % report.pk
    assert client.get(url).status_code == 200
    page, build, pdf = [], [], []
    for _round in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        page.append(time.perf_counter() - t)
        assert response.status_code == 200
        t = time.perf_counter()
        view = build_report(report)
        build.append(time.perf_counter() - t)
    for _round in range(max(1, repeat // 5)):
        t = time.perf_counter()
        render_report_pdf(view)
        pdf.append(time.perf_counter() - t)
    history = sum(len(s["points"]) for s in view.chart["series"].values())
    figures.update(
        {
            "report_ms": round(statistics.median(page) * 1000, 1),
            "report_p95_ms": round(sorted(page)[int(len(page) * 0.95) - 1] * 1000, 1) if len(page) >= 2 else None,
            "report_build_ms": round(statistics.median(build) * 1000, 1),
            "report_items": len(view.items),
            "report_history_points": history,
            "pdf_ms": round(statistics.median(pdf) * 1000, 1),
        }
    )
    return figures


BENCHMARKS = {"health": (add_arguments, run)}
