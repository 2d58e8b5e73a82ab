"""Writes of the suggestions ledger: one function per business action, each owning its
transaction and its audit event. Staff steps go through the declared workflow; notifications
are inbox rows created after the commit."""

import base64
import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from gonghui.core import audit
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.workdays import WORKDAYS_POLICY, WorkCalendar
from gonghui.core.workflow import Step, workflow_start, workflow_transition
from gonghui.organizations.models import Organization
from gonghui.organizations.policies import policies_for_paths, policy_for
from gonghui.organizations.selectors import has_perm_on
from gonghui.suggestions import sla
from gonghui.suggestions.models import (
    CONTENT_MAX,
    TITLE_MAX,
    Answer,
    Attachment,
    Category,
    Channel,
    Department,
    Item,
    ItemStatus,
    Milestone,
    Notice,
    Notification,
    Progress,
    Reopening,
    Satisfaction,
    SubmitterKind,
)
from gonghui.suggestions.permissions import SuggestionPerm
from gonghui.suggestions.tracking import new_tracking_code, tracking_hash
from gonghui.suggestions.workflows import ITEM

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 5
DEPARTMENT_CONTACTS_MAX = 20
MILESTONE_AHEAD_DAYS = 366  # a milestone may be planned up to a year ahead
ATTACHMENT_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def _text(value: str, *, field: str, label: str, maximum: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(
            "请填写%(label)s" % {"label": label}, fields={field: "请填写%(label)s" % {"label": label}}
        )
    if len(text) > maximum:
        message = "%(label)s不能超过 %(n)d 字" % {"label": label, "n": maximum}
        raise ValidationFailed(message, fields={field: message})
    return text


def _check_uploads(uploads: Sequence[Upload]) -> None:
    if len(uploads) > ATTACHMENT_MAX_COUNT:
        raise ValidationFailed("附件最多 %d 个" % ATTACHMENT_MAX_COUNT, fields={"files": "附件过多"})
    for u in uploads:
        if u.content_type not in ATTACHMENT_TYPES:
            raise ValidationFailed("附件只能是 JPG、PNG、PDF 或 TXT 文件", fields={"files": "文件类型不支持"})
        if len(u.data) > ATTACHMENT_MAX_BYTES:
            raise ValidationFailed("单个附件不能超过 5 MB", fields={"files": "文件过大"})
        if not u.data:
            raise ValidationFailed("附件是空文件", fields={"files": "空文件"})


def _store(item: Item, uploads: Sequence[Upload], *, actor: Any, progress: Progress | None = None) -> int:
    field: Any = Attachment._meta.get_field("stored")
    for u in uploads:
        stored = field.save_sealed(
            "suggestions/%d/%s%s" % (item.pk, secrets.token_hex(8), ATTACHMENT_TYPES[u.content_type]),
            base64.b64encode(u.data).decode("ascii"),
        )
        Attachment.objects.create(
            item=item,
            progress=progress,
            name=u.name[:100] or "附件",
            content_type=u.content_type,
            size=len(u.data),
            stored=stored,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
    return len(uploads)


def attachment_bytes(attachment: Attachment) -> bytes:
    field: Any = Attachment._meta.get_field("stored")
    return base64.b64decode(field.open_file(attachment.stored))


def _notify_on_commit(users: Iterable[Any], item: Item, text: str) -> None:
    ids = sorted({u.pk for u in users if u is not None})
    if not ids:
        return
    item_id = item.pk

    def create() -> None:
        Notification.objects.bulk_create([Notification(user_id=i, item_id=item_id, text=text[:200]) for i in ids])

    transaction.on_commit(create)


def _staff_of(organization: Organization, perm: str) -> list[Any]:
    from_roles = organization.role_assignments.select_related("user").all()
    return [ra.user for ra in from_roles if has_perm_on(ra.user, perm, organization)]


def notification_mark_read(*, actor: Any, notification_id: int) -> Notification:
    """Mark one of the actor's own messages read (another user's is not found)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id, user=actor).first()
        if notification is None:
            raise NotFound("消息不存在")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            audit.record(actor=actor, action="suggestions.notification_read", obj=notification)
    return notification


def notifications_mark_all_read(*, actor: Any) -> int:
    """Mark every unread message of the actor read; how many were."""
    with transaction.atomic():
        count = Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
        if count:
            audit.record(actor=actor, action="suggestions.notification_read_all", detail={"count": count})
    return count


# ---- the rule and the clock ----------------------------------------------------------------


def rule_of(item: Item) -> tuple[sla.SlaRule, int | None]:
    resolved = policy_for(kind=sla.SLA_POLICY, organization=item.organization)
    rule = sla.rule_for(
        resolved.body["rules"],
        category=item.category.name if item.category_id and item.category else "",
        channel=item.channel,
        organization=item.organization.code,
    )
    return rule, (resolved.version.version if resolved.version else None)


def calendar_of(organization: Organization) -> WorkCalendar:
    return WorkCalendar.of(policy_for(kind=WORKDAYS_POLICY, organization=organization).body)


def clocks_of(items: Sequence[Item], *, now: dt.datetime | None = None) -> dict[int, sla.Clock]:
    """`clock_of` for many items with two policy queries in all (one per policy kind)."""
    moment = now or timezone.now()
    paths = {i.organization.path for i in items}
    rules = policies_for_paths(kind=sla.SLA_POLICY, paths=paths)
    calendars = {
        path: WorkCalendar.of(resolved.body)
        for path, resolved in policies_for_paths(kind=WORKDAYS_POLICY, paths=paths).items()
    }
    out = {}
    for i in items:
        rule = sla.rule_for(
            rules[i.organization.path].body["rules"],
            category=i.category.name if i.category_id and i.category else "",
            channel=i.channel,
            organization=i.organization.code,
        )
        out[i.pk] = sla.sla_state(
            clock_started_at=i.clock_started_at,
            first_response_at=i.first_response_at,
            resolved_at=i.resolved_at,
            rule=rule,
            now=moment,
            calendar=calendars[i.organization.path],
        )
    return out


def clock_of(item: Item, *, now: dt.datetime | None = None) -> sla.Clock:
    rule, _ = rule_of(item)
    return sla.sla_state(
        clock_started_at=item.clock_started_at,
        first_response_at=item.first_response_at,
        resolved_at=item.resolved_at,
        rule=rule,
        now=now or timezone.now(),
        calendar=calendar_of(item.organization),
    )


# ---- submission ----------------------------------------------------------------------------


def item_submit(
    *,
    actor: Any,
    organization: Organization,
    channel: str,
    title: str,
    content: str,
    kind: str,
    category: Category | None = None,
    member: Any = None,
    uploads: Sequence[Upload] = (),
    received_at: dt.datetime | None = None,
) -> tuple[Item, str]:
    """File an item; returns it and, for an anonymous item, the tracking code (shown once)."""
    if channel not in Channel.values:
        raise ValidationFailed("请选择渠道", fields={"channel": "渠道无效"})
    if kind not in SubmitterKind.values:
        raise ValidationFailed("请选择提交方式", fields={"kind": "提交方式无效"})
    if kind == SubmitterKind.MEMBER and member is None:
        raise ValidationFailed("请选择提出诉求的会员", fields={"member": "请选择会员"})
    if kind == SubmitterKind.STAFF and not has_perm_on(actor, SuggestionPerm.HANDLE, organization):
        raise PermissionDenied("您无权为该组织登记诉求")
    if category is not None and (
        not category.is_active or not organization.path.startswith(category.organization.path)
    ):
        raise ValidationFailed("请选择本组织在用的诉求分类", fields={"category": "分类无效"})
    title = _text(title, field="title", label="标题", maximum=TITLE_MAX)
    content = _text(content, field="content", label="内容", maximum=CONTENT_MAX)
    _check_uploads(uploads)
    now = timezone.now()
    received = received_at or now
    code = new_tracking_code() if kind == SubmitterKind.ANONYMOUS else ""
    field: Any = Item._meta.get_field("content_encrypted")
    with transaction.atomic():
        item = Item.objects.create(
            organization=organization,
            number="new-%s" % secrets.token_hex(8),
            channel=channel,
            category=category,
            title=title,
            content_encrypted=field.seal(content),
            submitter_kind=kind,
            member=member if kind != SubmitterKind.ANONYMOUS else None,
            entered_by=actor if kind == SubmitterKind.STAFF else None,
            tracking_hash=tracking_hash(code) if code else "",
            received_at=received,
            clock_started_at=received,
        )
        item.number = "SQ%(y)d%(pk)06d" % {"y": timezone.localtime(received).year, "pk": item.pk}
        rule, version = rule_of(item)
        item.sla_rule, item.sla_version = rule.name, version
        item.save(update_fields=["number", "sla_rule", "sla_version"])
        _store(item, uploads, actor=actor)
        workflow_start(
            actor=actor if getattr(actor, "pk", None) else None,
            obj=item,
            workflow=ITEM,
            detail={"channel": channel, "kind": kind, "attachments": len(uploads)},
        )
        _notify_on_commit(
            _staff_of(organization, SuggestionPerm.HANDLE), item, "新诉求 %s：%s" % (item.number, item.title)
        )
    return item, code


# ---- triage --------------------------------------------------------------------------------


def _respond(item: Item, step: Step) -> list[str]:
    if item.first_response_at is None or item.first_response_at < item.clock_started_at:
        item.first_response_at = step.at
        return ["first_response_at"]
    return []


def item_accept(*, actor: Any, item: Item) -> Item:
    return workflow_transition(actor=actor, obj=item, workflow=ITEM, transition="accept", effect=_respond)


def item_decline(*, actor: Any, item: Item, reason: str) -> Item:
    def effect(locked: Item, step: Step) -> list[str]:
        locked.decline_reason = step.reason[:200]
        locked.resolved_at = step.at
        return ["decline_reason", "resolved_at", *_respond(locked, step)]

    return workflow_transition(actor=actor, obj=item, workflow=ITEM, transition="decline", reason=reason, effect=effect)


def item_merge(*, actor: Any, item: Item, into: Item) -> Item:
    if into.pk == item.pk:
        raise ValidationFailed("不能合并到自身", fields={"into": "请选择另一条诉求"})
    if into.organization_id != item.organization_id:
        raise ValidationFailed("只能合并同一组织的诉求", fields={"into": "请选择同一组织的诉求"})
    if not into.is_open or into.merged_into_id:
        raise Conflict("目标诉求已办结或已被合并，不能合并到它")

    def effect(locked: Item, step: Step) -> list[str]:
        locked.merged_into = into
        locked.resolved_at = step.at
        return ["merged_into", "resolved_at", *_respond(locked, step)]

    return workflow_transition(
        actor=actor, obj=item, workflow=ITEM, transition="merge", effect=effect, into=into.number
    )


def notice_issue(
    *, actor: Any, item: Item, departments: Sequence[Department], requirement: str, deadline: dt.date
) -> Notice:
    if not departments:
        raise ValidationFailed("请至少选择一个责任部门", fields={"departments": "请选择责任部门"})
    if any(d.organization_id != item.organization_id or not d.is_active for d in departments):
        raise ValidationFailed("责任部门须是本组织的在用部门", fields={"departments": "部门无效"})
    requirement = _text(requirement, field="requirement", label="整改要求", maximum=500)
    if deadline < timezone.localdate():
        raise ValidationFailed("办结期限不能早于今天", fields={"deadline": "办结期限不能早于今天"})
    holder: dict[str, Notice] = {}

    def effect(locked: Item, step: Step) -> list[str]:
        year = timezone.localtime(step.at).year
        last = (
            Notice.objects.select_for_update()
            .filter(organization_id=locked.organization_id, year=year)
            .order_by("-seq")
            .first()
        )
        notice = Notice.objects.create(
            organization_id=locked.organization_id,
            item=locked,
            year=year,
            seq=(last.seq if last else 0) + 1,
            requirement=requirement,
            deadline=deadline,
            issued_by=actor,
            issued_at=step.at,
        )
        notice.departments.set(departments)
        holder["notice"] = notice
        contacts = [u for d in departments for u in d.contacts.all()]
        _notify_on_commit(
            contacts, locked, "整改通知单 %s：%s，请于 %s 前办结" % (notice.number, locked.title, deadline)
        )
        return _respond(locked, step)

    # The workflow owns the transaction (a refusal is audited outside it); the notice, its
    # number and the contacts' messages are made in the effect, under the item's lock.
    workflow_transition(
        actor=actor,
        obj=item,
        workflow=ITEM,
        transition="assign",
        effect=effect,
        departments=[d.name for d in departments],
        deadline=deadline.isoformat(),
    )
    return holder["notice"]


# ---- departments' progress and closure -----------------------------------------------------


def progress_post(
    *, actor: Any, notice: Notice, department: Department, text: str, uploads: Sequence[Upload] = ()
) -> Progress:
    if not notice.departments.filter(pk=department.pk).exists() or not department.contacts.filter(pk=actor.pk).exists():
        raise PermissionDenied("您不是该通知单所交办部门的联络人")
    text = _text(text, field="text", label="办理进展", maximum=1000)
    _check_uploads(uploads)
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=notice.item_id)
        if not item.is_open:
            raise Conflict("该诉求已办结，不能再登记进展")
        progress = Progress.objects.create(
            item=item, notice=notice, department=department, author=actor, text=text, created_at=timezone.now()
        )
        _store(item, uploads, actor=actor, progress=progress)
        audit.record(
            actor=actor,
            action="suggestions.progress",
            obj=item,
            organization=item.organization,
            detail={"notice": notice.number, "department": department.name, "evidence": len(uploads)},
        )
        _notify_on_commit(
            _staff_of(item.organization, SuggestionPerm.HANDLE),
            item,
            "%s 登记了办理进展：%s" % (department.name, item.number),
        )
    return progress


def item_close(*, actor: Any, item: Item, text: str, uploads: Sequence[Upload] = ()) -> Item:
    """销账: only with evidence — a file with this closure or one posted with progress."""
    text = _text(text, field="text", label="销账说明", maximum=1000)
    _check_uploads(uploads)
    if not uploads and not Attachment.objects.filter(item=item, progress__isnull=False).exists():
        raise ValidationFailed(
            "销账须附佐证材料（部门进展中的附件或本次上传的文件）", fields={"files": "请上传佐证材料"}
        )

    def effect(locked: Item, step: Step) -> list[str]:
        progress = Progress.objects.create(item=locked, author=actor, text=text, is_closure=True, created_at=step.at)
        _store(locked, uploads, actor=actor, progress=progress)
        locked.resolved_at = step.at
        _notify_on_commit([_submitter_user(locked)], locked, "您的诉求 %s 已办结，请确认并评价" % locked.number)
        return ["resolved_at", *_respond(locked, step)]

    closed: Item = workflow_transition(actor=actor, obj=item, workflow=ITEM, transition="close", effect=effect)
    return closed


def _submitter_user(item: Item) -> Any:
    return item.member.user if item.member_id and item.member and item.member.user_id else None


# ---- answers (recorded, checked, then published) -------------------------------------------


def answer_record(*, actor: Any, item: Item, text: str) -> Answer:
    if not has_perm_on(actor, SuggestionPerm.HANDLE, item.organization):
        raise PermissionDenied("您无权答复该诉求")
    text = _text(text, field="answer", label="答复", maximum=1000)
    with transaction.atomic():
        answer = Answer.objects.create(item=item, text=text, recorded_by=actor, recorded_at=timezone.now())
        audit.record(actor=actor, action="suggestions.answer_record", obj=item, organization=item.organization)
    return answer


def answer_publish(*, actor: Any, answer: Answer) -> Answer:
    item = answer.item
    if not has_perm_on(actor, SuggestionPerm.REVIEW, item.organization):
        raise PermissionDenied("您无权审核答复")
    if answer.recorded_by_id == actor.pk:
        raise PermissionDenied("不能审核自己录入的答复，请由另一位审核人发布")
    with transaction.atomic():
        locked = Answer.objects.select_for_update().get(pk=answer.pk)
        if locked.published_at is not None:
            raise Conflict("该答复已发布")
        now = timezone.now()
        locked.published_by, locked.published_at = actor, now
        locked.save(update_fields=["published_by", "published_at"])
        locked_item = Item.objects.select_for_update().get(pk=item.pk)
        if locked_item.first_response_at is None or locked_item.first_response_at < locked_item.clock_started_at:
            locked_item.first_response_at = now
            locked_item.save(update_fields=["first_response_at", "updated_at"])
        audit.record(actor=actor, action="suggestions.answer_publish", obj=item, organization=item.organization)
        _notify_on_commit([_submitter_user(item)], item, "您的诉求 %s 有新的答复" % item.number)
    return locked


# ---- the submitter's steps (applicant's transitions of the workflow) --------------------------


def _parse_score(score: Any) -> int:
    try:
        value = int(str(score).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 5:
        raise ValidationFailed("请选择 1～5 分的满意度", fields={"score": "请选择 1～5 分"})
    return value


def item_rate(*, actor: Any, item: Item, score: Any, comment: str, code: str = "") -> Satisfaction:
    """The submitter confirms the closure with a 1–5 score (once per closure): the member
    signed in (`actor`), or — with `actor` None, so that nothing names them — the holder of
    an anonymous item's tracking `code`."""
    value = _parse_score(score)
    comment = _text(comment, field="comment", label="评价", maximum=300, required=False)
    holder: dict[str, Satisfaction] = {}

    def effect(locked: Item, step: Step) -> list[str]:
        round_ = locked.reopen_count + 1
        if Satisfaction.objects.filter(item=locked, round=round_).exists():
            raise Conflict("您已评价过本次办理结果")
        holder["rating"] = Satisfaction.objects.create(
            item=locked, round=round_, score=value, comment=comment, created_at=step.at
        )
        return []

    workflow_transition(
        actor=actor, obj=item, workflow=ITEM, transition="confirm", effect=effect, proof=code, score=value
    )
    return holder["rating"]


def item_reopen(*, actor: Any, item: Item, reason: str, code: str = "") -> Item:
    """The submitter is not satisfied: back to 办理中 with a new clock; the history stays."""

    def effect(locked: Item, step: Step) -> list[str]:
        if Satisfaction.objects.filter(item=locked, round=locked.reopen_count + 1).exists():
            raise Conflict("您已确认本次办理结果，不能再申请重新办理")
        Reopening.objects.create(
            item=locked, reason=step.reason, previous_clock_started_at=locked.clock_started_at, created_at=step.at
        )
        locked.clock_started_at = step.at
        locked.first_response_at = None
        locked.resolved_at = None
        locked.escalated_at = None
        locked.escalated_to = None
        locked.reopen_count += 1
        _notify_on_commit(
            _staff_of(locked.organization, SuggestionPerm.HANDLE),
            locked,
            "诉求 %s 被提出人申请重新办理" % locked.number,
        )
        return [
            "clock_started_at",
            "first_response_at",
            "resolved_at",
            "escalated_at",
            "escalated_to",
            "reopen_count",
        ]

    reopened: Item = workflow_transition(
        actor=actor, obj=item, workflow=ITEM, transition="reopen", reason=reason, effect=effect, proof=code
    )
    return reopened


# ---- publication, milestones, configuration --------------------------------------------------


def item_publish_set(*, actor: Any, item: Item, publishable: bool, outcome: str) -> Item:
    if not has_perm_on(actor, SuggestionPerm.REVIEW, item.organization):
        raise PermissionDenied("您无权决定院务公开")
    outcome = _text(outcome, field="outcome", label="公开的办理结果", maximum=500, required=publishable)
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if publishable and locked.status != ItemStatus.CLOSED:
            raise Conflict("只有已办结的诉求可以公开")
        locked.publishable, locked.public_outcome = publishable, outcome
        locked.save(update_fields=["publishable", "public_outcome", "updated_at"])
        audit.record(
            actor=actor,
            action="suggestions.publish",
            obj=locked,
            organization=locked.organization,
            detail={"publishable": publishable},
        )
    return locked


def _milestone_date(item: Item, reached_on: dt.date) -> dt.date:
    received = timezone.localdate(item.received_at)
    latest = timezone.localdate() + dt.timedelta(days=MILESTONE_AHEAD_DAYS)
    if not received <= reached_on <= latest:
        message = "节点日期须在收到诉求（%(r)s）之后、%(l)s 之前" % {"r": received, "l": latest}
        raise ValidationFailed(message, fields={"reached_on": message})
    return reached_on


def milestone_add(*, actor: Any, item: Item, title: str, reached_on: dt.date, note: str = "") -> Milestone:
    if not has_perm_on(actor, SuggestionPerm.HANDLE, item.organization):
        raise PermissionDenied("您无权登记办理节点")
    title = _text(title, field="title", label="节点名称", maximum=60)
    note = _text(note, field="note", label="说明", maximum=200, required=False)
    reached_on = _milestone_date(item, reached_on)
    with transaction.atomic():
        milestone = Milestone.objects.create(item=item, title=title, reached_on=reached_on, note=note, created_by=actor)
        audit.record(
            actor=actor,
            action="suggestions.milestone",
            obj=item,
            organization=item.organization,
            detail={"title": title, "reached_on": reached_on.isoformat()},
        )
    return milestone


def milestone_update(*, actor: Any, milestone: Milestone, title: str, reached_on: dt.date, note: str = "") -> Milestone:
    """Correct a milestone (its name, date or note); the audit event keeps what it said before."""
    item = milestone.item
    if not has_perm_on(actor, SuggestionPerm.HANDLE, item.organization):
        raise PermissionDenied("您无权修改办理节点")
    title = _text(title, field="title", label="节点名称", maximum=60)
    note = _text(note, field="note", label="说明", maximum=200, required=False)
    reached_on = _milestone_date(item, reached_on)
    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        before = {"title": locked.title, "reached_on": locked.reached_on.isoformat(), "note": locked.note}
        after = {"title": title, "reached_on": reached_on.isoformat(), "note": note}
        if before == after:
            return locked
        locked.title, locked.reached_on, locked.note = title, reached_on, note
        locked.save(update_fields=["title", "reached_on", "note"])
        audit.record(
            actor=actor,
            action="suggestions.milestone_update",
            obj=item,
            organization=item.organization,
            detail={"before": before, "after": after},
        )
    return locked


def _department_input(
    organization: Organization, name: str, contacts: Sequence[Any], *, exclude: int | None = None
) -> tuple[str, list[Any]]:
    name = _text(name, field="name", label="部门名称", maximum=40)
    same = Department.objects.filter(organization=organization, name=name)
    if (same.exclude(pk=exclude) if exclude is not None else same).exists():
        message = "部门“%(n)s”已存在" % {"n": name}
        raise ValidationFailed(message, fields={"name": message})
    if len(contacts) > DEPARTMENT_CONTACTS_MAX:
        message = "联络人最多 %(n)d 位" % {"n": DEPARTMENT_CONTACTS_MAX}
        raise ValidationFailed(message, fields={"contacts": message})
    # A contact reads the notices addressed to the department: only staff of this organisation
    # (or above it) who hold the contact's permission there.
    strangers = [u for u in contacts if not has_perm_on(u, SuggestionPerm.RESPOND, organization)]
    if strangers:
        message = "以下账号不是本组织可担任联络人的工作人员：%(u)s" % {"u": "、".join(u.username for u in strangers)}
        raise ValidationFailed(message, fields={"contacts": message})
    return name, list(contacts)


def department_create(*, actor: Any, organization: Organization, name: str, contacts: Sequence[Any] = ()) -> Department:
    if not has_perm_on(actor, SuggestionPerm.CONFIGURE, organization):
        raise PermissionDenied("您无权设置责任部门")
    with transaction.atomic():
        name, people = _department_input(organization, name, contacts)
        department = Department.objects.create(organization=organization, name=name)
        department.contacts.set(people)
        audit.record(
            actor=actor,
            action="suggestions.department_create",
            obj=department,
            organization=organization,
            detail={"name": name, "contacts": sorted(u.username for u in people)},
        )
    return department


def department_update(*, actor: Any, department: Department, name: str, contacts: Sequence[Any]) -> Department:
    """Rename a department or change its contacts (who then see its notices, old and new)."""
    if not has_perm_on(actor, SuggestionPerm.CONFIGURE, department.organization):
        raise PermissionDenied("您无权设置责任部门")
    with transaction.atomic():
        locked = Department.objects.select_for_update().select_related("organization").get(pk=department.pk)
        name, people = _department_input(locked.organization, name, contacts, exclude=locked.pk)
        before = {"name": locked.name, "contacts": sorted(locked.contacts.values_list("username", flat=True))}
        after = {"name": name, "contacts": sorted(u.username for u in people)}
        if before == after:
            return locked
        locked.name = name
        locked.save(update_fields=["name"])
        locked.contacts.set(people)
        audit.record(
            actor=actor,
            action="suggestions.department_update",
            obj=locked,
            organization=locked.organization,
            detail={"before": before, "after": after},
        )
    return locked


def department_set_active(*, actor: Any, department: Department, active: bool) -> Department:
    """Retire a department (no new notices to it; its notices and progress stay) or bring it back."""
    if not has_perm_on(actor, SuggestionPerm.CONFIGURE, department.organization):
        raise PermissionDenied("您无权设置责任部门")
    with transaction.atomic():
        locked = Department.objects.select_for_update().select_related("organization").get(pk=department.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="suggestions.department_restore" if active else "suggestions.department_retire",
            obj=locked,
            organization=locked.organization,
            detail={"name": locked.name},
        )
    return locked


def _may_configure(actor: Any, organization: Organization) -> None:
    if not has_perm_on(actor, SuggestionPerm.CONFIGURE, organization):
        raise PermissionDenied("您无权设置诉求分类")


def _category_name(organization: Organization, name: str, *, exclude: int | None = None) -> str:
    name = _text(name, field="name", label="分类名称", maximum=20)
    same = Category.objects.filter(organization=organization, name=name)
    taken = (same.exclude(pk=exclude) if exclude is not None else same).first()
    if taken is not None:
        message = ("分类“%(n)s”已存在" if taken.is_active else "分类“%(n)s”已停用，可在列表中恢复") % {"n": name}
        raise ValidationFailed(message, fields={"name": message})
    return name


def category_create(*, actor: Any, organization: Organization, name: str) -> Category:
    """A new category of the organisation, offered last in its order."""
    _may_configure(actor, organization)
    with transaction.atomic():
        # The organisation's row serialises two administrators adding at once (the order and
        # the unique name are checked under it).
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        name = _category_name(organization, name)
        last = Category.objects.filter(organization=organization).order_by("-position").first()
        category = Category.objects.create(
            organization=organization, name=name, position=(last.position + 1) if last else 1
        )
        audit.record(
            actor=actor,
            action="suggestions.category_create",
            obj=category,
            organization=organization,
            detail={"name": name},
        )
    return category


def category_rename(*, actor: Any, category: Category, name: str) -> Category:
    """Rename a category; the items filed under it show the new name. SLA rules match a
    category by name, so a rule naming the old one no longer applies to them."""
    _may_configure(actor, category.organization)
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        name = _category_name(locked.organization, name, exclude=locked.pk)
        before = locked.name
        if name == before:
            return locked
        locked.name = name
        locked.save(update_fields=["name"])
        audit.record(
            actor=actor,
            action="suggestions.category_rename",
            obj=locked,
            organization=locked.organization,
            detail={"before": before, "after": name},
        )
    return locked


def category_move(*, actor: Any, category: Category, up: bool) -> Category:
    """Move a category one place up or down in its organisation's order (at an end: no change)."""
    _may_configure(actor, category.organization)
    with transaction.atomic():
        siblings = list(Category.objects.select_for_update().filter(organization_id=category.organization_id))
        siblings.sort(key=lambda c: (c.position, c.pk))
        index = next(i for i, c in enumerate(siblings) if c.pk == category.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(siblings):
            return siblings[index]
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, c in enumerate(siblings, start=1):
            c.position = position
        Category.objects.bulk_update(siblings, ["position"])
        moved = siblings[other]
        audit.record(
            actor=actor,
            action="suggestions.category_move",
            obj=moved,
            organization=moved.organization,
            detail={"name": moved.name, "to": other + 1},
        )
    return moved


def category_set_active(*, actor: Any, category: Category, active: bool) -> Category:
    """Retire a category (no longer offered; its items keep it) or bring it back."""
    _may_configure(actor, category.organization)
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="suggestions.category_restore" if active else "suggestions.category_retire",
            obj=locked,
            organization=locked.organization,
            detail={"name": locked.name},
        )
    return locked


# ---- escalation (housekeeping) ---------------------------------------------------------------


def escalate_breaches(*, now: dt.datetime | None = None) -> int:
    """Escalate every open item whose clock passed its rule's escalation point to the parent
    organisation, once: `escalated_at` is set under the row lock and checked again there."""
    moment = now or timezone.now()
    count = 0
    candidates = Item.objects.filter(
        status__in=[ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.IN_PROGRESS], escalated_at__isnull=True
    )
    items = list(candidates.select_related("organization", "category"))
    clocks = clocks_of(items, now=moment)
    watchers: dict[int, list[Any]] = {}  # who is told, per organisation escalated to (asked once a run)
    for item in items:
        if not clocks[item.pk].escalate_due:
            continue
        with transaction.atomic():
            locked = Item.objects.select_for_update().select_related("organization").get(pk=item.pk)
            if locked.escalated_at is not None or not locked.is_open:
                continue
            parent = locked.organization.parent
            locked.escalated_at = moment
            locked.escalated_to = parent
            locked.save(update_fields=["escalated_at", "escalated_to", "updated_at"])
            audit.record(
                actor=None,
                action="suggestions.escalate",
                obj=locked,
                organization=parent or locked.organization,
                detail={"to": parent.name if parent else "", "rule": locked.sla_rule},
            )
            target = parent or locked.organization
            if target.pk not in watchers:
                watchers[target.pk] = _staff_of(target, SuggestionPerm.VIEW)
            _notify_on_commit(
                watchers[target.pk],
                locked,
                "督办：%s 的诉求 %s 已超时" % (locked.organization.name, locked.number),
            )
            count += 1
    return count
