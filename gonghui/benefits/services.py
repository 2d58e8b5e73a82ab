"""Campaign, redemption point and 定向发放 writes. Each function owns its transaction and
writes its audit event inside it. Claiming lives in `claiming.py`, redemption in
`redemption.py`."""

import re
from collections.abc import Iterable
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from gonghui.benefits import codes, devices
from gonghui.benefits.forms import CampaignInput, PointInput
from gonghui.benefits.models import (
    Campaign,
    CampaignItem,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    Coupon,
    CouponStatus,
    IssueMode,
    IssueRun,
    IssueSkip,
    PointDevice,
    PointKind,
    RedemptionPoint,
    SkipReason,
)
from gonghui.benefits.permissions import BenefitPerm
from gonghui.benefits.workflows import CAMPAIGN
from gonghui.core import audit, jobs, signing, tabular, workflow
from gonghui.core.crypto import mask_middle
from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.identifiers import ID_PATTERN, IdentifierError, normalize_id_number, parse_resident_id
from gonghui.core.models import JOB_ACTIVE, Device, Job, JobStatus
from gonghui.core.permissions import Perm
from gonghui.core.tabular_limits import clip
from gonghui.members.identity import id_blind_index
from gonghui.members.models import Member, MembershipStatus, Tag
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

ALL_TAGS = sum(t.value for t in Tag)
MAX_FACE_VALUE_FEN = 1_000_000_000  # 1000 万元 per coupon; Campaign.face_value_fen is an integer column
ISSUE_BATCH = 500
TARGET_LIST_MAX_ROWS = 200_000
TARGET_REPORT_MAX_UNMATCHED = 1000
_MEMBER_NO = re.compile(r"^HY\d{14}$")


# ---- campaigns -------------------------------------------------------------------------


def _organization_in_scope(actor: Any, perm: str, org_id: int | None, field: str, label: str) -> Organization:
    org = Organization.objects.filter(pk=org_id, is_active=True).first() if org_id else None
    if org is None or not has_perm_on(actor, perm, org):
        raise ValidationFailed(
            "请选择%(label)s" % {"label": label}, fields={field: "请选择%(label)s" % {"label": label}}
        )
    return org


def _org_or_error(
    actor: Any, org_id: int | None, field: str, label: str, errors: dict[str, str]
) -> Organization | None:
    try:
        return _organization_in_scope(actor, BenefitPerm.CAMPAIGN_MANAGE, org_id, field, label)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return None


def _campaign_errors(
    actor: Any, data: CampaignInput
) -> tuple[dict[str, str], Organization | None, Organization | None, list[RedemptionPoint]]:
    """Every problem of a campaign's data at once, keyed by form field (an item's by
    `items.<row>`), with the organisations and points it names."""
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = "请填写活动名称"
    elif len(data.name) > 100:
        errors["name"] = "活动名称不能超过100个字"
    if data.kind not in CampaignKind.values:
        errors["kind"] = "请选择活动类型"
    if data.mode not in IssueMode.values:
        errors["mode"] = "请选择发放方式"
    if data.target_tags & ~ALL_TAGS:
        errors["target_tags"] = "标签取值无效"
    if not data.items:
        errors["items"] = "至少填写一种物品及其面值"
    for index, item in enumerate(data.items):
        key = "items.%(row)d" % {"row": item.row if item.row >= 0 else index}
        if not item.name or len(item.name) > 50:
            errors[key] = "物品名称必填且不超过50个字"
        elif item.face_value_fen <= 0:
            errors[key] = "物品“%(name)s”的面值必须大于0" % {"name": item.name}
        elif not 1 <= item.quantity <= 100:
            errors[key] = "物品“%(name)s”的数量应在1到100之间" % {"name": item.name}
    if data.stock_total < 1:
        errors["stock_total"] = "总库存至少为1"
    if data.per_member_limit < 1 or data.per_member_limit > 20:
        errors["per_member_limit"] = "每人限领应在1到20张之间"
    if data.claim_starts_at and data.claim_ends_at and data.claim_ends_at <= data.claim_starts_at:
        errors["claim_ends_at"] = "领取截止时间应晚于开始时间"
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        errors["valid_until"] = "使用截止时间应晚于开始时间"
    if data.claim_starts_at and data.valid_until and data.valid_until <= data.claim_starts_at:
        errors["valid_until"] = "使用截止时间应晚于领取开始时间"
    for name in ("claim_starts_at", "claim_ends_at", "valid_from", "valid_until"):
        if getattr(data, name) is None:
            errors.setdefault(name, "请填写日期时间")
    if data.reversal_window_minutes > 30 * 24 * 60:
        errors["reversal_window_minutes"] = "冲正时限不能超过30天"
    face_value = sum(i.face_value_fen * i.quantity for i in data.items)
    if face_value > MAX_FACE_VALUE_FEN:
        errors["items"] = "每张券的物品面值合计不能超过 %(max)s 元" % {"max": MAX_FACE_VALUE_FEN // 100}
    if not errors and data.budget_fen < face_value * data.stock_total:
        errors["budget_yuan"] = "预算不足：总库存 %(stock)d 张 × 每张 %(value).2f 元 = %(need).2f 元" % {
            "stock": data.stock_total,
            "value": face_value / 100,
            "need": face_value * data.stock_total / 100,
        }
    owner = _org_or_error(actor, data.organization_id, "organization", "主办工会", errors)
    target = _org_or_error(actor, data.target_org_id, "target_org", "面向组织", errors)
    if owner is not None and target is not None and not target.path.startswith(owner.path):
        errors["target_org"] = "面向组织必须是主办工会或其下级"
    points = list(RedemptionPoint.objects.filter(pk__in=data.point_ids, is_active=True).select_related("organization"))
    if len(points) != len(set(data.point_ids)) or any(
        not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, p.organization) for p in points
    ):
        errors["points"] = "核销点无效或无权使用"
    return errors, owner, target, points


