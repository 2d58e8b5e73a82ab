from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.accounts.services import sms_code_send
from gonghui.core import export_jobs, parsing, registry, workflow
from gonghui.core.access import public, requires_perm
from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.core.exports import download
from gonghui.core.middleware import client_ip
from gonghui.core.pagination import paginate
from gonghui.core.plans import custom_plans
from gonghui.members import card, export_names, exports, history, selectors, services
from gonghui.members.forms import FORM_FIELDS, member_data_from_post
from gonghui.members.models import (
    ETHNICITIES,
    ConsentPurpose,
    Education,
    HardshipClass,
    HouseholdType,
    JoinMethod,
    Member,
    MembershipStatus,
    ModelWorkerLevel,
    Tag,
)
from gonghui.members.permissions import MemberPerm
from gonghui.members.workflows import TRANSFER
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.selectors import (
    has_perm_anywhere,
    has_perm_on,
    organization_by_code_for_actor,
    organizations_for_actor,
    scope_root_for_actor,
    transfer_target_by_code,
)


def _form_context(**extra: object) -> dict[str, object]:
    return {
        "ethnicities": ETHNICITIES,
        "educations": Education.choices,
        "household_types": HouseholdType.choices,
        "join_methods": JoinMethod.choices,
        "model_worker_levels": ModelWorkerLevel.choices,
        "hardship_classes": HardshipClass.choices,
        "all_tags": Tag.choices,
        **extra,
    }


# ---- console -------------------------------------------------------------------------


def _filtered_members(
    request: HttpRequest, perm: str = MemberPerm.MEMBER_VIEW
) -> tuple[QuerySet[Member], Organization | None]:
    return selectors.member_list_from_filters(actor=request.user, params=request.GET, perm=perm)


