"""Demo 诉求台账: for a few grassroots unions of 苏州市总工会, departments with a contact, a
dozen items over the channels — some still waiting, some at a department, some closed with
evidence, rated and published on the union's 院务公开 page (a few typed a phone number or a
name into the text, which the public page masks). Made through the services by the demo's
经办人 and 审核人, with the receipt times moved back so the SLA states vary."""

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.core.permissions import Role
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import role_grant
from gonghui.suggestions import services
from gonghui.suggestions.models import Channel, Item, SubmitterKind

DEMO_CONTACT_PASSWORD = "Gonghui@2026"  # noqa: S105 - the demo's shared password, printed on purpose
DEPARTMENTS = ("后勤保障部", "人力资源部", "信息中心", "体检中心")
CATEGORIES = ("后勤保障", "薪酬福利", "信息化", "职工关爱")
ANONYMOUS = (1, 2)  # indexes of ITEMS filed anonymously
ITEMS = (
    ("食堂晚餐品种太少", "夜班职工希望食堂晚餐增加面食，联系电话 13912345678。", Channel.LETTER),
    ("体检报告希望能在手机上查看", "建议体检报告在小程序上查看，我叫王建国，工号 20231187。", Channel.CHAIR_MEETING),
    ("暑期子女托管", "双职工暑假孩子无人照看，希望工会开办暑托班。", Channel.FORUM),
    ("停车位紧张", "早班职工停车难，建议错峰开放地下车库，李师傅反映多次。", Channel.HOTLINE),
    ("更衣室热水不稳定", "二号楼更衣室热水时有时无。", Channel.VISIT),
    ("加班调休登记不便", "职代会提案：加班调休登记流程繁琐，建议线上办理。", Channel.CONGRESS),
)


def seed(*, rng: random.Random, stdout: Any, today: dt.date) -> None:
    handler = User.objects.filter(username="demo_handler").first()
    reviewer = User.objects.filter(username="demo_reviewer").first()
    admin = User.objects.filter(username="demo_admin").first()
    city = Organization.objects.filter(name="苏州市总工会").first()
    if handler is None or reviewer is None or admin is None or city is None:
        return
    unions = list(Organization.objects.filter(path__startswith=city.path, level=Level.GRASSROOTS).order_by("path")[:3])
    now = timezone.now()
    count = 0
    codes: dict[str, str] = {}
    for n, union in enumerate(unions):
        contact = User.objects.create_staff_user(
            username="demo_contact%d" % (n + 1), password=DEMO_CONTACT_PASSWORD, display_name="部门联络人%d" % (n + 1)
        )
        role_grant(actor=None, user=contact, organization=union, role=Role.REDEEMER)
        depts = [
            services.department_create(actor=admin, organization=union, name=d, contacts=[contact]) for d in DEPARTMENTS
        ]
        cats = [services.category_create(actor=admin, organization=union, name=c) for c in CATEGORIES]
        members = list(Member.objects.filter(organization=union).order_by("pk")[:6])
        for k, (title, content, channel) in enumerate(ITEMS):
            # Two of the items that get closed were filed anonymously: their submitters rate
            # them with the tracking code alone (one code is printed to try the 诉求查询 page).
            anonymous = k in ANONYMOUS
            member = members[k % len(members)] if members and not anonymous else None
            kind = SubmitterKind.ANONYMOUS if anonymous else SubmitterKind.MEMBER if member else SubmitterKind.STAFF
            item, code = services.item_submit(
                actor=None if anonymous else handler,
                organization=union,
                channel=Channel.ONLINE if anonymous else channel,
                title=title,
                content=content,
                kind=kind,
                member=member,
                category=cats[k % len(cats)],
                received_at=now - dt.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 20)),
            )
            count += 1
            if k == 4:
                continue  # waiting for triage
            services.item_accept(actor=handler, item=item)
            notice = services.notice_issue(
                actor=handler,
                item=item,
                departments=depts[k % 2 : k % 2 + 2],
                requirement="请核实情况并于期限内反馈整改措施",
                deadline=today + dt.timedelta(days=rng.randint(3, 20)),
            )
            if k >= 3:
                continue  # at the departments
            dept = depts[k % 2]
            services.progress_post(
                actor=contact,
                notice=notice,
                department=dept,
                text="已调研并制定整改方案，现场照片见附件",
                uploads=[services.Upload("整改照片.txt", "text/plain", "整改完成情况说明".encode())],
            )
            services.item_close(actor=handler, item=item, text="已按通知单完成整改")
            closed = Item.objects.get(pk=item.pk)
            if code:
                services.item_rate(actor=None, item=closed, score=rng.choice((3, 4, 5, 5)), comment="满意", code=code)
                codes.setdefault(union.name, code)
            elif member is not None and member.user_id:
                services.item_rate(actor=member.user, item=closed, score=rng.choice((4, 5, 5)), comment="满意")
            services.item_publish_set(
                actor=reviewer, item=item, publishable=True, outcome="已整改完成。%s" % content[:40]
            )
    stdout.write("  职工诉求：%(n)s 条诉求，%(u)s 个基层工会" % {"n": count, "u": len(unions)})
    for name, code in list(codes.items())[:1]:
        stdout.write("  匿名诉求查询码（%(org)s，/suggestions/track/）：%(code)s" % {"org": name, "code": code})
