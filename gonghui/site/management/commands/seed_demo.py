"""Build the demo province: organisations, staff accounts for every role, 20,000 members by
default, and each domain's own demo data (campaigns, check-ups …) from the seeders the apps
register in their AppConfig.ready() (`core.registry.seeder`)."""

import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import TOTP_PURPOSE
from gonghui.core import audit, crypto, registry
from gonghui.core.models import AuditEvent
from gonghui.core.permissions import ROLES_REQUIRING_TOTP, Role
from gonghui.members.demo import add_join_applications, add_named_member, phone_numbers, seed_members
from gonghui.members.models import Member, Tag
from gonghui.organizations.demo import build_tree
from gonghui.organizations.models import Organization
from gonghui.organizations.services import role_grant

DEMO_PASSWORD = "Gonghui@2026"  # noqa: S105 - printed for the demo on purpose
# Known TOTP secrets so a demo visitor can sign in as 管理员/审计员 with `manage.py totp_code`.
DEMO_TOTP = {"demo_admin": "JBSWY3DPEHPK3PXPDEMOADMN", "demo_auditor": "JBSWY3DPEHPK3PXPDEMOAUDT"}
STAFF = (
    ("demo_admin", "周管理", Role.ADMIN),
    ("demo_handler", "吴经办", Role.HANDLER),
    ("demo_reviewer", "郑审核", Role.REVIEWER),
    ("demo_finance", "王财务", Role.FINANCE),
    ("demo_redeemer", "冯核销", Role.REDEEMER),
    ("demo_health", "陈健康", Role.HEALTH),
    ("demo_auditor", "褚审计", Role.AUDITOR),
)
MIN_MEMBERS = 200
JOIN_APPLICATIONS = 4
NAMED_MEMBERS = (
    ("13800000001", "张伟", "M", Tag.FOOD_DELIVERY | Tag.NEW_FORM | Tag.OUTDOOR | Tag.MIGRANT, "delivery"),
    ("13800000002", "李娜", "F", Tag.COURIER | Tag.NEW_FORM | Tag.OUTDOOR, "courier"),
    ("13800000003", "王强", "M", Tag.SANITATION | Tag.OUTDOOR, "sanitation"),
    ("13800000004", "刘芳", "F", 0, "factory"),
    ("13800000005", "陈磊", "M", Tag.TRUCK_DRIVER | Tag.NEW_FORM | Tag.MIGRANT, "logistics"),
)


