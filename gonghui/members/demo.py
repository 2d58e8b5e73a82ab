"""Synthetic members for the demo and the benchmarks: Chinese names, valid ID numbers from
the union's district, phones, and tags that fit the kind of workplace."""

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from gonghui.core import audit, workflow
from gonghui.core.identifiers import ResidentId, make_resident_id, parse_resident_id
from gonghui.members.identity import name_initials, new_card_no, new_member_no, protect_id_number
from gonghui.members.models import (
    Education,
    HardshipClass,
    HouseholdType,
    JoinApplication,
    JoinMethod,
    Member,
    ModelWorkerLevel,
    Tag,
)
from gonghui.members.workflows import JOIN_APPLICATION
from gonghui.organizations.models import Organization

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬飞桂兰志强建华建国国平丹萍鹏辉波宁俊浩宇欣怡子涵梓萱雨轩思远佳琪晨阳天佑文博海燕春梅晓东立新卫东家豪嘉怡"

KIND_TAGS: dict[str, list[tuple[int, float]]] = {
    "courier": [(Tag.COURIER | Tag.NEW_FORM | Tag.OUTDOOR, 0.8)],
    "delivery": [(Tag.FOOD_DELIVERY | Tag.NEW_FORM | Tag.OUTDOOR, 0.7)],
    "logistics": [(Tag.TRUCK_DRIVER | Tag.NEW_FORM, 0.5)],
    "sanitation": [(Tag.SANITATION | Tag.OUTDOOR, 0.85)],
    "construction": [(Tag.OUTDOOR, 0.7)],
    "transport": [(Tag.RIDE_HAILING | Tag.NEW_FORM, 0.2)],
}


@dataclass(frozen=True)
class DemoPerson:
    name: str
    phone: str


def chinese_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _members_for(
    org: Organization, kind: str, count: int, rng: random.Random, phones: Iterator[str], seen_blind: set[str]
) -> list[Member]:
    """`count` new members of `org`; an ID number drawn twice (or registered already) is drawn
    again, so exactly `count` are made."""
    members: list[Member] = []
    today = timezone.localdate()
    while len(members) < count:
        sex = "M" if rng.random() < (0.8 if kind in KIND_TAGS else 0.55) else "F"
        birth = _birth_date(today, rng)
        resident_number = make_resident_id(org.region_code, birth, rng.randint(0, 499), sex)
        identity = protect_id_number(_parse(resident_number))
        if identity.blind in seen_blind:
            continue
        seen_blind.add(identity.blind)
        household = rng.choices(list(HouseholdType), weights=[5, 4, 1])[0]
        tags = 0
        for bits, share in KIND_TAGS.get(kind, []):
            if rng.random() < share:
                tags |= bits
        if household == HouseholdType.RURAL:
            tags |= Tag.MIGRANT
        name = chinese_name(rng)
        members.append(
            Member(
                organization=org,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name=name,
                name_initials=name_initials(name),
                sex=sex,
                birth_date=birth,
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                phone=next(phones),
                education=rng.choice(list(Education)),
                household_type=household,
                household_place=rng.choice(
                    ["江苏苏州", "江苏南京", "安徽阜阳", "河南周口", "四川达州", "江苏盐城", "山东临沂"]
                ),
                work_unit=org.unit_name,
                joined_on=_joined_on(birth, today, rng),
                join_method=rng.choice(list(JoinMethod)[:3]),
                tags=tags,
                model_worker_level=ModelWorkerLevel.CITY if rng.random() < 0.005 else "",
                hardship_class=rng.choices(["", HardshipClass.RELATIVE, HardshipClass.DEEP], weights=[97, 2, 1])[0],
            )
        )
    return members


def _parse(number: str) -> ResidentId:
    return parse_resident_id(number, today=timezone.localdate())


def _birth_date(today: dt.date, rng: random.Random) -> dt.date:
    """Aged 22 to 60 today, whatever the date."""
    return today - dt.timedelta(days=rng.randint(22 * 365 + 6, 60 * 365))


def _joined_on(birth: dt.date, today: dt.date, rng: random.Random) -> dt.date:
    """After the 18th birthday and at least a month before today (members are at least 22)."""
    joined = birth + dt.timedelta(days=rng.randint(18 * 365 + 5, 45 * 365))
    latest = today - dt.timedelta(days=30)
    return joined if joined <= latest else latest - dt.timedelta(days=rng.randint(0, 3 * 365))