def _validate_campaign(actor: Any, data: CampaignInput) -> tuple[Organization, Organization, list[RedemptionPoint]]:
    errors, owner, target, points = _campaign_errors(actor, data)
    if errors:
        raise ValidationFailed("请修正表单中的错误", fields=errors)
    assert owner is not None and target is not None
    return owner, target, points


def campaign_check(*, actor: Any, data: CampaignInput) -> dict[str, str]:
    """What `campaign_create` / `campaign_update` would refuse in `data`, without saving: a
    form whose own fields did not parse still shows every other problem in the same answer."""
    return _campaign_errors(actor, data)[0]


def _save_items(campaign: Campaign, data: CampaignInput) -> None:
    campaign.items.all().delete()
    CampaignItem.objects.bulk_create(
        CampaignItem(
            campaign=campaign, position=i, name=item.name, face_value_fen=item.face_value_fen, quantity=item.quantity
        )
        for i, item in enumerate(data.items)
    )


def _campaign_fields(data: CampaignInput, owner: Organization, target: Organization) -> dict[str, Any]:
    return {
        "organization": owner,
        "name": data.name,
        "kind": data.kind,
        "mode": data.mode,
        "description": data.description,
        "target_org": target,
        "target_tags": data.target_tags,
        "stock_total": data.stock_total,
        "stock": data.stock_total,
        "face_value_fen": sum(i.face_value_fen * i.quantity for i in data.items),
        "budget_fen": data.budget_fen,
        "per_member_limit": data.per_member_limit,
        "claim_starts_at": data.claim_starts_at,
        "claim_ends_at": data.claim_ends_at,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "reversal_window_minutes": data.reversal_window_minutes,
    }


def campaign_create(*, actor: Any, data: CampaignInput) -> Campaign:
    owner, target, points = _validate_campaign(actor, data)
    with transaction.atomic():
        campaign = Campaign.objects.create(**_campaign_fields(data, owner, target), created_by=actor, updated_by=actor)
        _save_items(campaign, data)
        campaign.allowed_points.set(points)
        workflow.workflow_start(
            actor=actor,
            obj=campaign,
            workflow=CAMPAIGN,
            step="create",
            label="创建",
            organization=owner,
            detail={"name": campaign.name, "mode": campaign.mode, "stock": campaign.stock_total},
        )
    return campaign


