import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.accounts.models import User
from gonghui.core import jobs, parsing, tabular
from gonghui.core.access import requires_perm
from gonghui.core.actions import button
from gonghui.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import JOB_ACTIVE, JobStatus
from gonghui.core.pagination import paginate
from gonghui.core.permissions import Perm, Role
from gonghui.core.policies import policy_body_diff, policy_body_text, policy_kind, policy_kinds
from gonghui.organizations import policies, selectors, services
from gonghui.organizations.models import Level, PolicyStatus, PolicyVersion, UnitType
from gonghui.organizations.permissions import OrgPerm


@require_GET
@requires_perm(OrgPerm.ORG_VIEW)
def organization_list(request: HttpRequest) -> HttpResponse:
    """Top of the actor's tree, or a search over it by name or code."""
    qs = selectors.organizations_for_actor(actor=request.user, perm=OrgPerm.ORG_VIEW)
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(name__contains=query) | qs.filter(code__startswith=query)
    else:
        roots = selectors.scope_paths(request.user, OrgPerm.ORG_VIEW)
        qs = qs.filter(path__in=roots)
    page = paginate(request, qs.order_by("path"))
    return render(request, "organizations/organization_list.html", {"page": page, "q": query})


@require_GET
@requires_perm(OrgPerm.ORG_VIEW)
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get_for_actor(actor=request.user, perm=OrgPerm.ORG_VIEW, pk=pk)
    children = selectors.organization_children(org)
    page = paginate(request, children, per_page=50)
    visible_ancestors = [
        a for a in selectors.ancestors(org) if selectors.has_perm_on(request.user, OrgPerm.ORG_VIEW, a)
    ]
    can_manage = selectors.has_perm_on(request.user, OrgPerm.ORG_MANAGE, org)
    can_staff = selectors.has_perm_on(request.user, OrgPerm.STAFF_MANAGE, org)
    roles = selectors.role_assignments_for_actor(actor=request.user, organization=org)
    return render(
        request,
        "organizations/organization_detail.html",
        {
            "org": org,
            "page": page,
            "ancestors": visible_ancestors,
            "can_manage": can_manage and org.level < Level.GRASSROOTS,
            "can_staff": can_staff,
            "roles": roles,
            "role_choices": Role.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(OrgPerm.ORG_MANAGE)
def organization_create(request: HttpRequest, pk: int) -> HttpResponse:
    parent = selectors.organization_get_for_actor(actor=request.user, perm=OrgPerm.ORG_MANAGE, pk=pk)
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        try:
            level = parsing.query_int(request.POST, "level", default=-1, minimum=0, maximum=parsing.SMALLINT_MAX)
            org = services.organization_create(
                actor=request.user,
                parent=parent,
                code=request.POST.get("code", ""),
                name=request.POST.get("name", ""),
                level=level,
                region_code=request.POST.get("region_code", ""),
                unit_name=request.POST.get("unit_name", ""),
                credit_code=request.POST.get("credit_code", ""),
                unit_type=request.POST.get("unit_type", ""),
                industry=request.POST.get("industry", ""),
                address=request.POST.get("address", ""),
            )
        except DomainError as exc:
            errors, error = exc.fields, exc.message
        else:
            messages.success(request, "已创建 %(name)s" % {"name": org.name})
            return redirect("organizations:detail", pk=org.pk)
    levels = [(v, label) for v, label in Level.choices if v > parent.level]
    return render(
        request,
        "organizations/organization_form.html",
        {
            "parent": parent,
            "levels": levels,
            "unit_types": UnitType.choices,
            "errors": errors,
            "error": error,
            "values": request.POST,
        },
        status=422 if error else 200,
    )


@require_POST
@requires_perm(OrgPerm.STAFF_MANAGE)
def staff_create(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get_for_actor(actor=request.user, perm=OrgPerm.STAFF_MANAGE, pk=pk)
    try:
        services.staff_create(
            actor=request.user,
            organization=org,
            username=request.POST.get("username", ""),
            display_name=request.POST.get("display_name", ""),
            phone=request.POST.get("phone", ""),
            password=request.POST.get("password", ""),
            role=request.POST.get("role", ""),
        )
    except DomainError as exc:
        messages.error(request, "；".join([exc.message, *exc.fields.values()]))
    else:
        messages.success(request, "已添加工作人员")
    return redirect("organizations:detail", pk=org.pk)


@require_POST
@requires_perm(OrgPerm.STAFF_MANAGE)
def role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organization_get_for_actor(actor=request.user, perm=OrgPerm.STAFF_MANAGE, pk=pk)
    try:
        user = User.objects.filter(username=request.POST.get("username", "").strip()).first()
        if user is None:
            raise ValidationFailed("用户名不存在")
        services.role_grant(actor=request.user, user=user, organization=org, role=request.POST.get("role", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已授予角色")
    return redirect("organizations:detail", pk=org.pk)


@require_http_methods(["GET", "POST"])
@requires_perm(OrgPerm.STAFF_MANAGE)
def role_revoke(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    """GET asks for confirmation; POST takes the role away."""
    org = selectors.organization_get_for_actor(actor=request.user, perm=OrgPerm.STAFF_MANAGE, pk=pk)
    assignment = selectors.role_assignment_get_for_actor(actor=request.user, pk=assignment_pk, organization=org)
    if request.method == "GET":
        return render(request, "organizations/role_revoke_confirm.html", {"org": org, "assignment": assignment})
    try:
        services.role_revoke(actor=request.user, assignment=assignment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "已撤销 %(user)s 的%(role)s角色" % {"user": assignment.user, "role": assignment.get_role_display()},
        )
    return redirect("organizations:detail", pk=org.pk)


@require_GET
def organization_picker(request: HttpRequest) -> HttpResponse:
    """The union picker's answers (htmx): at most ten lines of name and code, of the unions
    the actor may choose for `?purpose=`. The purposes are registered by the apps that use the
    picker, so the selector checks the purpose's permission (403) per request."""
    options = selectors.organization_picker_for_actor(
        actor=request.user, purpose=request.GET.get("purpose", ""), query=request.GET.get("q", "")
    )
    hint = "请输入工会名称、代码或拼音首字母" if not options and not request.GET.get("q", "").strip() else ""
    return render(request, "includes/org_picker_results.html", {"options": options, "hint": hint})


# ---- versioned policies ---------------------------------------------------------------------


@require_GET
@requires_perm(Perm.POLICY_VIEW)
def policy_list(request: HttpRequest) -> HttpResponse:
    """Every policy kind, and the versions the actor's sub-tree published for it."""
    versions = policies.policy_versions_for_actor(actor=request.user).order_by("kind", "organization__path", "-version")
    by_kind: dict[str, list[PolicyVersion]] = {}
    for version in versions:
        by_kind.setdefault(version.kind, []).append(version)
    kinds = [
        {"kind": k, "versions": by_kind.get(k.kind, []), "default": policy_body_text(k.default)} for k in policy_kinds()
    ]
    return render(request, "organizations/policy_list.html", {"kinds": kinds})


@require_GET
@requires_perm(Perm.POLICY_VIEW)
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = policies.policy_version_get_for_actor(actor=request.user, pk=pk)
    history = policies.policy_history(actor=request.user, kind=version.kind, organization=version.organization)
    rows = []
    for i, item in enumerate(history):
        previous = history[i + 1] if i + 1 < len(history) else None
        rows.append({"version": item, "diff": policy_body_diff(previous.body if previous else None, item.body)})
    can_decide = (
        version.status == PolicyStatus.PROPOSED
        and version.created_by_id != request.user.pk
        and selectors.has_perm_on(request.user, Perm.POLICY_APPROVE, version.organization)
    )
    return render(
        request,
        "organizations/policy_detail.html",
        {
            "version": version,
            "kind": policy_kind(version.kind),
            "body": policy_body_text(version.body),
            "rows": rows,
            "can_decide": can_decide,
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(Perm.POLICY_VIEW)
def policy_new(request: HttpRequest) -> HttpResponse:
    """Propose the next version: a JSON editor prefilled with the body in force, validated by
    the kind's schema on submit."""
    data = request.POST if request.method == "POST" else request.GET
    kind = policy_kind(data.get("kind", ""))
    org = selectors.organization_by_code_for_actor(
        actor=request.user, perm=kind.manage_perm, code=data.get("organization", "")
    )
    errors: dict[str, str] = {}
    message = ""
    text = policy_body_text(policies.policy_for(kind=kind.kind, organization=org).body)
    valid_from = data.get("valid_from", "")
    note = data.get("note", "")
    if request.method == "POST":
        text = request.POST.get("body", "")
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            errors = {"body": "不是有效的 JSON：第 %(line)s 行第 %(col)s 列" % {"line": exc.lineno, "col": exc.colno}}
            message = "政策内容不是有效的 JSON"
        else:
            try:
                day = dt.date.fromisoformat(valid_from) if valid_from else None
            except ValueError:
                errors, message = {"valid_from": "日期格式应为 YYYY-MM-DD"}, "生效日期有误"
            else:
                try:
                    version = policies.policy_propose(
                        actor=request.user, kind=kind.kind, organization=org, body=body, valid_from=day, note=note
                    )
                except DomainError as exc:
                    errors, message = exc.fields, exc.message
                else:
                    messages.success(
                        request,
                        "已提交%(label)s 第 %(v)s 版（%(status)s）"
                        % {"label": kind.label, "v": version.version, "status": version.get_status_display()},
                    )
                    return redirect("organizations:policy_detail", pk=version.pk)
    return render(
        request,
        "organizations/policy_form.html",
        {
            "kind": kind,
            "org": org,
            "text": text,
            "valid_from": valid_from,
            "note": note,
            "errors": errors,
            "message": message,
        },
        status=422 if errors or message else 200,
    )


@require_POST
@requires_perm(Perm.POLICY_APPROVE)
def policy_decide(request: HttpRequest, pk: int) -> HttpResponse:
    version = policies.policy_version_get_for_actor(actor=request.user, pk=pk)
    decide = policies.policy_approve if request.POST.get("decision") == "approve" else policies.policy_reject
    try:
        decided = decide(actor=request.user, version_id=version.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "第 %(v)s 版%(status)s" % {"v": decided.version, "status": decided.get_status_display()}
        )
    return redirect("organizations:policy_detail", pk=version.pk)


# ---- background jobs ---------------------------------------------------------------------------


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """后台任务: the jobs of the actor's sub-tree, newest first, with 取消 / 重试 where allowed."""
    status = request.GET.get("status", "")
    qs = selectors.jobs_for_actor(actor=request.user)
    if status in JobStatus.values:
        qs = qs.filter(status=status)
    page = paginate(request, qs.order_by("-id"), per_page=50)
    rows = []
    for job in page.items:
        kind = jobs.job_kind(job.kind)
        may_manage = selectors.has_perm_on(request.user, kind.perm, job.organization)
        rows.append(
            {
                "job": job,
                "label": kind.label,
                "can_cancel": may_manage and job.status in JOB_ACTIVE,
                "can_retry": may_manage
                and job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
                and job.expired_at is None,
            }
        )
    return render(
        request,
        "organizations/job_list.html",
        {"page": page, "rows": rows, "status": status, "statuses": JobStatus.choices},
    )


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: jobs.job_cancel(actor=request.user, job=job),
        done="已取消；正在运行的任务会在处理完当前一批后停止",
        then="organizations:job_list",
    )


@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, pk=pk)
    return button(
        request,
        lambda: jobs.job_resume(actor=request.user, job=job),
        done="已重新排队，任务将从中断处继续",
        then="organizations:job_list",
    )


# ---- column mappings of uploaded files (列对应设置) ------------------------------------------


def _mapping_kinds(user: Any) -> list[tabular.ColumnSpec]:
    """The kinds of file whose column mapping this user may set somewhere."""
    return [
        spec
        for spec in tabular.column_specs()
        if spec.perm and spec.picker and selectors.has_perm_anywhere(user, spec.perm)
    ]


@require_http_methods(["GET", "POST"])
def column_mapping(request: HttpRequest) -> HttpResponse:
    """列对应设置: for one kind of uploaded file and one organisation, the header its files
    give each column that the template headers and aliases do not recognise. Saving makes a
    new version, applied to the organisation's sub-tree unless a lower union saves its own."""
    kinds = _mapping_kinds(request.user)
    if not kinds:
        raise PermissionDenied("您的角色无权设置导入文件的列对应")
    source = request.POST if request.method == "POST" else request.GET
    key = source.get("kind", "") or kinds[0].kind
    spec = next((k for k in kinds if k.kind == key), None)
    if spec is None:
        raise ValidationFailed("未知的文件种类", fields={"kind": "请选择文件种类"})
    code = source.get("organization", "").strip()[:40]  # longer than any union code
    context: dict[str, object] = {"kinds": kinds, "spec": spec, "code": code}
    if not code:
        return render(request, "organizations/column_mapping.html", context)
    try:
        organization = selectors.organization_by_code_for_actor(actor=request.user, perm=spec.perm, code=code)
    except NotFound:
        context["errors"] = {"organization": "工会代码不存在或无权设置"}
        return render(request, "organizations/column_mapping.html", context, status=422)
    context["organization"] = organization
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {column.key: request.POST.get("col_" + column.key, "") for column in spec.columns}
        try:
            saved = tabular.tabular_mapping_save(
                actor=request.user, kind=spec.kind, organization=organization, columns=values
            )
        except DomainError as exc:
            context["error"] = exc.message
            status = exc.status
        else:
            messages.success(request, "已保存第 %(v)s 版列对应，此后上传的文件按它识别" % {"v": saved.version})
            return redirect(
                "%s?%s"
                % (reverse("organizations:column_mapping"), urlencode({"kind": spec.kind, "organization": code}))
            )
    in_force = tabular.tabular_mapping_in_force(kind=spec.kind, organization=organization)
    current = dict(in_force.columns) if in_force is not None else {}
    context.update(
        in_force=in_force,
        inherited=in_force is not None and in_force.organization_id != organization.pk,
        rows=[
            {"column": column, "value": values.get(column.key, current.get(column.key, ""))} for column in spec.columns
        ],
        history=tabular.tabular_mapping_history(kind=spec.kind, organization=organization),
    )
    return render(request, "organizations/column_mapping.html", context, status=status)
