"""网上申请入会: a worker applies on the phone page, the grassroots union approves or declines.

Submitting needs the phone proved with an SMS code, the union's code (given by the employer's
union), a valid ID number and consent to the personal-information rules. One application per
ID number can wait at a time (a partial unique key), and nobody already registered can apply.
Approval registers the member through `services.member_create` — the same rules and audit as a
member registered at the counter — with 入会方式 网上申请入会."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from gonghui.accounts.services import sms_code_consume
from gonghui.core import audit
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import IdentifierError
from gonghui.core.permissions import Perm
from gonghui.members import services
from gonghui.members.identity import decrypt_id_number, identity_from_raw
from gonghui.members.models import ApplicationStatus, JoinApplication, JoinMethod, Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import has_perm_on, scope_q

# Member form fields an applicant fills in besides name, phone and ID number.
APPLICANT_FIELDS = ("ethnicity", "education", "household_type", "work_unit", "tags")


def application_submit(
    *, phone: str, code: str, union_code: str, id_number: str, data: dict[str, Any], consent: bool
) -> JoinApplication:
    errors: dict[str, str] = {}
    union_code = union_code.strip()
    organization = (
        Organization.objects.filter(code=union_code, level=Level.GRASSROOTS, is_active=True).first()
        if union_code
        else None
    )
    if not union_code:
        errors["union_code"] = "请选择工会"
    elif organization is None:
        errors["union_code"] = "未找到该基层工会，请输入单位或工会名称搜索后选择"
    cleaned, field_errors = services.clean_member_fields(
        {"name": data.get("name", ""), "phone": phone, **{k: data[k] for k in APPLICANT_FIELDS if k in data}},
        partial=True,
    )
    errors.update(field_errors)
    identity = None
    try:
        identity = identity_from_raw(id_number)
    except IdentifierError as exc:
        errors["id_number"] = str(exc)
    if not consent:
        errors["consent"] = "请阅读并同意《个人信息保护说明》"
    if not code.strip():
        errors["code"] = "请填写短信验证码"
    if errors or identity is None or organization is None:
        raise ValidationFailed("申请信息有误，请检查标红的项目", fields=errors)
    # The code is spent only once the form is right (a typo elsewhere keeps it), and before
    # anything about the registry is said: whether an ID number belongs to a member is for
    # the holder of a proved phone to learn, not for anyone who posts the form.
    sms_code_consume(phone=cleaned["phone"], code=code)
    if Member.objects.filter(id_blind=identity.blind).exists():
        raise Conflict("该身份证号码已是工会会员，请用登记的手机号直接登录")
    try:
        with transaction.atomic():
            application = JoinApplication.objects.create(
                organization=organization,
                name=cleaned.pop("name"),
                phone=cleaned.pop("phone"),
                id_number_encrypted=identity.encrypted,
                id_blind=identity.blind,
                id_masked=identity.masked,
                details=cleaned,
            )
            audit.record(
                actor=None,
                action="member.join_apply",
                obj=application,
                organization=organization,
                detail={"id_masked": identity.masked},
            )
    except IntegrityError:
        raise Conflict("您已提交过入会申请，正在等待工会审核") from None
    return application


def application_decide(*, actor: Any, application: JoinApplication, approve: bool, reason: str = "") -> JoinApplication:
    """Approve (registers the member) or decline with a reason; only a pending application."""
    if not has_perm_on(actor, Perm.MEMBER_EDIT, application.organization):
        raise PermissionDenied("无权审核该工会的入会申请")
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationFailed("不予批准时请填写原因", fields={"reason": "请填写原因"})
    if len(reason) > 200:
        raise ValidationFailed("审核意见不能超过200字", fields={"reason": "不能超过200字"})
    with transaction.atomic():
        locked = JoinApplication.objects.select_for_update().select_related("organization").get(pk=application.pk)
        if locked.status != ApplicationStatus.PENDING:
            raise Conflict("该申请已审核（%(status)s）" % {"status": locked.get_status_display()})
        if approve:
            locked.member = services.member_create(
                actor=actor,
                organization=locked.organization,
                id_number=decrypt_id_number(locked.id_number_encrypted),
                data={
                    **locked.details,
                    "name": locked.name,
                    "phone": locked.phone,
                    "join_method": JoinMethod.ONLINE,
                    "joined_on": timezone.localdate(),
                },
            )
        locked.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "member"])
        audit.record(
            actor=actor,
            action="member.join_decide",
            obj=locked,
            organization=locked.organization,
            detail={"approve": approve, "reason": reason, "member": locked.member_id},
        )
    return locked


def applications_for_actor(*, actor: Any, status: str = "") -> QuerySet[JoinApplication]:
    qs = JoinApplication.objects.filter(scope_q(actor, Perm.MEMBER_EDIT)).select_related("organization", "decided_by")
    return qs.filter(status=status) if status else qs


def application_get_for_actor(*, actor: Any, pk: int | str) -> JoinApplication:
    application = applications_for_actor(actor=actor).filter(pk=pk).first()
    if application is None:
        raise NotFound("入会申请不存在或无权访问")
    return application
