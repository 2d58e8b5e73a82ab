"""Member writes. Each function owns its transaction and writes the audit event in it."""

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.accounts.services import sms_code_consume
from gonghui.core import audit, parsing, workflow
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import IdentifierError, validate_phone
from gonghui.core.models import AuditResult
from gonghui.members.identity import (
    decrypt_id_number,
    identity_from_raw,
    name_initials,
    new_card_no,
    new_member_no,
)
from gonghui.members.models import (
    ETHNICITIES,
    Consent,
    ConsentPurpose,
    Education,
    HardshipClass,
    HouseholdType,
    JoinMethod,
    Member,
    MemberHistory,
    MembershipStatus,
    ModelWorkerLevel,
    Tag,
    Transfer,
    TransferStatus,
)
from gonghui.members.permissions import MemberPerm
from gonghui.members.workflows import TRANSFER
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import has_perm_on

EDITABLE_FIELDS = (
    "name",
    "phone",
    "ethnicity",
    "education",
    "skill_level",
    "political_status",
    "household_type",
    "household_place",
    "work_unit",
    "tags",
    "model_worker_level",
    "hardship_class",
    "joined_on",
    "join_method",
)
ALL_TAGS = sum(t.value for t in Tag)
MIN_JOINING_AGE = 16
EARLIEST_JOINED_ON = dt.date(1950, 1, 1)  # 《工会法》 of 1950; no member's record starts earlier

# Status changes staff may make directly; transfers move through their own workflow.
STATUS_CHANGES: dict[str, set[str]] = {
    MembershipStatus.ACTIVE: {MembershipStatus.RETAINED, MembershipStatus.WITHDRAWN},
    MembershipStatus.RETAINED: {MembershipStatus.ACTIVE, MembershipStatus.WITHDRAWN},
    MembershipStatus.WITHDRAWN: {MembershipStatus.ACTIVE},
    MembershipStatus.TRANSFERRED: {MembershipStatus.ACTIVE},
    MembershipStatus.TRANSFERRING: set(),
}


def clean_member_fields(
    data: dict[str, Any], *, partial: bool, birth_date: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the editable fields; returns (cleaned values, Chinese error per field). With the
    member's birth date, the date joined is checked against it too."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def choice(field: str, choices: Any, label: str) -> None:
        if field in data:
            value = (data[field] or "").strip()
            if value and value not in choices.values:
                errors[field] = f"{label}取值无效"
            else:
                cleaned[field] = value

    if "name" in data or not partial:
        name = (data.get("name") or "").strip()
        if not name:
            errors["name"] = "请填写姓名"
        elif len(name) > 50:
            errors["name"] = "姓名不能超过50个字"
        else:
            cleaned["name"] = name
    if "phone" in data or not partial:
        raw = (data.get("phone") or "").strip()
        if not raw:
            errors["phone"] = "请填写手机号"
        else:
            try:
                cleaned["phone"] = validate_phone(raw)
            except IdentifierError as exc:
                errors["phone"] = str(exc)
    if "ethnicity" in data:
        value = (data["ethnicity"] or "汉族").strip()
        if value not in ETHNICITIES:
            errors["ethnicity"] = "民族取值无效"
        else:
            cleaned["ethnicity"] = value
    choice("education", Education, "学历")
    choice("household_type", HouseholdType, "户籍类型")
    choice("model_worker_level", ModelWorkerLevel, "劳模/工匠")
    choice("hardship_class", HardshipClass, "困难职工类别")
    choice("join_method", JoinMethod, "入会方式")
    for field, limit in (("skill_level", 20), ("political_status", 20), ("household_place", 60), ("work_unit", 120)):
        if field in data:
            value = (data[field] or "").strip()
            if len(value) > limit:
                errors[field] = f"不能超过{limit}个字"
            else:
                cleaned[field] = value
    if "tags" in data:
        raw_tags = data["tags"] or 0
        tags = (
            raw_tags
            if isinstance(raw_tags, int)
            else parsing.query_int(data, "tags", default=-1, minimum=0, maximum=ALL_TAGS)
        )
        if tags < 0 or tags & ~ALL_TAGS:
            errors["tags"] = "标签取值无效"
        else:
            cleaned["tags"] = tags
    if "joined_on" in data or not partial:
        value = data.get("joined_on")
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip()) if len(value.strip()) <= 10 else None
            except ValueError:
                value = None
            if value is None:
                errors["joined_on"] = "入会日期格式应为 YYYY-MM-DD"
        if value is None and "joined_on" not in errors:
            errors["joined_on"] = "请填写入会日期"
        elif value is not None:
            message = joined_on_error(value, birth_date)
            if message:
                errors["joined_on"] = message
            else:
                cleaned["joined_on"] = value
    return cleaned, errors


