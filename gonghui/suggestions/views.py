"""诉求台账 pages: the console (inbox, item, notice, ledger, metrics, 销账 review, departments,
消息), the department contact's notices, the member H5, the anonymous tracking lookup and the
public 院务公开 page. Thin: parsing here, rules in services, reads in selectors."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gonghui.core import parsing, ratelimit
from gonghui.core.access import public, requires_perm
from gonghui.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from gonghui.core.exports import Sheet, download, xlsx_export
from gonghui.core.filenames import attachment_header
from gonghui.core.models import WorkflowStep
from gonghui.core.pagination import paginate
from gonghui.core.workflow import workflow_history, workflow_options
from gonghui.members.selectors import member_of_user
from gonghui.organizations.selectors import has_perm_anywhere, has_perm_on
from gonghui.suggestions import pdf, selectors, services
from gonghui.suggestions.models import Channel, Item, ItemStatus, SubmitterKind
from gonghui.suggestions.permissions import SuggestionPerm
from gonghui.suggestions.workflows import ITEM

TRACK_LIMIT = 10
TRACK_WINDOW = 600


def _uploads(request: HttpRequest) -> list[services.Upload]:
    return [
        services.Upload(f.name or "附件", f.content_type or "", f.read(services.ATTACHMENT_MAX_BYTES + 1))
        for f in request.FILES.getlist("files")[: services.ATTACHMENT_MAX_COUNT + 1]
    ]


def _date(raw: Any, *, name: str, label: str) -> dt.date:
    try:
        return parsing.parse_date(raw, label=label)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = parsing.query_date(request.GET, "start") or today.replace(month=1, day=1)
    end = parsing.query_date(request.GET, "end") or today
    if end < start:
        messages.warning(request, "截止日期早于起始日期，已交换")
        start, end = end, start
    return start, end


def _console(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A console page of the ledger: its tabs show 部门与分类 only to those who may configure,
    and 消息 with the count of unread messages."""
    context = {
        **context,
        "can_configure": has_perm_anywhere(request.user, SuggestionPerm.CONFIGURE),
        "unread": selectors.unread_count(user=request.user),
    }
    return render(request, template, context, status=status)


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


# ---- console -------------------------------------------------------------------------------


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    qs = selectors.items_for_actor(actor=request.user)
    status = request.GET.get("status", "")
    if status in ItemStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    else:
        channel = ""
    q = parsing.clean(request.GET.get("q"))[:40]
    if q:
        qs = qs.filter(number__icontains=q) | qs.filter(title__icontains=q)
    page = paginate(request, qs.order_by("-received_at", "-id"))
    return _console(
        request,
        "suggestions/inbox.html",
        {
            "page": page,
            "rows": selectors.with_clocks(page.items),
            "status": status,
            "statuses": ItemStatus.choices,
            "channel": channel,
            "channels": Channel.choices,
            "q": q,
            "can_handle": has_perm_anywhere(request.user, SuggestionPerm.HANDLE),
        },
    )


@require_http_methods(["GET", "POST"])
@requires_perm(SuggestionPerm.HANDLE)
def item_new(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=SuggestionPerm.HANDLE)[:300])
    categories = selectors.staff_categories(actor=request.user)
    context: dict[str, Any] = {
        "orgs": orgs,
        "channels": Channel.choices,
        "categories": categories,
        "values": request.POST,
    }
    if request.method == "POST":
        try:
            org = next((o for o in orgs if str(o.pk) == request.POST.get("organization")), None)
            if org is None:
                raise ValidationFailed("请选择组织", fields={"organization": "请选择组织"})
            raw_category = request.POST.get("category", "")
            category = next((c for c in categories if str(c.pk) == raw_category), None)
            if raw_category and category is None:
                raise ValidationFailed("请选择在用的诉求分类", fields={"category": "分类无效"})
            item, _ = services.item_submit(
                category=category,
                actor=request.user,
                organization=org,
                channel=request.POST.get("channel", ""),
                title=request.POST.get("title", ""),
                content=request.POST.get("content", ""),
                kind=SubmitterKind.STAFF,
                uploads=_uploads(request),
            )
        except ValidationFailed as exc:
            return _console(
                request,
                "suggestions/item_new.html",
                {**context, "error": exc.message, "errors": exc.fields},
                status=422,
            )
        messages.success(request, "已登记诉求 %s" % item.number)
        return redirect("suggestions:item", item.pk)
    return _console(request, "suggestions/item_new.html", context)


