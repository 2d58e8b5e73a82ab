"""网上申请入会: the applicant's phone page and the union's review list."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import ratelimit, workflow
from gonghui.core.access import public, requires_perm
from gonghui.core.errors import DomainError
from gonghui.core.middleware import client_ip
from gonghui.core.pagination import paginate
from gonghui.members import joining
from gonghui.members.models import ETHNICITIES, ApplicationStatus, Education, HouseholdType, Tag
from gonghui.members.permissions import MemberPerm
from gonghui.members.workflows import JOIN_APPLICATION
from gonghui.organizations.selectors import PUBLIC_MIN_CHARS, grassroots_union_search

# Applicants tick their own work tags; 劳模 levels and 困难职工 classes are recorded by the union.
SELF_DECLARED_TAGS = list(Tag)

# The public union search answers anyone: a typing person sends a few requests a second at
# most, a scraper many more.
UNION_SEARCH_PER_MINUTE = 40


@public
@require_GET
def h5_union_search(request: HttpRequest) -> HttpResponse:
    """The join form's union search: grassroots unions by name, name and code only."""
    if not ratelimit.allow("union_search", client_ip(request) or "-", limit=UNION_SEARCH_PER_MINUTE, window_seconds=60):
        return render(request, "includes/org_picker_results.html", {"error": "查询过于频繁，请稍后再试"}, status=429)
    query = request.GET.get("q", "").strip()
    if len(query) < PUBLIC_MIN_CHARS:
        hint = "请至少输入 %(n)s 个字的单位或工会名称" % {"n": PUBLIC_MIN_CHARS}
        return render(request, "includes/org_picker_results.html", {"hint": hint})
    return render(request, "includes/org_picker_results.html", {"options": grassroots_union_search(query=query)})


@public
@require_http_methods(["GET", "POST"])
def h5_join(request: HttpRequest) -> HttpResponse:
    values = request.POST if request.method == "POST" else {"ethnicity": "汉族"}
    errors: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        tags = sum(t.value for t in SELF_DECLARED_TAGS if str(t.value) in request.POST.getlist("tags"))
        try:
            application = joining.application_submit(
                phone=request.POST.get("phone", ""),
                code=request.POST.get("code", ""),
                union_code=request.POST.get("union_code", ""),
                id_number=request.POST.get("id_number", ""),
                data={
                    "name": request.POST.get("name", ""),
                    "ethnicity": request.POST.get("ethnicity", "汉族"),
                    "education": request.POST.get("education", ""),
                    "household_type": request.POST.get("household_type", ""),
                    "work_unit": request.POST.get("work_unit", ""),
                    "tags": str(tags),
                },
                consent=request.POST.get("consent") == "1",
            )
        except DomainError as exc:
            errors, error, status = exc.fields, exc.message, exc.status
        else:
            return render(request, "members/h5/join_done.html", {"application": application})
    return render(
        request,
        "members/h5/join.html",
        {
            "values": values,
            "checked_tags": request.POST.getlist("tags") if request.method == "POST" else [],
            "errors": errors,
            "error": error,
            "ethnicities": ETHNICITIES,
            "educations": Education.choices,
            "household_types": HouseholdType.choices,
            "tags": SELF_DECLARED_TAGS,
        },
        status=status,
    )


@require_GET
@requires_perm(MemberPerm.MEMBER_EDIT)
def application_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ApplicationStatus.PENDING)
    if status not in ApplicationStatus.values:
        status = ""
    page = paginate(request, joining.applications_for_actor(actor=request.user, status=status))
    options = workflow.workflow_options_many(actor=request.user, workflow=JOIN_APPLICATION, objs=page.items)
    rows = [{"a": a, "options": {o.transition.name: o for o in options[a.pk]}} for a in page.items]
    return render(
        request,
        "members/application_list.html",
        {"page": page, "rows": rows, "status": status, "statuses": ApplicationStatus.choices},
    )


@require_POST
@requires_perm(MemberPerm.MEMBER_EDIT)
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    application = joining.application_get_for_actor(actor=request.user, pk=pk)
    try:
        decided = joining.application_decide(
            actor=request.user,
            application=application,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if decided.status == ApplicationStatus.CHECKED:
            messages.success(request, "初审通过，请由另一位工作人员批准入会")
        elif decided.member is not None:
            messages.success(
                request, "已批准入会，会员编号 %(no)s；申请人可用手机号登录" % {"no": decided.member.member_no}
            )
        else:
            messages.success(request, "已告知申请人不予批准")
    return redirect("members:application_list")
