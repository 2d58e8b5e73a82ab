"""Writes of the relief domain: one function per business action, each owning its transaction
and its audit event. Figures arrive as typed text (a form's POST) and are parsed here with the
kernel's Chinese messages, so every caller refuses bad input the same way."""

import base64
import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.core import audit, parsing
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.workdays import WORKDAYS_POLICY, WorkCalendar
from gonghui.core.workflow import Step, workflow_start, workflow_transition
from gonghui.members.models import Member, Tag
from gonghui.organizations.policies import policy_explain, policy_for
from gonghui.organizations.selectors import has_perm_on
from gonghui.relief import policies
from gonghui.relief.models import (
    FOLLOW_UP_MONTHS,
    NOTICE_WORKING_DAYS,
    VISIT_INTERVAL_MONTHS,
    Attachment,
    Cause,
    FileStatus,
    HardshipFile,
    HouseholdMember,
    Relation,
    Schooling,
    Visit,
    add_months,
    seal,
    seal_file,
    unseal,
    unseal_file,
)
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.rules import Assessment, ClassParams, HardshipClass, assess_household
from gonghui.relief.workflows import WITHDRAWAL

MAX_SECONDARY_CAUSES = 3
HOUSEHOLD_MAX = 20
MONEY_MAX_FEN = 10**10  # ¥1 亿: far above any household's year
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {
    b"%PDF": ("application/pdf", ".pdf"),
    b"\x89PNG": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _require(actor: Any, perm: str, organization: Any, message: str) -> None:
    if not has_perm_on(actor, perm, organization):
        raise PermissionDenied(message)


def parse_money(raw: Any, *, name: str, label: str, required: bool = False) -> int:
    """Yuan as typed → fen; an empty optional amount is 0."""
    if not required and not parsing.clean(raw):
        return 0
    result: int = _field(name, parsing.parse_yuan, raw, label=label, maximum_fen=MONEY_MAX_FEN)
    return result


# ---- the assessment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the class is computed from (fen and persons)."""

    annual_income_fen: int
    rigid_spending_fen: int
    hardship_costs_fen: int
    household_size: int
    disaster: bool


@dataclass(frozen=True)
class Decision:
    assessment: Assessment
    dibao_monthly_fen: int
    year: int
    classes_version: Any
    dibao_version: Any


def figures_parse(data: Mapping[str, Any]) -> Figures:
    return Figures(
        annual_income_fen=_field(
            "annual_income",
            parsing.parse_yuan,
            data.get("annual_income"),
            label="家庭年可支配收入",
            maximum_fen=MONEY_MAX_FEN,
        ),
        rigid_spending_fen=_field(
            "rigid_spending",
            parsing.parse_yuan,
            data.get("rigid_spending"),
            label="刚性支出",
            maximum_fen=MONEY_MAX_FEN,
        ),
        hardship_costs_fen=_field(
            "hardship_costs",
            parsing.parse_yuan,
            data.get("hardship_costs") or "0",
            label="致困支出",
            maximum_fen=MONEY_MAX_FEN,
        ),
        household_size=_field(
            "household_size",
            parsing.parse_int,
            data.get("household_size"),
            label="共同生活人口",
            minimum=1,
            maximum=HOUSEHOLD_MAX,
        ),
        disaster=str(data.get("disaster", "")).strip() in ("1", "on", "true", "True"),
    )


def assess(*, organization: Any, figures: Figures, on: dt.date | None = None) -> Decision:
    """The class of a household filed with `organization`, under the policies in force there."""
    day = on or timezone.localdate()
    rules = policies.policies_for(organization, on=day)
    dibao = policies.dibao_monthly_fen(rules.dibao.body, region_code=organization.region_code, year=day.year)
    if dibao is None:
        raise ValidationFailed(
            "%(year)s 年本地区（%(code)s）的低保标准尚未设置，请先在“政策与参数”中维护"
            % {"year": day.year, "code": organization.region_code}
        )
    assessment = assess_household(
        annual_income_fen=figures.annual_income_fen,
        rigid_spending_fen=figures.rigid_spending_fen,
        household_size=figures.household_size,
        dibao_monthly_fen=dibao,
        hardship_costs_fen=figures.hardship_costs_fen,
        disaster=figures.disaster,
        params=ClassParams.of(rules.classes.body),
    )
    return Decision(assessment, dibao, day.year, rules.classes.version, rules.dibao.version)


def _seal_figures(file: HardshipFile, figures: Figures, decision: Decision) -> None:
    file.annual_income_encrypted = seal(HardshipFile, "annual_income_encrypted", str(figures.annual_income_fen))
    file.rigid_spending_encrypted = seal(HardshipFile, "rigid_spending_encrypted", str(figures.rigid_spending_fen))
    file.hardship_costs_encrypted = seal(HardshipFile, "hardship_costs_encrypted", str(figures.hardship_costs_fen))
    file.household_size = figures.household_size
    file.disaster = figures.disaster
    file.hardship_class = decision.assessment.klass.value
    file.dibao_monthly_fen = decision.dibao_monthly_fen
    file.assessment_year = decision.year
    file.classes_policy = decision.classes_version
    file.dibao_policy = decision.dibao_version
    file.assessed_at = timezone.now()


def figures_open(file: HardshipFile) -> Figures:
    """The sealed figures in clear (callers audit the reveal)."""

    def opened(name: str) -> int:
        return int(unseal(HardshipFile, name, getattr(file, name)))

    return Figures(
        annual_income_fen=opened("annual_income_encrypted"),
        rigid_spending_fen=opened("rigid_spending_encrypted"),
        hardship_costs_fen=opened("hardship_costs_encrypted"),
        household_size=file.household_size,
        disaster=file.disaster,
    )


def explain(file: HardshipFile) -> Assessment:
    """The file's class recomputed from its stored figures, 低保 standard and the policy version
    it was decided under — whatever has been published since."""
    figures = figures_open(file)
    body = policy_explain(kind=policies.CLASSES, version=file.classes_policy_id)
    return assess_household(
        annual_income_fen=figures.annual_income_fen,
        rigid_spending_fen=figures.rigid_spending_fen,
        household_size=figures.household_size,
        dibao_monthly_fen=file.dibao_monthly_fen,
        hardship_costs_fen=figures.hardship_costs_fen,
        disaster=figures.disaster,
        params=ClassParams.of(body),
    )


# ---- filing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Particulars:
    main_cause: str
    secondary_causes: list[str]
    visit_group: str
    labour_since: dt.date | None
    contact_user: Any
    contact_name: str
    contact_phone: str


def _particulars(*, organization: Any, member: Member, data: Mapping[str, Any], today: dt.date) -> Particulars:
    causes = dict(Cause.choices)
    main = parsing.clean(data.get("main_cause"))
    if main not in causes:
        raise ValidationFailed("请选择主要致困原因", fields={"main_cause": "请选择主要致困原因"})
    raw_secondary = data.get("secondary_causes") or []
    secondary = [parsing.clean(c) for c in (raw_secondary if isinstance(raw_secondary, list) else [raw_secondary])]
    secondary = [c for c in dict.fromkeys(secondary) if c]
    if any(c not in causes for c in secondary):
        raise ValidationFailed("次要致困原因无效", fields={"secondary_causes": "请从列表中选择"})
    if main in secondary:
        raise ValidationFailed("次要致困原因不能与主要原因相同", fields={"secondary_causes": "不能与主要原因相同"})
    if len(secondary) > MAX_SECONDARY_CAUSES:
        raise ValidationFailed("次要致困原因最多选三项", fields={"secondary_causes": "最多选三项"})
    groups = policies.resolved(policies.VISIT_GROUPS, organization).body
    group = parsing.clean(data.get("visit_group"))
    if group and group not in dict(policies.active_choices(groups, "groups")):
        raise ValidationFailed("慰问对象类别无效", fields={"visit_group": "请从列表中选择"})
    raw_since = parsing.clean(data.get("labour_since"))
    since = (
        _field("labour_since", parsing.parse_date, raw_since, label="劳动关系起始日期", latest=today)
        if raw_since
        else None
    )
    if group == policies.MIGRANT_GROUP or member.tags & Tag.MIGRANT:
        # 困难农民工: at least one year of labour relation with the employer.
        if since is None:
            raise ValidationFailed(
                "农民工建档须填写劳动关系起始日期", fields={"labour_since": "请填写劳动关系起始日期"}
            )
        if add_months(since, 12) > today:
            raise ValidationFailed(
                "困难农民工须与用人单位建立劳动关系满 1 年（%(day)s 起算，%(due)s 满一年）"
                % {"day": since.isoformat(), "due": add_months(since, 12).isoformat()},
                fields={"labour_since": "劳动关系未满 1 年"},
            )
    contact_user = data.get("contact_user")
    contact_name = parsing.clean(data.get("contact_name"))[:50]
    contact_phone = parsing.clean(data.get("contact_phone"))
    if contact_user is None:
        if not contact_name:
            raise ValidationFailed("请指定帮扶联系人", fields={"contact_name": "请选择工作人员或填写联系人姓名"})
        if not (len(contact_phone) == 11 and contact_phone.isdigit() and contact_phone.startswith("1")):
            raise ValidationFailed("联系人手机号应为 11 位数字", fields={"contact_phone": "请填写 11 位手机号"})
    else:
        contact_name, contact_phone = "", ""
    return Particulars(main, secondary, group, since, contact_user, contact_name, contact_phone)


def _apply(file: HardshipFile, p: Particulars) -> None:
    file.main_cause = p.main_cause
    file.secondary_causes = p.secondary_causes
    file.visit_group = p.visit_group
    file.labour_since = p.labour_since
    file.contact_user = p.contact_user
    file.contact_name = p.contact_name
    file.contact_phone = p.contact_phone


def _new_file_no(today: dt.date) -> str:
    return "KN%d%08d" % (today.year, secrets.randbelow(10**8))


def _refuse_none(decision: Decision) -> None:
    if decision.assessment.klass == HardshipClass.NONE:
        raise ValidationFailed(
            "按现行认定标准，该家庭不符合困难职工条件，不能建档",
            fields={"annual_income": "；".join(decision.assessment.steps[-2:])},
        )


def hardship_file_create(*, actor: Any, member: Member, data: Mapping[str, Any]) -> HardshipFile:
    """File a household (建档) for `member` with their union. One household one file: a member
    already filed is refused (a family that left and falls back is filed again on its file)."""
    organization = member.organization
    _require(actor, ReliefPerm.MANAGE, organization, "您无权为该会员建立困难职工档案")
    today = timezone.localdate()
    figures = figures_parse(data)
    particulars = _particulars(organization=organization, member=member, data=data, today=today)
    decision = assess(organization=organization, figures=figures, on=today)
    _refuse_none(decision)
    file = HardshipFile(
        organization=organization,
        member=member,
        file_no=_new_file_no(today),
        filed_on=today,
        next_visit_due=add_months(today, VISIT_INTERVAL_MONTHS),
        created_by=actor,
    )
    _apply(file, particulars)
    _seal_figures(file, figures, decision)
    try:
        with transaction.atomic():
            file.save()
            workflow_start(
                actor=actor,
                obj=file,
                workflow=WITHDRAWAL,
                step="create",
                label="建档",
                detail={"class": file.hardship_class, "classes_policy": getattr(decision.classes_version, "pk", None)},
            )
    except IntegrityError:
        raise Conflict("该会员已有困难职工档案（一户一档），请在原档案中更新") from None
    return file


def hardship_file_update(*, actor: Any, file: HardshipFile, data: Mapping[str, Any]) -> HardshipFile:
    """Correct the file's figures and particulars; the class is assessed again under today's policy."""
    _require(actor, ReliefPerm.MANAGE, file.organization, "您无权修改该困难职工档案")
    if file.status not in (FileStatus.ACTIVE, FileStatus.NOTICE):
        raise Conflict("该档案已退档，如家庭再次陷入困难请“重新建档”")
    today = timezone.localdate()
    figures = figures_parse(data)
    particulars = _particulars(organization=file.organization, member=file.member, data=data, today=today)
    decision = assess(organization=file.organization, figures=figures, on=today)
    _refuse_none(decision)
    with transaction.atomic():
        locked = HardshipFile.objects.select_for_update().get(pk=file.pk)
        before = locked.hardship_class
        _apply(locked, particulars)
        _seal_figures(locked, figures, decision)
        locked.save()
        audit.record(
            actor=actor,
            action="relief.file_update",
            obj=locked,
            organization=locked.organization,
            detail={"class_before": before, "class": locked.hardship_class},
        )
    return locked


@dataclass(frozen=True)
class Revealed:
    figures: Figures
    assessment: Assessment
    household: list[dict[str, Any]]


def hardship_file_reveal(*, actor: Any, file: HardshipFile) -> Revealed:
    """The household's figures, its members' income, health and disability, and the class
    arithmetic under the version it was decided by — audited."""
    _require(actor, ReliefPerm.REVEAL, file.organization, "您无权查看困难家庭的收入等敏感信息")
    household = [
        {
            "person": person,
            "annual_income_fen": int(
                unseal(HouseholdMember, "annual_income_encrypted", person.annual_income_encrypted) or 0
            ),
            "health": unseal(HouseholdMember, "health_encrypted", person.health_encrypted),
            "disability": unseal(HouseholdMember, "disability_encrypted", person.disability_encrypted),
        }
        for person in file.household.all()
    ]
    revealed = Revealed(figures_open(file), explain(file), household)
    with transaction.atomic():
        audit.record(actor=actor, action="relief.file_reveal", obj=file, organization=file.organization)
    return revealed


def household_member_add(*, actor: Any, file: HardshipFile, data: Mapping[str, Any]) -> HouseholdMember:
    _require(actor, ReliefPerm.MANAGE, file.organization, "您无权修改该困难职工档案")
    name = parsing.clean(data.get("name"))
    if not name or len(name) > 50:
        raise ValidationFailed("请填写家庭成员姓名（50 字以内）", fields={"name": "请填写姓名"})
    relation = parsing.clean(data.get("relation"))
    if relation not in dict(Relation.choices):
        raise ValidationFailed("请选择与职工的关系", fields={"relation": "请选择关系"})
    schooling = parsing.clean(data.get("schooling")) or Schooling.NONE
    if schooling not in dict(Schooling.choices):
        raise ValidationFailed("就学情况无效", fields={"schooling": "请从列表中选择"})
    this_year = timezone.localdate().year
    birth_year = _field(
        "birth_year",
        parsing.parse_optional_int,
        data.get("birth_year"),
        label="出生年份",
        minimum=1900,
        maximum=this_year,
    )
    income = _field(
        "annual_income", parsing.parse_yuan, data.get("annual_income") or "0", label="年收入", maximum_fen=MONEY_MAX_FEN
    )
    health = parsing.clean(data.get("health"))[:200]
    disability = parsing.clean(data.get("disability"))[:200]
    with transaction.atomic():
        locked = HardshipFile.objects.select_for_update().get(pk=file.pk)
        if locked.household.count() + 1 >= locked.household_size:
            raise ValidationFailed(
                "家庭成员人数不能超过共同生活人口（%(n)s 人，含职工本人）" % {"n": locked.household_size},
                fields={"name": "请先修改共同生活人口"},
            )
        person = HouseholdMember.objects.create(
            file=locked,
            name=name,
            relation=relation,
            birth_year=birth_year,
            schooling=schooling,
            annual_income_encrypted=seal(HouseholdMember, "annual_income_encrypted", str(income)),
            health_encrypted=seal(HouseholdMember, "health_encrypted", health),
            disability_encrypted=seal(HouseholdMember, "disability_encrypted", disability),
        )
        audit.record(
            actor=actor,
            action="relief.household_add",
            obj=locked,
            organization=locked.organization,
            detail={"relation": relation},
        )
    return person


def household_member_remove(*, actor: Any, file: HardshipFile, person_id: int) -> None:
    _require(actor, ReliefPerm.MANAGE, file.organization, "您无权修改该困难职工档案")
    with transaction.atomic():
        deleted, _ = HouseholdMember.objects.filter(file=file, pk=person_id).delete()
        if not deleted:
            raise NotFound("家庭成员不存在")
        audit.record(actor=actor, action="relief.household_remove", obj=file, organization=file.organization)


def visit_record(*, actor: Any, file: HardshipFile, data: Mapping[str, Any]) -> Visit:
    """A 走访: the next visit falls due six months after it."""
    _require(actor, ReliefPerm.MANAGE, file.organization, "您无权登记该档案的走访")
    today = timezone.localdate()
    visited_on = _field(
        "visited_on", parsing.parse_date, data.get("visited_on"), label="走访日期", earliest=file.filed_on, latest=today
    )
    notes = parsing.clean(data.get("notes"))
    if not notes:
        raise ValidationFailed("请填写走访情况", fields={"notes": "请填写走访情况"})
    if len(notes) > 500:
        raise ValidationFailed("走访情况不能超过 500 字", fields={"notes": "不能超过 500 字"})
    with transaction.atomic():
        locked = HardshipFile.objects.select_for_update().get(pk=file.pk)
        if locked.status == FileStatus.ENDED:
            raise Conflict("该档案跟踪期已结束，不再登记走访")
        visit = Visit.objects.create(file=locked, visited_on=visited_on, visitor=actor, notes=notes)
        if locked.last_visit_on is None or visited_on >= locked.last_visit_on:
            locked.last_visit_on = visited_on
            locked.next_visit_due = add_months(visited_on, VISIT_INTERVAL_MONTHS)
            locked.save(update_fields=["last_visit_on", "next_visit_due", "updated_at"])
        audit.record(
            actor=actor,
            action="relief.visit_record",
            obj=locked,
            organization=locked.organization,
            detail={"visited_on": visited_on.isoformat(), "next_visit_due": locked.next_visit_due.isoformat()},
        )
    return visit


# ---- attachments ---------------------------------------------------------------------------


def read_upload(upload: UploadedFile | None, model: Any, folder: str) -> tuple[str, str, int, str]:
    """Check an uploaded document (a PDF, PNG or JPEG of at most 5 MB, by its first bytes, not
    its name) and seal it into private storage: (filename, content type, size, stored name)."""
    if upload is None:
        raise ValidationFailed("请选择要上传的文件", fields={"upload": "请选择文件"})
    if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed("文件不能超过 5 MB", fields={"upload": "文件不能超过 5 MB"})
    content = upload.read(ATTACHMENT_MAX_BYTES + 1)
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed("文件不能超过 5 MB", fields={"upload": "文件不能超过 5 MB"})
    if not content:
        raise ValidationFailed("文件是空的", fields={"upload": "文件是空的"})
    kind = next((v for magic, v in ATTACHMENT_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise ValidationFailed("只能上传 PDF、PNG 或 JPG 文件", fields={"upload": "只能上传 PDF、PNG 或 JPG 文件"})
    content_type, suffix = kind
    name = parsing.clean(upload.name or "")[-100:] or "材料" + suffix
    stored = seal_file(
        model, "stored", "%s/%s.enc" % (folder, secrets.token_hex(16)), base64.b64encode(content).decode("ascii")
    )
    return name, content_type, len(content), stored


def attachment_add(*, actor: Any, file: HardshipFile, upload: UploadedFile | None) -> Attachment:
    """A supporting document of the file, sealed into private storage."""
    _require(actor, ReliefPerm.MANAGE, file.organization, "您无权为该档案上传材料")
    name, content_type, size, stored = read_upload(upload, Attachment, "relief_attachments")
    with transaction.atomic():
        locked = HardshipFile.objects.select_for_update().get(pk=file.pk)
        attachment = Attachment.objects.create(
            file=locked, filename=name, content_type=content_type, size=size, stored=stored, uploaded_by=actor
        )
        audit.record(
            actor=actor,
            action="relief.attachment_add",
            obj=locked,
            organization=locked.organization,
            detail=attachment.describe(),
        )
    return attachment


def attachment_read(*, actor: Any, attachment: Attachment) -> bytes:
    """The document's content, audited as a reveal of the file."""
    file = attachment.file
    _require(actor, ReliefPerm.REVEAL, file.organization, "您无权查看困难家庭的证明材料")
    content = base64.b64decode(unseal_file(Attachment, "stored", attachment.stored))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="relief.attachment_read",
            obj=file,
            organization=file.organization,
            detail=attachment.describe(),
        )
    return content


# ---- 退档 and 重新建档 -------------------------------------------------------------------------


def calendar_for(organization: Any) -> WorkCalendar:
    """The official schedule with the union's local overrides (the kernel's `core.workdays`)."""
    return WorkCalendar.of(policy_for(kind=WORKDAYS_POLICY, organization=organization).body)


def withdrawal_notice(*, actor: Any, file: HardshipFile, reason: str) -> HardshipFile:
    """Open the 退档 public notice today; it runs for 5 working days."""

    def effect(obj: HardshipFile, step: Step) -> list[str]:
        today = timezone.localdate()
        obj.notice_starts_on = today
        obj.notice_ends_on = calendar_for(obj.organization).nth_working_day(today, NOTICE_WORKING_DAYS)
        obj.withdraw_reason = step.reason
        return ["notice_starts_on", "notice_ends_on", "withdraw_reason"]

    result: HardshipFile = workflow_transition(
        actor=actor, obj=file, workflow=WITHDRAWAL, transition="notice", reason=reason, effect=effect
    )
    return result


def withdrawal_decide(*, actor: Any, file: HardshipFile, approve: bool, reason: str = "") -> HardshipFile:
    """The parent organisation approves leaving the file once the notice has run its course
    (6 months of follow-up start), or keeps the family on file."""

    def approve_effect(obj: HardshipFile, step: Step) -> list[str]:
        today = timezone.localdate()
        assert obj.notice_ends_on is not None
        if today <= obj.notice_ends_on:
            raise Conflict(
                "公示期未满 %(n)s 个工作日（%(day)s 截止），请公示期满后再审批"
                % {"n": NOTICE_WORKING_DAYS, "day": obj.notice_ends_on.isoformat()}
            )
        obj.withdrawn_on = today
        obj.follow_up_until = add_months(today, FOLLOW_UP_MONTHS)
        return ["withdrawn_on", "follow_up_until"]

    def keep_effect(obj: HardshipFile, step: Step) -> list[str]:
        obj.notice_starts_on = None
        obj.notice_ends_on = None
        return ["notice_starts_on", "notice_ends_on"]

    result: HardshipFile = workflow_transition(
        actor=actor,
        obj=file,
        workflow=WITHDRAWAL,
        transition="withdraw" if approve else "keep",
        reason=reason,
        effect=approve_effect if approve else keep_effect,
    )
    return result


def follow_up_end(*, actor: Any, file: HardshipFile) -> HardshipFile:
    def effect(obj: HardshipFile, step: Step) -> list[str]:
        assert obj.follow_up_until is not None
        if timezone.localdate() < obj.follow_up_until:
            raise Conflict("跟踪期至 %(day)s 结束，未到期不能结束跟踪" % {"day": obj.follow_up_until.isoformat()})
        return []

    result: HardshipFile = workflow_transition(
        actor=actor, obj=file, workflow=WITHDRAWAL, transition="end_follow_up", effect=effect
    )
    return result


# What re-filing keeps of the file; every other field is filled afresh.
_KEEP = {"organization", "member", "file_no", "status", "created_by", "created_at", "updated_at", "last_visit_on"}


def hardship_file_refile(*, actor: Any, file: HardshipFile, data: Mapping[str, Any]) -> HardshipFile:
    """A family that left the file and falls back is filed again on the same file, assessed
    afresh; a family the policy no longer classes as in hardship is refused."""
    today = timezone.localdate()
    figures = figures_parse(data)
    particulars = _particulars(organization=file.organization, member=file.member, data=data, today=today)
    decision = assess(organization=file.organization, figures=figures, on=today)
    _refuse_none(decision)

    def effect(obj: HardshipFile, step: Step) -> list[str]:
        _apply(obj, particulars)
        _seal_figures(obj, figures, decision)
        obj.notice_starts_on = obj.notice_ends_on = obj.withdrawn_on = obj.follow_up_until = None
        obj.withdraw_reason = ""
        obj.filed_on = today
        obj.next_visit_due = add_months(today, VISIT_INTERVAL_MONTHS)
        obj.refiled_count += 1
        return [f.name for f in HardshipFile._meta.concrete_fields if not f.primary_key and f.name not in _KEEP]

    facts: dict[str, Any] = {"class": decision.assessment.klass.value}
    result: HardshipFile = workflow_transition(
        actor=actor,
        obj=file,
        workflow=WITHDRAWAL,
        transition="refile",
        reason=parsing.clean(data.get("reason")),
        effect=effect,
        **facts,
    )
    return result