def _item_page(request: HttpRequest, item: Item, *, error: str = "", status: int = 200) -> HttpResponse:
    history = list(workflow_history(workflow=ITEM, obj=item).select_related("actor"))
    others = (
        selectors.items_for_actor(actor=request.user)
        .filter(
            organization=item.organization,
            status__in=[ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.IN_PROGRESS],
        )
        .exclude(pk=item.pk)[:50]
    )
    return _console(
        request,
        "suggestions/item.html",
        {
            "item": item,
            "row": selectors.with_clocks([item])[0],
            "history": history,
            "notices": item.notices.prefetch_related("departments").all(),
            "progress": item.progress.select_related("department", "author").prefetch_related("evidence"),
            "attachments": item.attachments.filter(progress__isnull=True),
            "answers": item.answers.select_related("recorded_by", "published_by"),
            "ratings": item.ratings.all(),
            "milestones": item.milestones.all(),
            "reopenings": item.reopenings.all(),
            "departments": selectors.departments_of(item.organization),
            "others": others,
            "can_handle": has_perm_on(request.user, SuggestionPerm.HANDLE, item.organization),
            "can_review": has_perm_on(request.user, SuggestionPerm.REVIEW, item.organization),
            "error": error,
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _item_page(request, selectors.item_get_for_actor(actor=request.user, pk=pk))


@require_POST
@requires_perm(SuggestionPerm.HANDLE, SuggestionPerm.REVIEW)
def item_action(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.item_get_for_actor(actor=request.user, pk=pk)
    op = request.POST.get("op", "")
    user, post = request.user, request.POST
    try:
        if op == "accept":
            services.item_accept(actor=user, item=item)
            done = "已受理"
        elif op == "decline":
            services.item_decline(actor=user, item=item, reason=post.get("reason", ""))
            done = "已不予受理"
        elif op == "merge":
            into_id = parsing.query_id(post, "into")
            into = selectors.item_get_for_actor(actor=user, pk=into_id) if into_id else None
            if into is None:
                raise ValidationFailed("请选择合并到的诉求", fields={"into": "请选择"})
            services.item_merge(actor=user, item=item, into=into)
            done = "已合并到 %s" % into.number
        elif op == "notice":
            ids = set(parsing.query_ids(post, "departments"))
            departments = [d for d in selectors.departments_of(item.organization) if d.pk in ids]
            deadline = _date(post.get("deadline"), name="deadline", label="办结期限")
            notice = services.notice_issue(
                actor=user,
                item=item,
                departments=departments,
                requirement=post.get("requirement", ""),
                deadline=deadline,
            )
            done = "已发整改通知单 %s" % notice.number
        elif op == "close":
            services.item_close(actor=user, item=item, text=post.get("text", ""), uploads=_uploads(request))
            done = "已销账"
        elif op == "answer":
            services.answer_record(actor=user, item=item, text=post.get("answer", ""))
            done = "答复已录入，待审核后发布"
        elif op == "publish_answer":
            answer = item.answers.filter(pk=parsing.query_id(post, "answer_id") or 0).first()
            if answer is None:
                raise NotFound("答复不存在")
            services.answer_publish(actor=user, answer=answer)
            done = "答复已发布给提出人"
        elif op == "publish":
            services.item_publish_set(
                actor=user, item=item, publishable=post.get("publishable") == "1", outcome=post.get("outcome", "")
            )
            done = "已更新院务公开设置"
        elif op == "milestone":
            reached = _date(post.get("reached_on"), name="reached_on", label="日期")
            services.milestone_add(
                actor=user, item=item, title=post.get("title", ""), reached_on=reached, note=post.get("note", "")
            )
            done = "已登记办理节点"
        elif op == "milestone_edit":
            milestone = item.milestones.filter(pk=parsing.query_id(post, "milestone_id") or 0).first()
            if milestone is None:
                raise NotFound("办理节点不存在")
            reached = _date(post.get("reached_on"), name="reached_on", label="日期")
            services.milestone_update(
                actor=user,
                milestone=milestone,
                title=post.get("title", ""),
                reached_on=reached,
                note=post.get("note", ""),
            )
            done = "已修改办理节点"
        else:
            raise ValidationFailed("未知操作")
    except DomainError as exc:
        return _item_page(
            request, selectors.item_get_for_actor(actor=user, pk=pk), error=exc.message, status=exc.status
        )
    messages.success(request, done)
    return redirect("suggestions:item", pk)


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def notice_print(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_get_for_actor(actor=request.user, pk=pk)
    return render(request, "suggestions/notice.html", {"notice": notice})


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_get_for_actor(actor=request.user, pk=pk)
    response = HttpResponse(pdf.notice_pdf(notice), content_type="application/pdf")
    response["Content-Disposition"] = attachment_header("整改通知单-%d-%d.pdf" % (notice.year, notice.seq))
    return response


@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    from_items = selectors.items_for_actor(actor=request.user).values("pk")
    from_notices = selectors.notices_for_contact(actor=request.user).values("item_id")
    attachment = (
        services.Attachment.objects.filter(pk=pk).filter(item__in=from_items).first()
        or services.Attachment.objects.filter(pk=pk, item__in=from_notices).first()
    )
    if attachment is None:
        raise NotFound("附件不存在")
    response = HttpResponse(services.attachment_bytes(attachment), content_type=attachment.content_type)
    response["Content-Disposition"] = attachment_header(attachment.name)
    return response


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def ledger(request: HttpRequest) -> HttpResponse:
    start, end = _period(request)
    qs = selectors.ledger_for_actor(actor=request.user, start=start, end=end).prefetch_related("notices__departments")
    if request.GET.get("export") == "xlsx":
        rows = (
            [
                i.number,
                timezone.localtime(i.received_at).strftime("%Y-%m-%d %H:%M"),
                i.organization.name,
                i.get_channel_display(),
                i.category.name if i.category else "",
                i.title,
                "、".join(sorted({d.name for n in i.notices.all() for d in n.departments.all()})),
                "；".join(n.number for n in i.notices.all()),
                i.get_status_display(),
                timezone.localtime(i.resolved_at).strftime("%Y-%m-%d") if i.resolved_at else "",
            ]
            for i in qs[:20000]
        )
        sheet = Sheet(
            "诉求台账",
            ["编号", "收到时间", "组织", "渠道", "分类", "事项", "责任部门", "整改通知单", "状态", "销账日期"],
            rows,
            width=16,
        )
        export = xlsx_export(
            actor=request.user,
            action="suggestions.ledger_export",
            filename="职工诉求台账-%s-%s.xlsx" % (start.isoformat(), end.isoformat()),
            sheets=[sheet],
            detail={"start": start.isoformat(), "end": end.isoformat()},
        )
        return download(export)
    page = paginate(request, qs)
    return _console(request, "suggestions/ledger.html", {"page": page, "start": start, "end": end})


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def metrics(request: HttpRequest) -> HttpResponse:
    start, end = _period(request)
    rows = selectors.department_metrics(actor=request.user, start=start, end=end)
    chart = {
        "names": [r.department.name for r in rows],
        "closure": [r.closure_rate for r in rows],
        "response": [r.median_response_hours for r in rows],
        "overdue": [r.overdue for r in rows],
        "satisfaction": [r.satisfaction for r in rows],
    }
    return _console(request, "suggestions/metrics.html", {"rows": rows, "chart": chart, "start": start, "end": end})


@require_GET
@requires_perm(SuggestionPerm.VIEW)
def monthly_review(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    month = parsing.clean(request.GET.get("month"))
    try:
        first = dt.date.fromisoformat(month + "-01") if month else today.replace(day=1)
    except ValueError:
        messages.warning(request, "月份无效，已显示本月")
        first = today.replace(day=1)
    month_end = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    qs = selectors.still_open_at(actor=request.user, month_end=month_end)
    page = paginate(request, qs)
    return _console(
        request,
        "suggestions/review.html",
        {
            "page": page,
            "rows": selectors.with_clocks(page.items),
            "month": first.strftime("%Y-%m"),
            "month_end": month_end,
        },
    )


def _contacts(request: HttpRequest) -> list[Any]:
    """The contact accounts typed as usernames, comma separated; an unknown one is an error."""
    names = [n.strip() for n in request.POST.get("contacts", "").replace("，", ",").split(",") if n.strip()]
    if len(names) > services.DEPARTMENT_CONTACTS_MAX:
        message = "联络人最多 %(n)d 位" % {"n": services.DEPARTMENT_CONTACTS_MAX}
        raise ValidationFailed(message, fields={"contacts": message})
    found, unknown = selectors.users_by_username(names)
    if unknown:
        message = "账号不存在：%(u)s" % {"u": "、".join(unknown)}
        raise ValidationFailed(message, fields={"contacts": message})
    return found


def _department_change(request: HttpRequest, kind: str) -> str:
    """Edit, retire or restore a department the actor configures; the message to show."""
    user, post = request.user, request.POST
    department = selectors.department_get_for_configure(actor=user, pk=parsing.query_id(post, "department"))
    if kind == "department_update":
        services.department_update(
            actor=user, department=department, name=post.get("name", ""), contacts=_contacts(request)
        )
        return "已修改责任部门"
    if kind in ("department_retire", "department_restore"):
        services.department_set_active(actor=user, department=department, active=kind == "department_restore")
        return "已恢复责任部门" if kind == "department_restore" else "已停用责任部门（已发的通知单保留）"
    raise ValidationFailed("未知操作")


def _category_change(request: HttpRequest, kind: str) -> str:
    """Rename, move, retire or restore a category the actor configures; the message to show."""
    user, post = request.user, request.POST
    category = selectors.category_get_for_actor(actor=user, pk=parsing.query_id(post, "category"))
    if kind == "category_rename":
        services.category_rename(actor=user, category=category, name=post.get("name", ""))
        return "已修改分类名称"
    if kind in ("category_up", "category_down"):
        services.category_move(actor=user, category=category, up=kind == "category_up")
        return "已调整分类顺序"
    if kind in ("category_retire", "category_restore"):
        services.category_set_active(actor=user, category=category, active=kind == "category_restore")
        return "已恢复分类" if kind == "category_restore" else "已停用分类（已登记的诉求保留该分类）"
    raise ValidationFailed("未知操作")


@require_http_methods(["GET", "POST"])
@requires_perm(SuggestionPerm.CONFIGURE)
def departments(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.orgs_for_actor(actor=request.user, perm=SuggestionPerm.CONFIGURE)[:300])
    error = ""
    if request.method == "POST":
        kind = request.POST.get("kind", "department")
        org = next((o for o in orgs if str(o.pk) == request.POST.get("organization")), None)
        try:
            if kind.startswith("category_"):
                done = _category_change(request, kind)
            elif kind.startswith("department_"):
                done = _department_change(request, kind)
            elif org is None:
                raise ValidationFailed("请选择组织")
            elif kind == "category":
                services.category_create(actor=request.user, organization=org, name=request.POST.get("name", ""))
                done = "已新增分类"
            else:
                services.department_create(
                    actor=request.user, organization=org, name=request.POST.get("name", ""), contacts=_contacts(request)
                )
                done = "已新增责任部门"
            messages.success(request, done)
            return redirect("suggestions:departments")
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            error = exc.message
    categories = list(selectors.categories_for_actor(actor=request.user)[:500])
    return _console(
        request,
        "suggestions/departments.html",
        {
            "orgs": orgs,
            "departments": selectors.departments_for_configure(actor=request.user).prefetch_related("contacts")[:300],
            "categories": categories,
            "error": error,
        },
        status=422 if error else 200,
    )


@require_GET
def my_inbox(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.inbox_for(user=request.user))
    context = {
        "page": page,
        "can_view_ledger": has_perm_anywhere(request.user, SuggestionPerm.VIEW),
        "is_contact": has_perm_anywhere(request.user, SuggestionPerm.RESPOND),
    }
    return _console(request, "suggestions/my_inbox.html", context)


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark all messages read, or one — and open what it is about."""
    if request.POST.get("all") == "1":
        count = services.notifications_mark_all_read(actor=request.user)
        messages.success(request, "已将 %d 条消息标为已读" % count)
        return redirect("suggestions:my_inbox")
    notification = services.notification_mark_read(
        actor=request.user, notification_id=parsing.query_id(request.POST, "id") or 0
    )
    if request.POST.get("open") == "1":
        return redirect(selectors.notification_target(actor=request.user, notification=notification))
    return redirect("suggestions:my_inbox")


# ---- department contacts -------------------------------------------------------------------


@require_GET
@requires_perm(SuggestionPerm.RESPOND)
def contact_notices(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.notices_for_contact(actor=request.user))
    context = {"page": page, "unread": selectors.unread_count(user=request.user)}
    return render(request, "suggestions/contact_notices.html", context)


@require_http_methods(["GET", "POST"])
@requires_perm(SuggestionPerm.RESPOND)
def contact_notice(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_get_for_contact(actor=request.user, pk=pk)
    mine = [d for d in notice.departments.all() if d.contacts.filter(pk=request.user.pk).exists()]
    error = ""
    if request.method == "POST":
        department = next((d for d in mine if str(d.pk) == request.POST.get("department")), mine[0] if mine else None)
        try:
            if department is None:
                raise ValidationFailed("请选择部门")
            services.progress_post(
                actor=request.user,
                notice=notice,
                department=department,
                text=request.POST.get("text", ""),
                uploads=_uploads(request),
            )
            messages.success(request, "已登记办理进展")
            return redirect("suggestions:contact_notice", pk)
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "suggestions/contact_notice.html",
        {
            "notice": notice,
            "mine": mine,
            "progress": notice.progress.select_related("department", "author").prefetch_related("evidence"),
            "error": error,
        },
        status=422 if error else 200,
    )


# ---- member H5 -----------------------------------------------------------------------------


def _me(request: HttpRequest) -> Any:
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    return member


@require_GET
def h5_home(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    return render(
        request,
        "suggestions/h5/home.html",
        {
            "items": selectors.member_items(member)[:50],
            "inbox": selectors.inbox_for(user=request.user)[:10],
            "unread": selectors.unread_count(user=request.user),
        },
    )


@require_POST
def h5_notification_read(request: HttpRequest) -> HttpResponse:
    """The member marks all messages read, or opens one (marking it read)."""
    member = _me(request)
    if request.POST.get("all") == "1":
        services.notifications_mark_all_read(actor=request.user)
        return redirect("suggestions:h5_home")
    notification = services.notification_mark_read(
        actor=request.user, notification_id=parsing.query_id(request.POST, "id") or 0
    )
    if selectors.member_items(member).filter(pk=notification.item_id).exists():
        return redirect("suggestions:h5_item", notification.item_id)
    return redirect("suggestions:h5_home")


@require_http_methods(["GET", "POST"])
def h5_new(request: HttpRequest) -> HttpResponse:
    member = _me(request)
    categories = list(selectors.categories_for(member.organization))
    context: dict[str, Any] = {"categories": categories, "values": request.POST}
    if request.method == "POST":
        raw_category = request.POST.get("category", "")
        category = next((c for c in categories if str(c.pk) == raw_category), None)
        anonymous = request.POST.get("anonymous") == "1"
        try:
            if raw_category and category is None:
                raise ValidationFailed("该分类已停用，请重新选择", fields={"category": "分类无效"})
            item, code = services.item_submit(
                actor=request.user,
                organization=member.organization,
                channel=Channel.ONLINE,
                title=request.POST.get("title", ""),
                content=request.POST.get("content", ""),
                kind=SubmitterKind.ANONYMOUS if anonymous else SubmitterKind.MEMBER,
                member=None if anonymous else member,
                category=category,
                uploads=_uploads(request),
            )
        except ValidationFailed as exc:
            return render(
                request, "suggestions/h5/new.html", {**context, "error": exc.message, "errors": exc.fields}, status=422
            )
        if code:
            return render(request, "suggestions/h5/tracking_code.html", {"code": code, "number": item.number})
        messages.success(request, "已提交，工会将尽快答复")
        return redirect("suggestions:h5_item", item.pk)
    return render(request, "suggestions/h5/new.html", context)


def _submitter_view(item: Item, *, actor: Any, code: str = "") -> dict[str, Any]:
    """What the submitter sees of their item, and the steps the workflow lets them take."""
    round_ = item.reopen_count + 1
    rated = item.ratings.filter(round=round_).first()
    options = workflow_options(actor=actor, workflow=ITEM, obj=item, proof=code)
    return {
        "item": item,
        "answers": item.answers.filter(published_at__isnull=False),
        "progress": item.progress.filter(is_closure=True),
        "milestones": item.milestones.all(),
        "rated": rated,
        "can_confirm": rated is None and "confirm" in options,
        "can_reopen": rated is None and "reopen" in options,
        "steps": WorkflowStep.objects.filter(workflow=ITEM.name, object_id=item.pk).order_by("at", "id"),
    }


def _submitter_step(request: HttpRequest, item: Item, *, actor: Any, code: str = "") -> str:
    """Take the submitter's step the form asked for; the message to show."""
    if request.POST.get("op") == "reopen":
        services.item_reopen(actor=actor, item=item, reason=request.POST.get("reason", ""), code=code)
        return "已申请重新办理"
    services.item_rate(
        actor=actor, item=item, score=request.POST.get("score"), comment=request.POST.get("comment", ""), code=code
    )
    return "感谢您的评价"


@require_http_methods(["GET", "POST"])
def h5_item(request: HttpRequest, pk: int) -> HttpResponse:
    member = _me(request)
    item = selectors.member_items(member).filter(pk=pk).first()
    if item is None:
        raise NotFound("诉求不存在")
    error = ""
    if request.method == "POST":
        try:
            messages.success(request, _submitter_step(request, item, actor=request.user))
            return redirect("suggestions:h5_item", pk)
        except DomainError as exc:
            error = exc.message
    context = {**_submitter_view(item, actor=request.user), "error": error}
    return render(request, "suggestions/h5/item.html", context, status=422 if error else 200)


# ---- anonymous: submission and tracking ----------------------------------------------------


@public
@require_http_methods(["GET", "POST"])
def anonymous_new(request: HttpRequest) -> HttpResponse:
    code_raw = parsing.clean(request.GET.get("org") or request.POST.get("org"))[:32]
    org = selectors.public_organization(code_raw)
    if org is None:
        raise NotFound("请从工会提供的链接进入（缺少组织代码）")
    if request.method == "POST":
        if not ratelimit.allow("suggestions.anonymous", _client_ip(request), limit=10, window_seconds=3600):
            raise RateLimited("提交过于频繁，请稍后再试")
        try:
            item, code = services.item_submit(
                actor=None,
                organization=org,
                channel=Channel.ONLINE,
                title=request.POST.get("title", ""),
                content=request.POST.get("content", ""),
                kind=SubmitterKind.ANONYMOUS,
            )
        except ValidationFailed as exc:
            return render(
                request,
                "suggestions/anonymous_new.html",
                {"org": org, "error": exc.message, "values": request.POST},
                status=422,
            )
        return render(
            request, "suggestions/h5/tracking_code.html", {"code": code, "number": item.number, "public": True}
        )
    return render(request, "suggestions/anonymous_new.html", {"org": org, "values": {}})


@public
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """The tracking code alone shows the item's progress — nothing about the submitter — and
    lets its holder confirm and rate the closure or re-open it. The step is taken with no
    account (even when someone is signed in), so that nothing ties the item to a person."""
    if request.method == "GET":
        return render(request, "suggestions/track.html", {})
    if not ratelimit.allow("suggestions.track", _client_ip(request), limit=TRACK_LIMIT, window_seconds=TRACK_WINDOW):
        return render(request, "suggestions/track.html", {"error": "查询过于频繁，请 10 分钟后再试"}, status=429)
    code = parsing.clean(request.POST.get("code"))[:20]
    item = selectors.item_by_tracking_code(code)
    if item is None:
        return render(
            request, "suggestions/track.html", {"error": "未找到该查询码对应的诉求，请核对后重试"}, status=404
        )
    done, error = "", ""
    if request.POST.get("op") in ("rate", "reopen"):
        try:
            done = _submitter_step(request, item, actor=None, code=code)
        except DomainError as exc:
            error = exc.message
        item = selectors.item_by_tracking_code(code) or item
    context = {**_submitter_view(item, actor=None, code=code), "found": True, "code": code, "done": done}
    return render(request, "suggestions/track.html", {**context, "error": error}, status=422 if error else 200)


# ---- 院务公开 --------------------------------------------------------------------------------


@public
@require_GET
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    org = selectors.public_organization(code)
    if org is None:
        raise NotFound("组织不存在")
    figures = selectors.public_figures(org)
    closed, good, min_group = selectors.public_closed_figures(org)
    return render(
        request,
        "suggestions/public.html",
        {
            "org": org,
            "items": selectors.public_items(org),
            "figures": figures,
            "closed": closed,
            "good": good,
            "min_group": min_group,
            "track_url": reverse("suggestions:track"),
        },
    )