def _lock_draft(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_for_update().select_related("organization").get(pk=campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict("只有草稿状态的活动可以修改")
    return campaign


def campaign_update(*, actor: Any, campaign: Campaign, data: CampaignInput) -> Campaign:
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, campaign.organization):
        raise PermissionDenied("无权修改该活动")
    owner, target, points = _validate_campaign(actor, data)
    with transaction.atomic():
        locked = _lock_draft(campaign.pk)
        for name, value in _campaign_fields(data, owner, target).items():
            setattr(locked, name, value)
        locked.updated_by = actor
        locked.save()
        _save_items(locked, data)
        locked.allowed_points.set(points)
        audit.record(actor=actor, action="campaign.update", obj=locked, organization=owner, detail={"name": data.name})
    return locked


def _publish_checks(campaign: Campaign, step: workflow.Step) -> list[str]:
    if not campaign.items.exists():
        raise ValidationFailed("活动还没有物品，不能发布")
    if not campaign.allowed_points.filter(is_active=True).exists():
        raise ValidationFailed("请至少选择一个核销点后再发布")
    if campaign.valid_until <= step.at:
        raise ValidationFailed("使用截止时间已过，不能发布")
    campaign.published_by = step.actor
    campaign.published_at = step.at
    return ["published_by", "published_at"]


def campaign_publish(*, actor: Any, campaign: Campaign) -> Campaign:
    """审核发布, the `campaign.publish` transition: whoever created or last edited the draft
    may not publish it (declared in `workflows.CAMPAIGN`)."""
    published: Campaign = workflow.workflow_transition(
        actor=actor, obj=campaign, workflow=CAMPAIGN, transition="publish", effect=_publish_checks
    )
    return published


def campaign_close(*, actor: Any, campaign: Campaign, reason: str = "") -> Campaign:
    if not (
        has_perm_on(actor, BenefitPerm.CAMPAIGN_PUBLISH, campaign.organization)
        or has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, campaign.organization)
    ):
        raise PermissionDenied("无权结束该活动")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().select_related("organization").get(pk=campaign.pk)
        if locked.status != CampaignStatus.PUBLISHED:
            raise Conflict("只有已发布的活动可以结束")
        if IssueRun.objects.filter(campaign=locked, job__status__in=JOB_ACTIVE).exists():
            raise Conflict("定向发放正在进行，请等待完成后再结束活动")
        locked.status = CampaignStatus.CLOSED
        locked.closed_by = actor
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
        audit.record(
            actor=actor,
            action="campaign.close",
            obj=locked,
            organization=locked.organization,
            detail={"reason": reason[:200]},
        )
    return locked


# ---- targeting -----------------------------------------------------------------------------


def target_members(campaign: Campaign) -> QuerySet[Member]:
    """Everyone the target rule names, whatever their membership status (the issuance report
    explains why an inactive one got nothing)."""
    qs = Member.objects.filter(organization__path__startswith=campaign.target_org.path)
    if campaign.target_tags:
        qs = qs.annotate(target_hit=F("tags").bitand(campaign.target_tags)).filter(target_hit__gt=0)
    if campaign.uses_target_list:
        qs = qs.filter(campaign_targets__campaign=campaign)
    return qs


def ineligibility_reason(
    campaign: Campaign, member: Member, *, in_target: bool | None = None, listed: bool | None = None
) -> str | None:
    """Why `member` may not hold this campaign's coupons, in Chinese; None when they may.
    `in_target` / `listed` may come precomputed from the query that loaded the campaign."""
    if member.status != MembershipStatus.ACTIVE:
        return "您的会籍状态不是“在会”，不能领取"
    if in_target is None:
        in_target = member.organization.path.startswith(campaign.target_org.path)
    if not in_target:
        return "本活动面向%(org)s的会员，您不在范围内" % {"org": campaign.target_org.name}
    if campaign.target_tags and not member.tags & campaign.target_tags:
        labels = "、".join(t.label for t in Tag if campaign.target_tags & t.value)
        return "本活动面向%(tags)s，您不在范围内" % {"tags": labels}
    if campaign.uses_target_list:
        if listed is None:
            listed = CampaignTarget.objects.filter(campaign=campaign, member=member).exists()
        if not listed:
            return "您不在本活动的发放名单中"
    return None


def _classify(value: str) -> tuple[str, str] | None:
    text = normalize_id_number(value).replace(" ", "")
    if ID_PATTERN.match(text):
        return "id", text
    if _MEMBER_NO.match(text):
        return "member_no", text
    return None