SEED_COMPLETE = "demo.seed_complete"  # the audit event written last, in the seed's transaction
DEFAULT_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Load the demo province (organisations, staff for every role, members, domain data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=20_000, help="how many members (at least 200)")
        parser.add_argument("--seed", type=int, default=20260722)
        parser.add_argument("--url", default=DEFAULT_URL, help="where the demo is served, for the printed links")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if a complete demo is loaded already; an incomplete one (SQLite) is rebuilt",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["members"] < MIN_MEMBERS:
            raise CommandError("--members 至少为 %(min)d" % {"min": MIN_MEMBERS})
        self.url = options["url"].rstrip("/")
        if options["if_empty"] and Organization.objects.exists():
            if AuditEvent.objects.filter(action=SEED_COMPLETE).exists():
                self.stdout.write("演示数据已存在，跳过（删除 var/demo.sqlite3 可重新生成）。")
                self._print_accounts()
                return
            self._discard_incomplete()
        elif Organization.objects.exists():
            raise CommandError("数据库中已有组织数据：演示数据只能载入空数据库")
        started = time.monotonic()
        # All or nothing: an interrupted or failed seed leaves the database as it was.
        with transaction.atomic():
            self._seed(rng=random.Random(options["seed"]), members=options["members"])
        self.stdout.write(f"完成，用时 {time.monotonic() - started:.1f} 秒。")
        self._print_accounts()

    def _discard_incomplete(self) -> None:
        """A seed that never finished (from before seeds were one transaction): start over
        from an empty SQLite file; any other database has to be emptied by its owner."""
        database = settings.DATABASES["default"]
        if "sqlite" not in database["ENGINE"] or str(database["NAME"]) == ":memory:":
            raise CommandError("数据库中有不完整的演示数据，请清空数据库后重新运行 seed_demo")
        self.stdout.write("发现未完成的演示数据，删除后重新生成。")
        connections.close_all()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database['NAME']}{suffix}").unlink(missing_ok=True)
        call_command("migrate", interactive=False, verbosity=0)

    def _seed(self, *, rng: random.Random, members: int) -> None:
        tree = build_tree(rng=rng)
        self.stdout.write(f"组织：{Organization.objects.count()} 个（基层工会 {len(tree.grassroots)} 个）")
        suzhou = tree.cities["苏州市"]
        for username, display, role in STAFF:
            user = User.objects.create_staff_user(username=username, password=DEMO_PASSWORD, display_name=display)
            if role in ROLES_REQUIRING_TOTP:
                user.totp_secret_encrypted = crypto.encrypt(DEMO_TOTP[username], purpose=TOTP_PURPOSE)
                user.totp_confirmed = True
                user.save(update_fields=["totp_secret_encrypted", "totp_confirmed"])
            role_grant(actor=None, user=user, organization=suzhou, role=role)
        suzhou_grassroots = [(org, kind) for org, kind in tree.grassroots if org.path.startswith(suzhou.path)]
        union, _kind = suzhou_grassroots[0]
        grassroots_user = User.objects.create_staff_user(
            username="demo_grassroots", password=DEMO_PASSWORD, display_name="钱基层"
        )
        for role in (Role.HANDLER, Role.REVIEWER):
            role_grant(actor=None, user=grassroots_user, organization=union, role=role)
        province_user = User.objects.create_staff_user(
            username="demo_province", password=DEMO_PASSWORD, display_name="孙省总"
        )
        role_grant(actor=None, user=province_user, organization=tree.province, role=Role.HANDLER)
        by_kind: dict[str, Organization] = {}
        for org, kind in suzhou_grassroots:
            by_kind.setdefault(kind, org)
        for phone, name, sex, tags, kind in NAMED_MEMBERS:
            org = by_kind.get(kind, union)
            add_named_member(org=org, name=name, phone=phone, sex=sex, birth=_birth(rng), tags=tags, rng=rng)
        created = seed_members(
            grassroots=tree.grassroots,
            total=members - len(NAMED_MEMBERS),
            rng=rng,
            reserved_phones={p for p, *_ in NAMED_MEMBERS},
        )
        self.stdout.write(f"会员：{created + len(NAMED_MEMBERS)} 名")
        applications = add_join_applications(
            org=union,
            count=JOIN_APPLICATIONS,
            rng=rng,
            phones=phone_numbers(rng, set(Member.objects.values_list("phone", flat=True))),
        )
        self.stdout.write(f"入会申请：{applications} 份待审核")
        context = registry.SeedContext(
            rng=rng, stdout=self.stdout, today=timezone.localdate(), shared={"tree": tree, "union": union}
        )
        for seeder in registry.seeders():
            seeder.run(context)
            self.stdout.write(f"{seeder.label or seeder.name}：演示数据已生成")
        audit.record(
            actor=None,
            action=SEED_COMPLETE,
            organization=tree.province,
            detail={"members": created + len(NAMED_MEMBERS), "join_applications": applications},
        )

    def _print_accounts(self) -> None:
        out = self.stdout.write
        url = self.url
        out("")
        out("演示账号（工作人员，密码均为 %s，登录 %s/accounts/login/）：" % (DEMO_PASSWORD, url))
        for username, display, role in STAFF:
            extra = "，需动态口令：python manage.py totp_code %s" % username if role in ROLES_REQUIRING_TOTP else ""
            out(f"  {username:<16} {display}  {role.label}（苏州市总工会及下级）{extra}")
        out("  demo_grassroots  钱基层  经办人+审核人（一个基层工会）")
        out("  demo_province    孙省总  经办人（江苏省总工会）")
        out("网上申请入会：%s/h5/join/（demo_grassroots 的工会有 %d 份待审核申请）" % (url, JOIN_APPLICATIONS))
        out("会员账号（手机号 + 短信验证码登录 %s/h5/login/，验证码打印在服务器日志中）：" % url)
        for phone, name, *_ in NAMED_MEMBERS:
            out(f"  {phone}  {name}")
        if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
            out("数据库：SQLite（%s）" % settings.DATABASES["default"]["NAME"])


def _birth(rng: random.Random) -> Any:
    return dt.date(1975, 1, 1) + dt.timedelta(days=rng.randint(0, 25 * 365))
