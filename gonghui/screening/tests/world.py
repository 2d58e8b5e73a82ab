"""A screening world on top of the four-actor world: agency files for the city, with members of
unions A and B on them, and the dates the runs look at."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gonghui.members.models import Member
from gonghui.screening.kinds import DatasetKind
from gonghui.screening.models import Dataset
from gonghui.screening.tests.helpers import csv_bytes, id_of, upload
from gonghui.site.testing import World, make_member

REFERENCE = dt.date(2026, 6, 30)
STRANGER = "110105194912310029"  # on the agency's list, not a member


@dataclass
class ScreeningWorld:
    world: World
    sick: Member  # 医保 spend above the line (union B)
    poor: Member  # on the 低保 list (union A)
    jobless: Member  # a new 失业登记 (union A)
    injured: Member  # a 工伤认定 (union B)
    datasets: dict[str, Dataset]


def medical_rows(member: Member, yuan: list[str], *, day: str = "2026-03-0") -> list[list[Any]]:
    return [[id_of(member), f"{day}{i + 1}", amount] for i, amount in enumerate(yuan)]


def upload_medical(world: World, rows: list[list[Any]]) -> Dataset:
    content = csv_bytes(["身份证号码", "结算日期", "个人负担金额"], rows)
    return upload(world.federation_admin, world.city, DatasetKind.YB_SETTLEMENT, content, name="医保结算明细")


def upload_dibao(world: World, members: list[Member]) -> Dataset:
    rows = [[m.name, id_of(m), "2025-11-01", "780"] for m in members] + [["王五", STRANGER, "2025-01-01", "780"]]
    content = csv_bytes(["姓名", "身份证号码", "认定日期", "月保障金额"], rows)
    return upload(world.federation_admin, world.city, DatasetKind.MZ_DIBAO, content, name="低保名单")


def build(world: World) -> ScreeningWorld:
    sick, poor = world.member_b, world.member_a
    jobless = make_member(world.union_a, name="赵六")
    injured = make_member(world.union_b, name="钱七")
    make_member(world.union_a, name="孙八")  # on no list
    datasets = {
        "yb": upload_medical(
            world,
            [
                *medical_rows(sick, ["35000.00", "30000.50"]),
                *medical_rows(poor, ["9000"]),
                # Last year's spend does not count towards this year's line.
                [id_of(poor), "2025-12-20", "80000"],
                [STRANGER, "2026-02-01", "90000"],
            ],
        ),
        "dibao": upload_dibao(world, [poor]),
        "unemployment": upload(
            world.federation_admin,
            world.city,
            DatasetKind.RS_UNEMPLOYMENT,
            csv_bytes(["身份证号码", "失业登记日期"], [[id_of(jobless), "2026-06-10"], [id_of(sick), "2025-01-10"]]),
        ),
        "injury": upload(
            world.federation_admin,
            world.city,
            DatasetKind.RS_INJURY,
            csv_bytes(["身份证号码", "认定日期", "认定结论"], [[id_of(injured), "2026-05-20", "职业病"]]),
        ),
    }
    return ScreeningWorld(world, sick, poor, jobless, injured, datasets)