def target_list_read(*, file_name: str, stream: IO[bytes]) -> list[str]:
    """The first column of every row of an uploaded member list (XLSX, Parquet, or CSV/text in
    UTF-8, GB18030 or UTF-16), the first row included (a list may have no header), read by the
    kernel's tabular reader and so held to its file limits before and while it is read."""
    with tabular.open_tabular(stream, file_name=file_name, max_rows=TARGET_LIST_MAX_ROWS) as table:
        first = [table.header[0].strip() if table.header else ""]
        return first + [tabular.cell_text(row[0]).strip() if row else "" for row in table.rows()]


def campaign_target_list_upload(*, actor: Any, campaign: Campaign, rows: Iterable[str]) -> dict[str, Any]:
    """Replace the campaign's member list with the ID numbers / member numbers in `rows`.
    Returns (and stores) the matching report: every row that names nobody, and why."""
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, campaign.organization):
        raise PermissionDenied("无权修改该活动")
    values = [v for v in (r.strip() for r in rows) if v]
    if values and _classify(values[0]) is None and not any(c.isdigit() for c in values[0]):
        values = values[1:]  # a header row such as 身份证号
    if not values:
        raise ValidationFailed("名单为空，请每行填写一个身份证号或会员编号")
    if len(values) > TARGET_LIST_MAX_ROWS:
        raise ValidationFailed("名单超过 %(n)d 行，请分批处理" % {"n": TARGET_LIST_MAX_ROWS})
    unmatched: list[dict[str, Any]] = []
    by_blind: dict[str, int] = {}
    by_member_no: dict[str, int] = {}
    for line_no, value in enumerate(values, start=1):
        kind = _classify(value)
        if kind is None:
            unmatched.append(
                {"line": line_no, "value": mask_middle(clip(value, 40), head=3, tail=2), "reason": "无法识别"}
            )
            continue
        if kind[0] == "id":
            try:
                parse_resident_id(kind[1])
            except IdentifierError as exc:
                unmatched.append({"line": line_no, "value": mask_middle(kind[1]), "reason": str(exc)})
                continue
            by_blind.setdefault(id_blind_index(kind[1]), line_no)
        else:
            by_member_no.setdefault(kind[1], line_no)
    found: dict[int, int] = {}
    outside: list[tuple[int, str]] = []
    blinds = list(by_blind)
    for start in range(0, len(blinds), 1000):
        chunk = blinds[start : start + 1000]
        for member_id, blind, path, masked in Member.objects.filter(id_blind__in=chunk).values_list(
            "id", "id_blind", "organization__path", "id_masked"
        ):
            line = by_blind.pop(blind)
            if path.startswith(campaign.target_org.path):
                found.setdefault(member_id, line)
            else:
                outside.append((line, masked))
    numbers = list(by_member_no)
    for start in range(0, len(numbers), 1000):
        chunk = numbers[start : start + 1000]
        for member_id, member_no, path in Member.objects.filter(member_no__in=chunk).values_list(
            "id", "member_no", "organization__path"
        ):
            line = by_member_no.pop(member_no)
            if path.startswith(campaign.target_org.path):
                found.setdefault(member_id, line)
            else:
                outside.append((line, member_no))
    unmatched += [{"line": line, "value": value, "reason": "不在面向组织范围内"} for line, value in outside]
    unmatched += [{"line": line, "value": "身份证号（已隐去）", "reason": "未找到该会员"} for line in by_blind.values()]
    unmatched += [{"line": line, "value": no, "reason": "未找到该会员"} for no, line in by_member_no.items()]
    unmatched.sort(key=lambda row: row["line"])
    report = {
        "rows": len(values),
        "matched": len(found),
        "unmatched_count": len(unmatched),
        "duplicates": len(values) - len(found) - len(unmatched),
        "unmatched": unmatched[:TARGET_REPORT_MAX_UNMATCHED],
        "uploaded_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        locked = _lock_draft(campaign.pk)
        CampaignTarget.objects.filter(campaign=locked).delete()
        CampaignTarget.objects.bulk_create(
            (CampaignTarget(campaign=locked, member_id=member_id) for member_id in found), batch_size=2000
        )
        locked.uses_target_list = True
        locked.target_list_report = report
        locked.updated_by = actor
        locked.save(update_fields=["uses_target_list", "target_list_report", "updated_by", "updated_at"])
        audit.record(
            actor=actor,
            action="campaign.target_list_upload",
            obj=locked,
            organization=locked.organization,
            detail={k: report[k] for k in ("rows", "matched", "unmatched_count", "duplicates")},
        )
    return report


def campaign_target_list_clear(*, actor: Any, campaign: Campaign) -> None:
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, campaign.organization):
        raise PermissionDenied("无权修改该活动")
    with transaction.atomic():
        locked = _lock_draft(campaign.pk)
        CampaignTarget.objects.filter(campaign=locked).delete()
        locked.uses_target_list = False
        locked.target_list_report = {}
        locked.updated_by = actor
        locked.save(update_fields=["uses_target_list", "target_list_report", "updated_by", "updated_at"])
        audit.record(actor=actor, action="campaign.target_list_clear", obj=locked, organization=locked.organization)


