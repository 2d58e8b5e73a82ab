"""`python manage.py bench competition --entrants 300 --judges 5`

A skill competition of one union: `--entrants` members entered through `entrant_add`, `--judges`
judges each scoring every entry through `score_submit` (the rubric check, the stage lock, the
unique score, the audit event) on `--workers` threads with their own database connections;
then the stage's results are computed and published (`stage_publish`). Prints
`scores_per_s`, `publish_ms` and `results_ok` (every entry has a result, ranks are 1..n in
order of result, the first prize went to rank 1). The organisations and members are made
beforehand with bulk inserts (not timed)."""

import argparse
import datetime as dt
import itertools
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

from gonghui.accounts.models import User
from gonghui.competitions import services
from gonghui.competitions.models import Award, CompetitionKind, Entry, ScoringRule, Stage
from gonghui.core.identifiers import make_resident_id
from gonghui.core.permissions import Role
from gonghui.members.identity import identity_from_raw, new_card_no, new_member_no
from gonghui.members.models import Member
from gonghui.organizations.models import Level
from gonghui.organizations.services import organization_create, role_grant


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entrants", type=int, default=300)
    parser.add_argument("--judges", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20260717)


def _setup(entrants: int, judges: int) -> tuple[Stage, User, list[User]]:
    tag = str(time.time_ns())[-8:]
    root = organization_create(
        actor=None, parent=None, code="BENCH-CP-%s" % tag, name="竞赛基准总工会", level=Level.CITY, region_code="370600"
    )
    union = organization_create(
        actor=None,
        parent=root,
        code=root.code + "-U",
        name="竞赛基准企业工会",
        level=Level.GRASSROOTS,
        region_code="370600",
    )
    members = []
    base = dt.date(1970, 1, 1) + dt.timedelta(days=int(tag) % 9000)  # a run's own ID numbers
    for i in range(entrants):
        identity = identity_from_raw(make_resident_id("370600", base + dt.timedelta(days=i // 500), i % 500, "M"))
        members.append(
            Member(
                organization=union,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name="选手%d" % i,
                sex=identity.resident.sex,
                birth_date=identity.resident.birth_date,
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                joined_on=dt.date(2015, 1, 1),
            )
        )
    Member.objects.bulk_create(members, batch_size=2000)
    organiser = User.objects.create_staff_user(username="bench_cp_org_%s" % tag, password=None)
    role_grant(actor=None, user=organiser, organization=union, role=Role.HANDLER)
    reviewer = User.objects.create_staff_user(username="bench_cp_rev_%s" % tag, password=None)
    role_grant(actor=None, user=reviewer, organization=root, role=Role.REVIEWER)
    c = services.competition_apply(
        actor=organiser,
        organization=union,
        kind=CompetitionKind.SKILL,
        title="基准技能竞赛",
        organiser="竞赛基准企业工会",
        plan="基准",
        targets="参赛职工 %d 人" % entrants,
        trades="焊工",
        budget_yuan="1000",
        starts_on="2026-07-01",
        ends_on="2026-07-31",
    )
    c = services.competition_decide(actor=reviewer, competition=c, approve=True)
    services.criterion_add(actor=organiser, competition=c, name="操作", max_points="60")
    services.criterion_add(actor=organiser, competition=c, name="质量", max_points="40")
    stage = services.stage_add(
        actor=organiser, competition=c, name="决赛", scored=True, rule=ScoringRule.TRIMMED, min_scores=3, first_prizes=1
    )
    for m in Member.objects.filter(organization=union).order_by("pk"):
        services.entrant_add(actor=organiser, competition=c, member_no=m.member_no)
    panel = []
    for j in range(judges):
        user = User.objects.create_staff_user(username="bench_cp_j%d_%s" % (j, tag), password=None)
        role_grant(actor=None, user=user, organization=union, role=Role.REDEEMER)
        services.judge_assign(actor=organiser, competition=c, username=user.username)
        panel.append(user)
    c = services.competition_start(actor=organiser, competition=c)
    return services.stage_open(actor=organiser, stage=Stage.objects.get(pk=stage.pk)), organiser, panel


def run(*, stdout: Any, entrants: int, judges: int, workers: int, seed: int, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    stdout.write("building a competition of %d entrants and %d judges…" % (entrants, judges))
    stage, organiser, panel = _setup(entrants, judges)
    criteria = [str(c.pk) for c in stage.competition.criteria.all()]
    entries = list(stage.entries.all())
    work = [
        (judge, entry, {criteria[0]: str(rng.randint(20, 60)), criteria[1]: str(rng.randint(10, 40))})
        for entry in entries
        for judge in panel
    ]
    rng.shuffle(work)

    def submit(chunk: list[tuple[User, Entry, dict[str, str]]]) -> None:
        try:
            for judge, entry, points in chunk:
                services.score_submit(actor=judge, entry=entry, points=points)
        finally:
            connection.close()

    chunks = [work[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(submit, chunks))
    scoring_s = time.perf_counter() - start
    start = time.perf_counter()
    services.stage_publish(actor=organiser, stage=stage)
    publish_ms = (time.perf_counter() - start) * 1000
    rows = list(Entry.objects.filter(stage=stage).order_by("rank", "id").values_list("rank", "result", "award"))
    complete = [(rank, result, award) for rank, result, award in rows if rank is not None and result is not None]
    ordered = all(a[1] >= b[1] and a[0] <= b[0] for a, b in itertools.pairwise(complete))
    ok = len(complete) == entrants and ordered and bool(complete) and complete[0][2] == Award.FIRST
    return {
        "entrants": entrants,
        "judges": judges,
        "scores": len(work),
        "scores_per_s": round(len(work) / scoring_s, 1),
        "publish_ms": round(publish_ms, 1),
        "results_ok": ok,
    }


BENCHMARKS = {"competition": (add_arguments, run)}