def _years_after(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February falls on 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def joined_on_error(joined: dt.date, birth: dt.date | None, *, today: dt.date | None = None) -> str | None:
    """Why a date joined is not plausible, or None: not in the future, not before 1950, and
    (with the birth date known) not before the member turned 16."""
    today = today or timezone.localdate()
    if joined > today:
        return "入会日期不能晚于今天"
    if joined < EARLIEST_JOINED_ON:
        return "入会日期不能早于 %(day)s" % {"day": EARLIEST_JOINED_ON.isoformat()}
    if birth is not None:
        sixteen = _years_after(birth, MIN_JOINING_AGE)
        if joined < sixteen:
            return "入会日期应在年满%(age)d周岁（%(day)s）之后" % {"age": MIN_JOINING_AGE, "day": sixteen.isoformat()}
    return None


def _grassroots_check(organization: Organization) -> None:
    if organization.level != Level.GRASSROOTS:
        raise ValidationFailed("会员只能归属于基层工会", fields={"organization": "请选择基层工会"})


def member_create(*, actor: Any, organization: Organization, id_number: str, data: dict[str, Any]) -> Member:
    if not has_perm_on(actor, MemberPerm.MEMBER_EDIT, organization):
        raise PermissionDenied("无权在该工会登记会员")
    _grassroots_check(organization)
    identity, id_error = None, ""
    try:
        identity = identity_from_raw(id_number)
    except IdentifierError as exc:
        id_error = str(exc)
    cleaned, errors = clean_member_fields(
        data, partial=False, birth_date=identity.resident.birth_date if identity is not None else None
    )
    if identity is None:
        errors["id_number"] = id_error
    if identity is not None and Member.objects.filter(id_blind=identity.blind).exists():
        errors["id_number"] = "该身份证号码已登记为会员"
    if errors or identity is None:
        raise ValidationFailed("会员信息有误，请检查标红的字段", fields=errors)
    try:
        with transaction.atomic():
            member = Member.objects.create(
                organization=organization,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name_initials=name_initials(cleaned["name"]),
                sex=identity.resident.sex,
                birth_date=identity.resident.birth_date,
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                **cleaned,
            )
            MemberHistory.objects.create(member=member, version=1, actor=actor, action="create", changes={})
            audit.record(actor=actor, action="member.create", obj=member, organization=organization)
    except IntegrityError:
        raise Conflict("该身份证号码已登记为会员", fields={"id_number": "该身份证号码已登记为会员"}) from None
    return member


def _display(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def member_update(
    *, actor: Any, member: Member, data: dict[str, Any], reason: str = "", expected_version: int | None = None
) -> Member:
    """Edit a member; every changed field is kept in the history with its old value."""
    if not has_perm_on(actor, MemberPerm.MEMBER_EDIT, member.organization):
        raise PermissionDenied("无权修改该会员")
    cleaned, errors = clean_member_fields(data, partial=True, birth_date=member.birth_date)
    if errors:
        raise ValidationFailed("会员信息有误，请检查标红的字段", fields=errors)
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict("该会员信息已被他人修改，请刷新后重试")
        changes = {
            field: [_display(getattr(locked, field)), _display(value)]
            for field, value in cleaned.items()
            if getattr(locked, field) != value
        }
        if not changes:
            return locked
        for field, value in cleaned.items():
            setattr(locked, field, value)
        if "name" in changes:
            locked.name_initials = name_initials(locked.name)
        locked.version += 1
        locked.save()
        MemberHistory.objects.create(
            member=locked, version=locked.version, actor=actor, action="update", changes=changes, reason=reason
        )
        audit.record(
            actor=actor,
            action="member.update",
            obj=locked,
            organization=locked.organization,
            detail={"fields": sorted(changes)},
        )
    return locked


def member_reveal_id_number(*, actor: Any, member: Member, reason: str) -> str:
    """The full ID number, for an actor with the permission and a stated reason; audited."""
    reason = reason.strip()
    if not has_perm_on(actor, MemberPerm.MEMBER_REVEAL_ID, member.organization):
        audit.record(
            actor=actor,
            action="member.reveal_id",
            obj=member,
            organization=member.organization,
            result=AuditResult.DENIED,
        )
        raise PermissionDenied("无权查看完整证件号码")
    if len(reason) < 4:
        raise ValidationFailed("请填写查看原因（至少4个字）", fields={"reason": "请填写查看原因（至少4个字）"})
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="member.reveal_id",
            obj=member,
            organization=member.organization,
            detail={"reason": reason},
        )
    return decrypt_id_number(member.id_number_encrypted)


def member_change_status(*, actor: Any, member: Member, status: str, reason: str) -> Member:
    if not has_perm_on(actor, MemberPerm.MEMBER_EDIT, member.organization):
        raise PermissionDenied("无权变更该会员的会籍")
    if not reason.strip():
        raise ValidationFailed("请填写变更原因", fields={"reason": "请填写变更原因"})
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if status not in STATUS_CHANGES.get(locked.status, set()):
            raise Conflict(
                "会籍状态不能从“%(old)s”变更为“%(new)s”"
                % {"old": locked.get_status_display(), "new": dict(MembershipStatus.choices).get(status, status)}
            )
        old = locked.status
        locked.status = status
        locked.version += 1
        locked.save(update_fields=["status", "version", "updated_at"])
        MemberHistory.objects.create(
            member=locked,
            version=locked.version,
            actor=actor,
            action="status",
            changes={"status": [old, status]},
            reason=reason,
        )
        audit.record(
            actor=actor,
            action="member.status",
            obj=locked,
            organization=locked.organization,
            detail={"from": old, "to": status},
        )
    return locked


def transfer_submit(*, actor: Any, member: Member, to_org: Organization, reason: str) -> Transfer:
    """Start a 转会 from the member's union. The member is 转出中 until the transfer ends."""
    if not has_perm_on(actor, MemberPerm.TRANSFER_SUBMIT, member.organization):
        raise PermissionDenied("无权为该会员办理转会")
    _grassroots_check(to_org)
    if to_org.pk == member.organization_id:
        raise ValidationFailed("转入工会不能与当前工会相同", fields={"to_org": "请选择其他基层工会"})
    if not reason.strip():
        raise ValidationFailed("请填写转会原因", fields={"reason": "请填写转会原因"})
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status != MembershipStatus.ACTIVE:
            raise Conflict("只有在会会员可以办理转会")
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(
                    member=locked,
                    from_org=locked.organization,
                    to_org=to_org,
                    reason=reason.strip(),
                    submitted_by=actor,
                )
        except IntegrityError:
            raise Conflict("该会员已有进行中的转会申请") from None
        locked.status = MembershipStatus.TRANSFERRING
        locked.save(update_fields=["status", "updated_at"])
        workflow.workflow_start(
            actor=actor, obj=transfer, workflow=TRANSFER, organization=locked.organization, detail={"to": to_org.code}
        )
    return transfer


def _transfer_effect(transfer: Transfer, step: workflow.Step) -> list[str]:
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    if step.transition.name.endswith("_out"):
        transfer.out_decided_by, transfer.out_decided_at = step.actor, step.at
        changed = ["out_decided_by", "out_decided_at"]
    else:
        transfer.in_decided_by, transfer.in_decided_at = step.actor, step.at
        changed = ["in_decided_by", "in_decided_at"]
    if step.to_state == TransferStatus.REJECTED:
        transfer.rejection_reason = step.reason
        changed.append("rejection_reason")
        member.status = MembershipStatus.ACTIVE
        member.save(update_fields=["status", "updated_at"])
    elif step.to_state == TransferStatus.COMPLETED:
        old_org = member.organization
        member.organization = transfer.to_org
        member.status = MembershipStatus.ACTIVE
        member.version += 1
        member.save(update_fields=["organization", "status", "version", "updated_at"])
        MemberHistory.objects.create(
            member=member,
            version=member.version,
            actor=step.actor,
            action="transfer",
            changes={"organization": [old_org.name, transfer.to_org.name]},
            reason=transfer.reason,
        )
    return changed


def transfer_decide(*, actor: Any, transfer: Transfer, approve: bool, reason: str = "") -> Transfer:
    """Approve or reject the open step: out by the old union, then in by the new one
    (`transfer.approve_out` … `transfer.reject_in`, declared in `workflows.TRANSFER`). The
    person who submitted a transfer can never approve it."""
    names = ("approve_out", "approve_in") if approve else ("reject_out", "reject_in")
    decided: Transfer = workflow.workflow_transition(
        actor=actor, obj=transfer, workflow=TRANSFER, transition=names, reason=reason, effect=_transfer_effect
    )
    return decided


def member_user_for_login(*, phone: str, code: str) -> User:
    """Sign a member in with phone + SMS code; the account is created on first login."""
    phone = sms_code_consume(phone=phone, code=code)
    member = (
        Member.objects.filter(phone=phone)
        .exclude(status__in=[MembershipStatus.WITHDRAWN, MembershipStatus.TRANSFERRED])
        .order_by("-id")
        .first()
    )
    if member is None:
        raise ValidationFailed("该手机号未登记为会员，请联系所在基层工会", fields={"phone": "未找到会员"})
    with transaction.atomic():
        user = member.user
        if user is None:
            user = User.objects.create_user(username=f"m{member.member_no}", display_name=member.name, phone=phone)
            member.user = user
            member.save(update_fields=["user", "updated_at"])
        audit.record(actor=user, action="auth.member_login", obj=member, organization=member.organization)
    return user


def consent_grant(*, member: Member, purpose: str, text_version: str) -> Consent:
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed("同意事项无效")
    with transaction.atomic():
        existing = (
            Consent.objects.select_for_update()
            .filter(member=member, purpose=purpose, withdrawn_at__isnull=True)
            .first()
        )
        if existing is not None:
            return existing
        consent = Consent.objects.create(
            member=member, purpose=purpose, text_version=text_version, granted_at=timezone.now()
        )
        audit.record(
            actor=member.user,
            action="consent.grant",
            obj=consent,
            organization=member.organization,
            detail={"purpose": purpose},
        )
    return consent


def consent_withdraw(*, member: Member, purpose: str) -> None:
    with transaction.atomic():
        updated = Consent.objects.filter(member=member, purpose=purpose, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now()
        )
        if updated:
            audit.record(
                actor=member.user,
                action="consent.withdraw",
                organization=member.organization,
                detail={"purpose": purpose},
            )


def has_consent(*, member: Member, purpose: str) -> bool:
    return Consent.objects.filter(member=member, purpose=purpose, withdrawn_at__isnull=True).exists()
