"""Demo data for screening: small agency files of 苏州市 (a 低保 list, 医保 settlements, 失业登记 and
工伤认定) naming some demo members and some people who are not members — and one bad row, to
show the error report — uploaded by the demo handler, and one completed run over the city."""

import csv
import datetime as dt
import io
from typing import Any

from gonghui.accounts.models import User
from gonghui.core import jobs
from gonghui.core.identifiers import make_resident_id
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import Member, MembershipStatus
from gonghui.organizations.models import Organization
from gonghui.screening import services
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import EngineName

PEOPLE = 16


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _strangers(rng: Any, count: int) -> list[str]:
    return [
        make_resident_id(
            "320505", dt.date(1970 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)), i, "M"
        )
        for i in range(count)
    ]


def _upload(actor: Any, city: Organization, kind: str, name: str, content: bytes) -> None:
    dataset = services.dataset_upload(
        actor=actor, organization=city, kind=kind, name=name, filename="%s.csv" % name, content=content
    )
    jobs.job_execute(job_id=dataset.job_id)


def seed(context: Any) -> None:
    tree = context.shared.get("tree")
    city = tree.cities.get("苏州市") if tree is not None else Organization.objects.filter(name="苏州市总工会").first()
    actor = User.objects.filter(username="demo_handler").first()
    if city is None or actor is None:
        return
    rng, today = context.rng, context.today
    members = list(
        Member.objects.filter(organization__path__startswith=city.path, status=MembershipStatus.ACTIVE)
        .order_by("id")
        .only("id", "name", "id_number_encrypted")[:200]
    )
    if len(members) < PEOPLE:
        return
    chosen = rng.sample(members, PEOPLE)
    ids = [decrypt_id_number(m.id_number_encrypted) for m in chosen]
    strangers = _strangers(rng, 6)
    year_start = dt.date(today.year, 1, 1)

    def day(back: int, *, floor: dt.date | None = None) -> str:
        value = today - dt.timedelta(days=back)
        return max(value, floor).isoformat() if floor else value.isoformat()

    dibao = [[m.name, ids[i], day(200 + 30 * i), "%d" % (780 + 20 * i)] for i, m in enumerate(chosen[:4])]
    dibao += [["王五", strangers[0], day(400), "780"], ["赵六", "32050519800101123", day(100), "780"]]
    _upload(
        actor,
        city,
        DatasetKind.MZ_DIBAO,
        "苏州市民政局低保名单",
        _csv(["姓名", "身份证号码", "认定日期", "月保障金额"], dibao),
    )

    settlements: list[list[Any]] = []
    for i in range(4, 10):
        heavy = i < 7  # three members above the 大病救助 line
        for visit in range(3):
            amount = 22000 + 1500 * i if heavy else 800 + 90 * visit
            settlements.append([ids[i], day(20 + 40 * visit, floor=year_start), "%d.%02d" % (amount, visit * 7)])
    settlements += [[s, day(15, floor=year_start), "61000.00"] for s in strangers[1:3]]
    _upload(
        actor,
        city,
        DatasetKind.YB_SETTLEMENT,
        "苏州市医保局结算明细",
        _csv(["身份证号码", "结算日期", "个人负担金额", "医疗类别"], [[*row, "住院"] for row in settlements]),
    )
    unemployment = [[ids[i], day(5 + 7 * i)] for i in range(10, 13)] + [[strangers[3], day(12)]]
    _upload(
        actor,
        city,
        DatasetKind.RS_UNEMPLOYMENT,
        "苏州市人社局失业登记",
        _csv(["身份证号码", "失业登记日期"], unemployment),
    )
    injury = [[ids[13], day(40), "职业病"], [ids[14], day(90), "工伤"], [strangers[4], day(30), "工伤"]]
    _upload(
        actor, city, DatasetKind.RS_INJURY, "苏州市人社局工伤认定", _csv(["身份证号码", "认定日期", "认定结论"], injury)
    )

    services.rules_install_shipped()
    run = services.run_start(
        actor=actor, organization=city, reference_date=today, engine=EngineName.DUCKDB, enqueue=False
    )
    finished = jobs.job_execute(job_id=run.job_id)
    run.refresh_from_db()
    context.stdout.write(
        "  筛查比对：4 份部门数据，筛查 #%(id)s 产生 %(n)s 条线索（%(status)s）"
        % {"id": run.pk, "n": run.candidates_count, "status": finished.get_status_display() if finished else ""}
    )
