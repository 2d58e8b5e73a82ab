"""网上申请入会: a worker applies on the phone page, the grassroots union checks (初审), a second member of its staff approves, or one declines.

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
from gonghui.core import workflow
from gonghui.core.errors import Conflict, NotFound, ValidationFailed
from gonghui.core.identifiers import IdentifierError
from gonghui.members import services
from gonghui.members.identity import decrypt_id_number, identity_from_raw
from gonghui.members.models import JoinApplication, JoinMethod, Member
from gonghui.members.permissions import MemberPerm
from gonghui.members.workflows import JOIN_APPLICATION
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import scope_q

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
    else:
        # Approval makes today the date joined: an applicant under 16 could never be registered.
        too_young = services.joined_on_error(timezone.localdate(), identity.resident.birth_date)
        if too_young:
            errors["id_number"] = "未满%(age)d周岁，暂不能申请入会" % {"age": services.MIN_JOINING_AGE}
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
            workflow.workflow_start(
                actor=None,
                obj=application,
                workflow=JOIN_APPLICATION,
                organization=organization,
                detail={"id_masked": identity.masked},
            )
    except IntegrityError:
        raise Conflict("您已提交过入会申请，正在等待工会审核") from None
    return application


DECISIONS = ("check", "approve", "reject")


def _decision_effect(application: JoinApplication, step: workflow.Step) -> list[str]:
    if step.transition.name == "check":
        return []
    if step.transition.name == "approve":
        application.member = services.member_create(
            actor=step.actor,
            organization=application.organization,
            id_number=decrypt_id_number(application.id_number_encrypted),
            data={
                **application.details,
                "name": application.name,
                "phone": application.phone,
                "join_method": JoinMethod.ONLINE,
                "joined_on": timezone.localdate(),
            },
        )
    application.decided_by = step.actor
    application.decided_at = step.at
    application.decision_reason = step.reason
    return ["decided_by", "decided_at", "decision_reason", "member"]


def application_decide(*, actor: Any, application: JoinApplication, decision: str, reason: str = "") -> JoinApplication:
    """初审 (`check`), approve (registers the member) or decline with a reason, as declared in
    `workflows.JOIN_APPLICATION`: whoever checked an application may not approve it."""
    if decision not in DECISIONS:
        raise ValidationFailed("请选择审核结果", fields={"decision": "请选择审核结果"})
    decided: JoinApplication = workflow.workflow_transition(
        actor=actor,
        obj=application,
        workflow=JOIN_APPLICATION,
        transition=decision,
        reason=reason,
        effect=_decision_effect,
    )
    return decided


def applications_for_actor(*, actor: Any, status: str = "") -> QuerySet[JoinApplication]:
    qs = JoinApplication.objects.filter(scope_q(actor, MemberPerm.MEMBER_EDIT)).select_related(
        "organization", "decided_by"
    )
    return qs.filter(status=status) if status else qs


def application_get_for_actor(*, actor: Any, pk: int | str) -> JoinApplication:
    application = applications_for_actor(actor=actor).filter(pk=pk).first()
    if application is None:
        raise NotFound("入会申请不存在或无权访问")
    return application