def phone_numbers(rng: random.Random, reserved: set[str]) -> Iterator[str]:
    seen = set(reserved)
    while True:
        phone = (
            rng.choice(
                ["139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "182", "187", "188", "199"]
            )
            + f"{rng.randint(0, 99_999_999):08d}"
        )
        if phone not in seen:
            seen.add(phone)
            yield phone


def seed_members(
    *, grassroots: list[tuple[Organization, str]], total: int, rng: random.Random, reserved_phones: set[str]
) -> int:
    """Spread exactly `total` members over the grassroots unions (bigger factories, smaller
    stations); returns how many were made (`total`)."""
    counts = spread_counts(total, [rng.uniform(0.3, 3.0) for _ in grassroots])
    phones = phone_numbers(rng, reserved_phones | set(Member.objects.values_list("phone", flat=True)))
    created = 0
    seen_blind: set[str] = set(Member.objects.values_list("id_blind", flat=True))
    for (org, kind), count in zip(grassroots, counts, strict=True):
        if not count:
            continue
        batch = _members_for(org, kind, count, rng, phones, seen_blind)
        with transaction.atomic():
            Member.objects.bulk_create(batch, batch_size=2000)
            audit.record(actor=None, action="member.seed", organization=org, detail={"count": len(batch)})
        created += len(batch)
    return created


def spread_counts(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, by largest remainder: the parts sum to `total`
    exactly, and every part gets at least one while there are enough to go round."""
    floor = 1 if total >= len(weights) else 0
    rest = total - floor * len(weights)
    shares = [w / sum(weights) * rest for w in weights]
    counts = [floor + int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: int(shares[i]) - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def add_named_member(
    *, org: Organization, name: str, phone: str, sex: str, birth: dt.date, tags: int, rng: random.Random
) -> Member:
    """A demo member with a known phone, for the printed demo logins."""
    number = make_resident_id(org.region_code, birth, rng.randint(0, 499), sex)
    identity = protect_id_number(_parse(number))
    member = Member.objects.create(
        organization=org,
        member_no=new_member_no(),
        card_no=new_card_no(),
        name=name,
        name_initials=name_initials(name),
        sex=sex,
        birth_date=birth,
        id_number_encrypted=identity.encrypted,
        id_blind=identity.blind,
        id_masked=identity.masked,
        phone=phone,
        household_type=HouseholdType.RURAL if tags & Tag.MIGRANT else HouseholdType.URBAN,
        work_unit=org.unit_name,
        joined_on=dt.date(2021, 3, 1),
        tags=tags,
    )
    audit.record(actor=None, action="member.seed", obj=member, organization=org)
    return member


def add_join_applications(*, org: Organization, count: int, rng: random.Random, phones: Iterator[str]) -> int:
    """Pending 网上申请入会 for the union's review list (new-form workers, as most are)."""

    work_units = ["美团外卖苏州站", "饿了么姑苏站", "顺丰速运姑苏营业部", "滴滴出行苏州", "苏州货拉拉"]
    kinds = [Tag.FOOD_DELIVERY, Tag.FOOD_DELIVERY, Tag.COURIER, Tag.RIDE_HAILING, Tag.TRUCK_DRIVER]
    created = 0
    today = timezone.localdate()
    while created < count:
        i = created
        birth = today - dt.timedelta(days=rng.randint(25 * 365, 40 * 365))
        identity = protect_id_number(_parse(make_resident_id(org.region_code, birth, rng.randint(0, 499), "M")))
        if (
            Member.objects.filter(id_blind=identity.blind).exists()
            or JoinApplication.objects.filter(id_blind=identity.blind).exists()
        ):
            continue
        application = JoinApplication.objects.create(
            organization=org,
            name=chinese_name(rng),
            id_number_encrypted=identity.encrypted,
            id_blind=identity.blind,
            id_masked=identity.masked,
            phone=next(phones),
            details={"work_unit": work_units[i % 5], "tags": int(kinds[i % 5] | Tag.NEW_FORM), "ethnicity": "汉族"},
        )
        workflow.workflow_start(actor=None, obj=application, workflow=JOIN_APPLICATION, organization=org)
        created += 1
    return created
