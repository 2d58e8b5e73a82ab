"""Periods, enrolled members and claims for the mutual-aid tests, made through the services."""

import datetime as dt
from typing import Any

from gonghui.core.permissions import Role
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import Member
from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Bill, Claim, Enrolment, EnrolmentBatch, Period
from gonghui.site.testing import grant, make_user

START = dt.date(2026, 1, 1)


def period_input(**overrides: Any) -> services.PeriodInput:
    values: dict[str, Any] = {
        "plan": "standard",
        "number": 7,
        "name": "第7期职工医疗互助",
        "premium_fen": 10_000,
        "starts_on": START,
        "ends_on": dt.date(2026, 12, 31),
        "enrol_opens_on": dt.date(2025, 12, 1),
        "enrol_closes_on": dt.date(2026, 11, 30),
        "min_age": 16,
        "max_age": 65,
    }
    values.update(overrides)
    return services.PeriodInput(**values)


def make_period(actor: Any, org: Any, **overrides: Any) -> Period:
    return services.period_create(actor=actor, organization=org, data=period_input(**overrides))


def list_csv(members: list[Member], extra: list[tuple[str, str]] = ()) -> bytes:  # type: ignore[assignment]
    lines = ["姓名,证件号码"]
    lines += ["%s,%s" % (m.name, decrypt_id_number(m.id_number_encrypted)) for m in members]
    lines += ["%s,%s" % pair for pair in extra]
    return ("\n".join(lines) + "\n").encode("utf-8")


def commit_list(actor: Any, period: Period, unit: Any, content: bytes, *, today: dt.date = START) -> EnrolmentBatch:
    """Submit a list and run its job as the worker would."""
    batch = services.enrolment_list_submit(
        actor=actor, period=period, unit=unit, content=content, filename="名单.csv", today=today, enqueue=False
    )
    return services.enrolment_batch_run(batch=batch)


def bill_for(actor: Any, period: Period, unit: Any, members: list[Member], *, today: dt.date = START) -> Bill:
    batch = commit_list(actor, period, unit, list_csv(members), today=today)
    assert batch.bill_count == 1, batch.error_message
    return batch.bills.get()


def enrol(actor: Any, period: Period, unit: Any, members: list[Member], *, paid_on: dt.date = START) -> Bill:
    bill = bill_for(actor, period, unit, members, today=paid_on)
    return services.bill_pay(actor=actor, bill=bill, paid_on=paid_on, payment_ref="PAY-%s" % bill.pk)


def claim_input(**overrides: Any) -> services.ClaimInput:
    values: dict[str, Any] = {
        "hospital": "苏州市立医院",
        "admitted_on": dt.date(2026, 6, 1),
        "discharged_on": dt.date(2026, 6, 10),
        "days": 9,
        "diagnosis": "肺炎",
        "total_fen": 2_000_000,
        "basic_insurance_fen": 400_000,
        "serious_illness_insurance_fen": 50_000,
        "self_inside_catalogue_fen": 1_500_000,
        "self_outside_catalogue_fen": 50_000,
    }
    values.update(overrides)
    return services.ClaimInput(**values)


def submit(actor: Any, enrolment: Enrolment, **overrides: Any) -> Claim:
    return services.claim_submit(actor=actor, enrolment=enrolment, data=claim_input(**overrides))


def approver_of(org: Any) -> Any:
    return grant(make_user(), org, Role.REVIEWER)


def finance_of(org: Any) -> Any:
    return grant(make_user(), org, Role.FINANCE)
