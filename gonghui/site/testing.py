"""Shared test helpers: factories and the four-actor world every permission test reuses.

The world: a province federation with two sibling grassroots unions A and B under one street
union. Actors: `member_a` (a member of A with a login), `staff_a` (管理员+经办人+审核人 of A),
`staff_b` (the same roles on sibling B), and `federation_admin` (管理员 of the province);
`member_b` (a member of B, with a login too, to try member A's H5 pages) and `auditor_b`
(审计员 of B, to try reading A's audit trail)."""

import datetime as dt
import io
import itertools
import random
import zipfile
from dataclasses import dataclass
from typing import Any

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from openpyxl import Workbook

from gonghui.accounts.models import User
from gonghui.core.identifiers import make_resident_id
from gonghui.core.middleware import SESSION_OTP_OK
from gonghui.core.permissions import Role
from gonghui.members.identity import identity_from_raw, name_initials, new_card_no, new_member_no
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create, role_grant

_seq = itertools.count(1)


def make_org(parent: Organization | None, level: int, name: str | None = None, region: str = "320500") -> Organization:
    n = next(_seq)
    return organization_create(
        actor=None,
        parent=parent,
        code=f"T{n:06d}",
        name=name or f"测试工会{n}",
        level=level,
        region_code=region,
    )


def make_user(username: str | None = None, *, password: str = "Gonghui-test-2026", **roles_on: Any) -> User:
    n = next(_seq)
    return User.objects.create_staff_user(username=username or f"user{n}", password=password, display_name=f"用户{n}")


def grant(user: User, org: Organization, *roles: str) -> User:
    for role in roles:
        role_grant(actor=None, user=user, organization=org, role=role)
    return user


def make_member(
    org: Organization,
    *,
    name: str = "张三",
    phone: str | None = None,
    birth: dt.date | None = None,
    sex: str = "M",
    tags: int = 0,
    user: User | None = None,
    **fields: Any,
) -> Member:
    n = next(_seq)
    birth = birth or dt.date(1985, 1, 1) + dt.timedelta(days=n % 7000)
    number = make_resident_id(org.region_code, birth, n % 500, sex)
    identity = identity_from_raw(number)
    return Member.objects.create(
        organization=org,
        user=user,
        member_no=new_member_no(),
        card_no=new_card_no(),
        name=name,
        name_initials=name_initials(name),
        sex=identity.resident.sex,
        birth_date=identity.resident.birth_date,
        id_number_encrypted=identity.encrypted,
        id_blind=identity.blind,
        id_masked=identity.masked,
        phone=phone or f"139{random.randint(0, 99999999):08d}",
        joined_on=dt.date(2020, 5, 1),
        tags=tags,
        **fields,
    )


@dataclass
class World:
    province: Organization
    city: Organization
    street: Organization
    union_a: Organization
    union_b: Organization
    member_a: Member
    member_b: Member
    staff_a: User
    staff_b: User
    federation_admin: User
    auditor_b: User

    def client_for(self, user: User) -> Client:
        """A client signed in as `user`, with the second factor already passed."""
        client = Client()
        client.force_login(user, backend="gonghui.accounts.backends.StaffPasswordBackend")
        session = client.session
        session[SESSION_OTP_OK] = True
        session.save()
        return client


def build_world() -> World:
    province = make_org(None, Level.PROVINCE, "江苏省总工会", "320000")
    city = make_org(province, Level.CITY, "苏州市总工会", "320500")
    county = make_org(city, Level.COUNTY, "姑苏区总工会", "320508")
    street = make_org(county, Level.STREET, "平江街道总工会", "320508")
    union_a = make_org(street, Level.GRASSROOTS, "苏州甲公司工会", "320508")
    union_b = make_org(street, Level.GRASSROOTS, "苏州乙公司工会", "320508")
    member_user = User.objects.create_user(username="member_a_user", display_name="张三")
    member_a = make_member(union_a, name="张三", phone="13900000001", user=member_user)
    member_b_user = User.objects.create_user(username="member_b_login", display_name="李四")
    member_b = make_member(union_b, name="李四", phone="13900000002", user=member_b_user)
    staff_a = grant(make_user("staff_a"), union_a, Role.ADMIN, Role.HANDLER, Role.REVIEWER, Role.REDEEMER, Role.HEALTH)
    staff_b = grant(make_user("staff_b"), union_b, Role.ADMIN, Role.HANDLER, Role.REVIEWER, Role.REDEEMER, Role.HEALTH)
    federation_admin = grant(make_user("fed_admin"), province, Role.ADMIN)
    auditor_b = grant(make_user("world_auditor_b"), union_b, Role.AUDITOR)
    return World(
        province, city, street, union_a, union_b, member_a, member_b, staff_a, staff_b, federation_admin, auditor_b
    )


def xlsx_shared_string_bomb(chars: int) -> bytes:
    """A small XLSX (written with `zipfile`, as an attacker would) whose only cell is a shared
    string of `chars` repeated characters: 60 million of them pack into about 60 KB."""

    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
            'formats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
            'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'
            "</worksheet>"
        ),
        "xl/sharedStrings.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" count="1" uniqueCount="1"><si><t>' + "A" * chars + "</t></si></sst>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def xlsx_of(rows: list[list[Any]]) -> bytes:
    """An ordinary XLSX of `rows` (the first row being the header)."""

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- data migrations, tested by moving one app back and forth -------------------------------


def migrate_app(app: str, name: str) -> Apps:
    """Move `app` to its migration `name` and return the historical models there. Going back
    also unapplies the migrations of other apps that depend on a later one of `app` (a newer
    module's tables), so those apps are left out of the returned state; `migrate_all` puts
    them back. Every other app stays at its latest migration."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    target = (app, name)
    kept = set(graph.forwards_plan(target))
    others = [
        leaf
        for leaf in graph.leaf_nodes()
        if leaf[0] != app and all(node[0] != app or node in kept for node in graph.forwards_plan(leaf))
    ]
    executor.migrate([target])
    return executor.loader.project_state([target, *others]).apps


def migrate_all() -> None:
    """Every app to its latest migration: what a test that moved an app back leaves behind."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