# ---- 定向发放 -----------------------------------------------------------------------------


ISSUE_RUN_JOB = "benefits.issue_run"
ISSUE_RUN_CRASHED = "发放时发生系统错误，已发放的券照常有效；请点击“从中断处继续发放”，如再次出现请联系管理员"
ISSUE_RUN_STOPPED = "活动已不在发布状态，中断的发放不再继续"
ISSUE_RUN_ACTIVE = "该活动已有一次发放正在进行"


def _campaign_key(campaign_id: int) -> str:
    return "campaign:%d" % campaign_id


def issue_run_start(*, actor: Any, campaign: Campaign) -> IssueRun:
    """Queue 定向发放 for a published targeted campaign; its job runs after commit."""
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, campaign.organization):
        raise PermissionDenied("无权为该活动发放")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().select_related("organization").get(pk=campaign.pk)
        if locked.mode != IssueMode.TARGETED:
            raise Conflict("先到先得活动由会员自行领取，不能定向发放")
        if locked.status != CampaignStatus.PUBLISHED:
            raise Conflict("活动发布后才能定向发放")
        if IssueRun.objects.filter(campaign=locked, job__status__in=JOB_ACTIVE).exists():
            raise Conflict(ISSUE_RUN_ACTIVE)
        job = jobs.job_create(
            kind=ISSUE_RUN_JOB,
            organization=locked.organization,
            created_by=actor,
            key=_campaign_key(locked.pk),
            params={"campaign": locked.pk},
        )
        run = IssueRun.objects.create(campaign=locked, organization=locked.organization, started_by=actor, job=job)
    return run


def issue_run_resume(*, actor: Any, run: IssueRun) -> IssueRun:
    """Queue a failed or cancelled run again; it continues after its cursor."""
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, run.campaign.organization):
        raise PermissionDenied("无权为该活动发放")
    with transaction.atomic():
        locked = IssueRun.objects.select_related("campaign__organization", "job").get(pk=run.pk)
        if locked.job.status == JobStatus.SUCCEEDED:
            raise Conflict("该次发放已完成")
        if locked.campaign.status != CampaignStatus.PUBLISHED:
            raise Conflict("活动已不在发布状态，不能继续发放")
        if locked.job.status in JOB_ACTIVE:
            raise Conflict("该次发放正在进行，中断后可从中断处继续")
        if IssueRun.objects.filter(campaign=locked.campaign, job__status__in=JOB_ACTIVE).exists():
            raise Conflict(ISSUE_RUN_ACTIVE)
        locked.job = jobs.job_resume(actor=actor, job=locked.job)
    return locked


def issue_run_cancel(*, actor: Any, run: IssueRun) -> IssueRun:
    """Cancel a queued or running run: the worker stops before its next batch commits; the
    coupons already issued stay valid and the run can be resumed after its cursor."""
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, run.campaign.organization):
        raise PermissionDenied("无权为该活动发放")
    run.job = jobs.job_cancel(actor=actor, job=run.job)
    return run


def issue_run_execute(*, run_id: int) -> IssueRun:
    """Run the run's job now, as the worker does (`jobs.job_execute`): a run already running
    elsewhere or finished is left alone. An unexpected error fails it with a reason (it can be
    resumed after its cursor) and is raised again for the worker's log."""
    run = IssueRun.objects.get(pk=run_id)
    jobs.job_execute(job_id=run.job_id)
    return IssueRun.objects.select_related("job").get(pk=run_id)