@require_GET
@requires_perm(MemberPerm.MEMBER_VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    qs, org = _filtered_members(request)
    page = paginate(request, qs)
    context = {
        "page": page,
        "filters": request.GET,
        "statuses": MembershipStatus.choices,
        "all_tags": Tag.choices,
        "org": org,
        "can_create": has_perm_on_any_grassroots(request),
        "can_export_cards": has_perm_anywhere(request.user, MemberPerm.MEMBER_EDIT),
        "export_sync_rows": settings.EXPORT_SYNC_ROWS,
    }
    template = "members/_member_rows.html" if request.headers.get("HX-Request") else "members/member_list.html"
    return render(request, template, context)


def _export(request: HttpRequest, *, perm: str, cards: bool) -> HttpResponse:
    """A list up to EXPORT_SYNC_ROWS downloads at once; a longer one becomes a background
    export job and the user follows its progress (and downloads it) on the job's page."""
    qs, org = _filtered_members(request, perm=perm)
    filters = {k: str(v) for k, v in request.GET.items() if v}
    listed = exports.card_list(qs) if cards else qs
    with custom_plans():
        large = len(listed.values_list("pk", flat=True)[: settings.EXPORT_SYNC_ROWS + 1]) > settings.EXPORT_SYNC_ROWS
    if large:
        scope = org or scope_root_for_actor(actor=request.user, perm=perm)
        if scope is None:
            raise NotFound("没有可导出的会员")
        job = export_jobs.export_start(
            actor=request.user,
            name=exports.CARDS_EXPORT if cards else exports.MEMBERS_EXPORT,
            params=filters,
            organization=scope,
        )
        messages.info(request, "数据量较大，已转入后台导出，完成后可在本页或“我的导出”中下载")
        return redirect("core:export_detail", pk=job.pk)
    if cards:
        name = export_names.cards_export_name(actor=request.user, perm=perm, organization=org)
        with custom_plans():
            export = exports.cards_export(actor=request.user, qs=qs, filters=filters, filename=name)
    else:
        name = export_names.members_export_name(actor=request.user, perm=perm, organization=org)
        with custom_plans():
            export = exports.members_export(actor=request.user, qs=qs, filters=filters, filename=name)
    return download(export)


@require_GET
@requires_perm(MemberPerm.MEMBER_VIEW)
def member_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as XLSX, ID numbers and phones masked; audited with its row count."""
    return _export(request, perm=MemberPerm.MEMBER_VIEW, cards=False)


@require_GET
@requires_perm(MemberPerm.MEMBER_EDIT)
def member_card_export(request: HttpRequest) -> HttpResponse:
    """制卡数据 of the filtered list (members in good standing), for the card printer; audited."""
    return _export(request, perm=MemberPerm.MEMBER_EDIT, cards=True)


def has_perm_on_any_grassroots(request: HttpRequest) -> bool:
    return (
        organizations_for_actor(actor=request.user, perm=MemberPerm.MEMBER_EDIT).filter(level=Level.GRASSROOTS).exists()
    )


@require_GET
@requires_perm(MemberPerm.MEMBER_VIEW)
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get_for_actor(actor=request.user, pk=pk)
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "history": history.member_history(member=member),
            "transfers": member.transfers.select_related("from_org", "to_org")[:10],
            "can_edit": has_perm_on(request.user, MemberPerm.MEMBER_EDIT, member.organization),
            "can_reveal": has_perm_on(request.user, MemberPerm.MEMBER_REVEAL_ID, member.organization),
            "can_transfer": has_perm_on(request.user, MemberPerm.TRANSFER_SUBMIT, member.organization)
            and member.status == MembershipStatus.ACTIVE,
            "status_targets": [
                (s, MembershipStatus(s).label)
                for s in services.STATUS_CHANGES.get(MembershipStatus(member.status), set())
            ],
            "sections": registry.sections("members.member_detail", request, member),
        },
    )


@require_POST
@requires_perm(MemberPerm.MEMBER_VIEW)
def member_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get_for_actor(actor=request.user, pk=pk)
    number = services.member_reveal_id_number(actor=request.user, member=member, reason=request.POST.get("reason", ""))
    return render(request, "members/_revealed_id.html", {"number": number})


@require_http_methods(["GET", "POST"])
@requires_perm(MemberPerm.MEMBER_EDIT)
def member_create(request: HttpRequest) -> HttpResponse:
    orgs = organizations_for_actor(actor=request.user, perm=MemberPerm.MEMBER_EDIT).filter(level=Level.GRASSROOTS)
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        try:
            org = organization_by_code_for_actor(
                actor=request.user, perm=MemberPerm.MEMBER_EDIT, code=request.POST.get("organization", "")
            )
            member = services.member_create(
                actor=request.user,
                organization=org,
                id_number=request.POST.get("id_number", ""),
                data=member_data_from_post(request.POST),
            )
        except NotFound:
            errors = {"organization": "请选择所属基层工会"}
            error = "请选择所属基层工会"
        except DomainError as exc:
            errors, error = exc.fields, exc.message
        else:
            messages.success(request, "已登记会员 %(name)s" % {"name": member.name})
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/member_form.html",
        _form_context(orgs=orgs[:500], errors=errors, error=error, values=request.POST, member=None),
        status=422 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@requires_perm(MemberPerm.MEMBER_EDIT)
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get_for_actor(actor=request.user, pk=pk, perm=MemberPerm.MEMBER_EDIT)
    errors: dict[str, str] = {}
    error = None
    values: object = request.POST
    if request.method == "POST":
        try:
            services.member_update(
                actor=request.user,
                member=member,
                data=member_data_from_post(request.POST),
                reason=request.POST.get("reason", ""),
                # A version that is not a number can match no row: the edit is refused as stale.
                expected_version=(
                    parsing.query_int(request.POST, "version", default=-1, minimum=1, maximum=parsing.INT_MAX)
                    if request.POST.get("version")
                    else None
                ),
            )
        except DomainError as exc:
            errors, error = exc.fields, exc.message
        else:
            messages.success(request, "已保存")
            return redirect("members:detail", pk=member.pk)
    else:
        values = {field: getattr(member, field) for field in FORM_FIELDS}
        values["joined_on"] = member.joined_on.isoformat()  # type: ignore[index]
    return render(
        request,
        "members/member_form.html",
        _form_context(
            member=member,
            errors=errors,
            error=error,
            values=values,
            member_tags=[t.value for t in Tag if member.tags & t.value],
        ),
        status=422 if error else 200,
    )


@require_POST
@requires_perm(MemberPerm.MEMBER_EDIT)
def member_status(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get_for_actor(actor=request.user, pk=pk, perm=MemberPerm.MEMBER_EDIT)
    try:
        services.member_change_status(
            actor=request.user,
            member=member,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "会籍状态已变更")
    return redirect("members:detail", pk=member.pk)


@require_http_methods(["GET", "POST"])
@requires_perm(MemberPerm.TRANSFER_SUBMIT)
def transfer_new(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member_get_for_actor(actor=request.user, pk=pk, perm=MemberPerm.TRANSFER_SUBMIT)
    error = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        code = request.POST.get("to_org", "").strip()
        to_org = transfer_target_by_code(code=code)
        try:
            if not code:
                raise ValidationFailed("请选择工会", fields={"to_org": "请选择工会"})
            if to_org is None:
                raise ValidationFailed("转入工会不存在或不是基层工会", fields={"to_org": "请从列表中选择基层工会"})
            services.transfer_submit(
                actor=request.user, member=member, to_org=to_org, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            error, errors = exc.message, exc.fields
        else:
            messages.success(request, "转会申请已提交，等待原工会审批转出")
            return redirect("members:detail", pk=member.pk)
    return render(
        request,
        "members/transfer_form.html",
        {"member": member, "error": error, "errors": errors, "values": request.POST},
        status=422 if error else 200,
    )


@require_GET
@requires_perm(MemberPerm.TRANSFER_SUBMIT, MemberPerm.TRANSFER_APPROVE)
def transfer_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.transfer_list_for_actor(actor=request.user)
    state = request.GET.get("state", "open")
    if state == "open":
        qs = selectors.open_transfers(qs)
    page = paginate(request, qs)
    options = workflow.workflow_options_many(actor=request.user, workflow=TRANSFER, objs=page.items)
    rows = [{"t": t, "can_decide": any(o.allowed for o in options[t.pk])} for t in page.items]
    return render(request, "members/transfer_list.html", {"page": page, "rows": rows, "state": state})


@require_POST
@requires_perm(MemberPerm.TRANSFER_APPROVE)
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_get_for_actor(actor=request.user, pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.transfer_decide(
            actor=request.user, transfer=transfer, approve=approve, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已审批")
    return redirect("members:transfer_list")


# ---- member H5 -------------------------------------------------------------------------


@public
@require_http_methods(["GET", "POST"])
def h5_login(request: HttpRequest) -> HttpResponse:
    error = None
    phone = request.POST.get("phone", "")
    if request.method == "POST":
        try:
            user = services.member_user_for_login(phone=phone, code=request.POST.get("code", ""))
        except DomainError as exc:
            error = exc.message
        else:
            login(request, user, backend="gonghui.accounts.backends.StaffPasswordBackend")
            return redirect("members:h5_home")
    return render(request, "members/h5/login.html", {"error": error, "phone": phone}, status=422 if error else 200)


@public
@require_POST
def h5_send_code(request: HttpRequest) -> HttpResponse:
    try:
        sms_code_send(phone=request.POST.get("phone", ""), ip=client_ip(request))
    except DomainError as exc:
        return render(request, "members/h5/_code_status.html", {"error": exc.message}, status=exc.status)
    return render(request, "members/h5/_code_status.html", {"sent": True})


def _me(request: HttpRequest) -> Member:
    member = selectors.member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    return render(request, "members/h5/home.html", {"member": _me(request), "tiles": registry.tiles()})


@require_GET
def h5_profile(request: HttpRequest) -> HttpResponse:
    return render(request, "members/h5/profile.html", {"member": _me(request)})


@require_GET
def h5_card(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    token = card.card_token_issue(member=member)
    return render(
        request,
        "members/h5/card.html",
        {
            "member": member,
            "token": token,
            "qr": card.qr_data_uri(token.token),
            "sections": registry.sections("members.h5_card", request, member),
        },
    )


@require_GET
def h5_card_qr(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    token = card.card_token_issue(member=member)
    return render(request, "members/h5/_card_qr.html", {"token": token, "qr": card.qr_data_uri(token.token)})


@public
@require_GET
def h5_privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "members/h5/privacy.html", {"purposes": ConsentPurpose.choices})


@require_GET
def h5_consents(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    active = {c.purpose: c for c in member.consents.filter(withdrawn_at__isnull=True)}
    rows = [{"purpose": value, "label": label, "consent": active.get(value)} for value, label in ConsentPurpose.choices]
    return render(request, "members/h5/consents.html", {"rows": rows})


@require_POST
def h5_consent_withdraw(request: HttpRequest, purpose: str) -> HttpResponse:
    if purpose not in ConsentPurpose.values:
        raise NotFound("授权事项不存在")
    services.consent_withdraw(member=_me(request), purpose=purpose)
    messages.success(request, "已撤回授权")
    return redirect("members:h5_consents")
