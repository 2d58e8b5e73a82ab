"""Demo data for 医疗互助: 苏州市总工会 runs period 6 (finished a year ago) and period 7 (open
now) of the ¥100 standard plan; a few grassroots unions enrol their members in both (so period
7 is a renewal without wait), pay their bills, and claims stand in every state — paid in period
6, and submitted, reviewed, approved, paid and rejected in period 7. Everything goes through the
services as the demo's staff (吴经办 handles and reviews, 郑审核 approves, 王财务 pays)."""

import datetime as dt
from typing import Any

from django.db.models import Count

from gonghui.accounts.models import User
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import Member, MembershipStatus
from gonghui.mutual_aid import services
from gonghui.mutual_aid.models import Enrolment, EnrolmentStatus, Period
from gonghui.organizations.models import Level, Organization

UNITS = 4
MEMBERS_PER_UNIT = 40
HOSPITALS = ("苏州大学附属第一医院", "苏州市立医院", "苏州市中医医院", "苏州科技城医院")
DIAGNOSES = ("肺炎", "急性阑尾炎", "腰椎间盘突出", "冠心病", "胆结石", "2型糖尿病")


def _period(actor: User, org: Organization, number: int, start: dt.date) -> Period:
    end = start + dt.timedelta(days=364)
    return services.period_create(
        actor=actor,
        organization=org,
        data=services.PeriodInput(
            plan="standard",
            number=number,
            name="第%s期职工医疗互助" % number,
            premium_fen=10_000,
            starts_on=start,
            ends_on=end,
            enrol_opens_on=start - dt.timedelta(days=30),
            enrol_closes_on=end - dt.timedelta(days=30),
            min_age=16,
            max_age=65,
        ),
    )


def _list(members: list[Member]) -> bytes:
    lines = ["姓名,证件号码", *("%s,%s" % (m.name, decrypt_id_number(m.id_number_encrypted)) for m in members)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _claim(rng: Any, handler: User, enrolment: Enrolment, admitted: dt.date) -> Any:
    days = rng.randint(3, 20)
    personal = rng.randint(20, 400) * 10_000
    outside = personal * rng.randint(5, 20) // 100
    basic = personal * rng.randint(100, 200) // 100
    serious = rng.choice((0, 0, personal // 4))
    return services.claim_submit(
        actor=handler,
        enrolment=enrolment,
        data=services.ClaimInput(
            hospital=rng.choice(HOSPITALS),
            admitted_on=admitted,
            discharged_on=admitted + dt.timedelta(days=days),
            days=days,
            diagnosis=rng.choice(DIAGNOSES),
            total_fen=basic + serious + personal,
            basic_insurance_fen=basic,
            serious_illness_insurance_fen=serious,
            self_inside_catalogue_fen=personal - outside,
            self_outside_catalogue_fen=outside,
        ),
    )


def seed(context: Any) -> None:
    rng, today = context.rng, context.today
    city = Organization.objects.filter(name="苏州市总工会").first()
    staff = {
        u.username: u
        for u in User.objects.filter(username__in=("demo_admin", "demo_handler", "demo_reviewer", "demo_finance"))
    }
    if city is None or len(staff) < 4:
        return
    admin, handler, reviewer, finance = (
        staff[k] for k in ("demo_admin", "demo_handler", "demo_reviewer", "demo_finance")
    )
    p7_start = today - dt.timedelta(days=150)
    p6_start = p7_start - dt.timedelta(days=365)
    p6 = _period(admin, city, 6, p6_start)
    p7 = _period(admin, city, 7, p7_start)
    units = list(
        Organization.objects.filter(path__startswith=city.path, level=Level.GRASSROOTS)
        .annotate(n=Count("members"))
        .filter(n__gte=1)
        .order_by("-n", "path")[: UNITS * 3]
    )
    enrolled_units = 0
    for unit in units:
        members = list(
            Member.objects.filter(organization=unit, status=MembershipStatus.ACTIVE).order_by("id")[:MEMBERS_PER_UNIT]
        )
        members = [m for m in members if 16 <= (p6_start.year - m.birth_date.year) <= 64]
        if not members:
            continue
        for period, start in ((p6, p6_start), (p7, p7_start)):
            batch = services.enrolment_list_submit(
                actor=handler,
                period=period,
                unit=unit,
                content=_list(members),
                filename="参保名单.csv",
                today=start,
                enqueue=False,
            )
            bill = services.enrolment_batch_run(batch=batch).bills.first()
            if bill is None:
                continue
            if period is p6 or enrolled_units < UNITS - 1:
                services.bill_pay(
                    actor=finance, bill=bill, paid_on=start, payment_ref="YH%s%04d" % (start.year, bill.pk)
                )
        enrolled_units += 1
        if enrolled_units == UNITS:
            break
    claims = 0
    for period, start, states in (
        (p6, p6_start, ["paid"] * 8),
        (p7, p7_start, ["submitted", "submitted", "reviewed", "approved", "paid", "paid", "paid", "rejected"]),
    ):
        enrolments = list(Enrolment.objects.filter(period=period, status=EnrolmentStatus.ACTIVE).order_by("id")[:40])
        rng.shuffle(enrolments)
        for enrolment, state in zip(enrolments, states, strict=False):
            span = max(1, min((today - start).days, 300) - 25)
            claim = _claim(rng, handler, enrolment, start + dt.timedelta(days=rng.randint(0, span)))
            claims += 1
            if state == "submitted":
                continue
            if state == "rejected":
                services.claim_reject(
                    actor=handler, claim=claim, code="documents", reason="住院发票复印件不清晰，请补交原件"
                )
                continue
            claim = services.claim_review(actor=handler, claim=claim)
            if state == "reviewed":
                continue
            claim = services.claim_approve(actor=reviewer, claim=claim)
            if state == "approved":
                continue
            paid_on = min(today, claim.discharged_on + dt.timedelta(days=20))
            services.claim_pay(actor=finance, claim=claim, paid_on=paid_on, payout_ref="ZF%06d" % claim.pk)
    context.stdout.write("  医疗互助：第6、7期，%(u)s 个单位参保，%(c)s 笔结报" % {"u": enrolled_units, "c": claims})