def issue_run_job(job: Job) -> dict[str, int]:
    """The runner of a `benefits.issue_run` job: assign codes to every eligible member, batch
    by batch after the run's cursor. Safe to run again: each batch locks the run row and reads
    its cursor under the lock, its heartbeat commits with it (or refuses it, once the job was
    cancelled or handed to another worker), and the unique (campaign, member, seq) key means a
    member already served is skipped, never served twice."""
    run = IssueRun.objects.select_related("campaign__target_org", "campaign__organization").get(job=job)
    campaign = run.campaign
    if run.cursor == 0 and job.done == 0:
        jobs.job_heartbeat(job, total=target_members(campaign).count())
    try:
        while _issue_batch(run_id=run.pk, campaign=campaign, job=job):
            pass
    except Conflict as exc:
        raise jobs.JobFailed(exc.message) from exc
    run.refresh_from_db(fields=["issued", "skipped"])
    return {"issued": run.issued, "skipped": run.skipped}


def issue_run_resumable(job: Job) -> str | None:
    """A dead run continues only while its campaign is still published."""
    published = Campaign.objects.filter(issue_runs__job=job, status=CampaignStatus.PUBLISHED).exists()
    return None if published else ISSUE_RUN_STOPPED


def _issue_batch(*, run_id: int, campaign: Campaign, job: Job) -> bool:
    """Serve the next batch after the run's cursor; False when there is nothing left."""
    now = timezone.now()
    with transaction.atomic():
        run = IssueRun.objects.select_for_update().get(pk=run_id)
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.PUBLISHED:
            raise Conflict("活动已不在发布状态，发放中止")
        batch = list(
            target_members(campaign)
            .filter(id__gt=run.cursor)
            .order_by("id")
            .values_list("id", "organization_id", "status")[:ISSUE_BATCH]
        )
        if not batch:
            return False
        ids = [member_id for member_id, _, _ in batch]
        served = set(Coupon.objects.filter(campaign=locked, member_id__in=ids).values_list("member_id", flat=True))
        skips: list[IssueSkip] = []
        to_serve: list[tuple[int, int]] = []
        for member_id, org_id, status in batch:
            if member_id in served:
                skips.append(IssueSkip(run=run, member_id=member_id, reason=SkipReason.ALREADY_ISSUED))
            elif status != MembershipStatus.ACTIVE:
                skips.append(IssueSkip(run=run, member_id=member_id, reason=SkipReason.NOT_ACTIVE))
            else:
                to_serve.append((member_id, org_id))
        affordable = locked.stock // locked.per_member_limit
        for member_id, _ in to_serve[affordable:]:
            skips.append(IssueSkip(run=run, member_id=member_id, reason=SkipReason.OUT_OF_STOCK))
        to_serve = to_serve[:affordable]
        coupons = [
            Coupon(
                campaign=locked,
                member_id=member_id,
                organization_id=org_id,
                seq=seq,
                code=codes.generate(),
                status=CouponStatus.ASSIGNED,
                face_value_fen=locked.face_value_fen,
                issued_at=now,
                issue_run=run,
            )
            for member_id, org_id in to_serve
            for seq in range(1, locked.per_member_limit + 1)
        ]
        _insert_with_fresh_codes(coupons)
        if coupons:
            Campaign.objects.filter(pk=locked.pk).update(stock=F("stock") - len(coupons))
        IssueSkip.objects.bulk_create(skips, ignore_conflicts=True)
        run.cursor = batch[-1][0]
        run.issued += len(to_serve)
        run.skipped += len(skips)
        run.save(update_fields=["cursor", "issued", "skipped"])
        # The progress commits with the batch; a cancelled or lost job rolls the batch back.
        jobs.job_heartbeat(job, done=job.done + len(batch))
    return True


def _insert_with_fresh_codes(coupons: list[Coupon], *, attempts: int = 5) -> None:
    """Insert a batch; in the (≈10⁻⁷ per code) event that a fresh code collides with an
    existing one, draw new codes for the batch and try again."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                Coupon.objects.bulk_create(coupons, batch_size=1000)
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise
            for coupon in coupons:
                coupon.code = codes.generate()
                coupon.pk = None


# ---- redemption points and devices ------------------------------------------------------------


def _validate_point(actor: Any, data: PointInput) -> Organization:
    errors: dict[str, str] = {}
    if not data.name or len(data.name) > 100:
        errors["name"] = "请填写名称（不超过100个字）"
    if data.kind not in PointKind.values:
        errors["kind"] = "请选择类型"
    if not data.address or len(data.address) > 200:
        errors["address"] = "请填写地址（不超过200个字）"
    if (data.latitude is None) != (data.longitude is None):
        errors["latitude"] = "经纬度需同时填写"
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        errors["latitude"] = "纬度应在 -90 到 90 之间"
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        errors["longitude"] = "经度应在 -180 到 180 之间"
    if errors:
        raise ValidationFailed("请修正表单中的错误", fields=errors)
    return _organization_in_scope(actor, BenefitPerm.CAMPAIGN_MANAGE, data.organization_id, "organization", "所属工会")


def _point_fields(data: PointInput, org: Organization) -> dict[str, Any]:
    return {
        "organization": org,
        "name": data.name,
        "kind": data.kind,
        "address": data.address,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "contact_phone": data.contact_phone[:20],
        "is_active": data.is_active,
    }


def point_create(*, actor: Any, data: PointInput) -> RedemptionPoint:
    org = _validate_point(actor, data)
    try:
        with transaction.atomic():
            point = RedemptionPoint.objects.create(**_point_fields(data, org))
            audit.record(actor=actor, action="point.create", obj=point, organization=org, detail={"name": point.name})
    except IntegrityError:
        raise ValidationFailed("同一工会下已有同名核销点", fields={"name": "同一工会下已有同名核销点"}) from None
    return point


def point_update(*, actor: Any, point: RedemptionPoint, data: PointInput) -> RedemptionPoint:
    if not has_perm_on(actor, BenefitPerm.CAMPAIGN_MANAGE, point.organization):
        raise PermissionDenied("无权修改该核销点")
    org = _validate_point(actor, data)
    try:
        with transaction.atomic():
            locked = RedemptionPoint.objects.select_for_update().get(pk=point.pk)
            for name, value in _point_fields(data, org).items():
                setattr(locked, name, value)
            locked.save()
            audit.record(actor=actor, action="point.update", obj=locked, organization=org, detail={"name": data.name})
    except IntegrityError:
        raise ValidationFailed("同一工会下已有同名核销点", fields={"name": "同一工会下已有同名核销点"}) from None
    return locked


def point_device_register(*, actor: Any, point: RedemptionPoint, name: str, kind: str) -> tuple[Device, str]:
    """Register a device through `core.signing` and bind it to `point`; returns the secret,
    shown once to the installer."""
    if not has_perm_on(actor, Perm.DEVICE_MANAGE, point.organization):
        raise PermissionDenied("无权为该核销点登记设备")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("请填写设备名称", fields={"device_name": "请填写设备名称（不超过100个字）"})
    if kind not in devices.DEVICE_KINDS:
        raise ValidationFailed("请选择设备类型", fields={"device_kind": "请选择设备类型"})
    with transaction.atomic():
        device, secret = signing.device_register(actor=actor, organization=point.organization, name=name, kind=kind)
        PointDevice.objects.create(point=point, device=device, bound_by=actor)
        audit.record(
            actor=actor,
            action="point.device_bind",
            obj=point,
            organization=point.organization,
            detail={"device": device.key_id},
        )
    return device, secret


def point_device_deactivate(*, actor: Any, point: RedemptionPoint, device_id: int) -> Device:
    if not has_perm_on(actor, Perm.DEVICE_MANAGE, point.organization):
        raise PermissionDenied("无权管理该核销点的设备")
    with transaction.atomic():
        binding = PointDevice.objects.select_related("device").filter(point=point, device_id=device_id).first()
        if binding is None:
            raise NotFound("设备不存在")
        device = Device.objects.select_for_update().get(pk=binding.device_id)
        device.is_active = False
        device.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="point.device_deactivate",
            obj=device,
            organization=point.organization,
            detail={"point": point.pk},
        )
    return device


def point_unlock(*, actor: Any, point: RedemptionPoint) -> None:
    """Lift a guessing lock from the point and its devices before the 15 minutes are up."""
    if not has_perm_on(actor, Perm.DEVICE_MANAGE, point.organization):
        raise PermissionDenied("无权解除该核销点的锁定")
    with transaction.atomic():
        RedemptionPoint.objects.filter(pk=point.pk).update(locked_until=None)
        device_ids = list(point.device_bindings.values_list("device_id", flat=True))
        Device.objects.filter(pk__in=device_ids).update(locked_until=None)
        audit.record(actor=actor, action="point.unlock", obj=point, organization=point.organization)
