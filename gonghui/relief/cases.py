"""Writes of 临时救助 and 大病救助 cases (the case half of the relief services): submission by the
member or by staff on their behalf, "一事一救", the 大病 computation kept with its policy version,
review, approval within each level's limit on the kernel workflow, refusal, documents, and the
paperwork of fast-track cases."""

import base64
import datetime as dt
import json
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from gonghui.core import audit, crypto, parsing, registry
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.core.workflow import Step, workflow_start, workflow_transition
from gonghui.funds.models import Budget
from gonghui.funds.selectors import budgets_for_spending
from gonghui.funds.services import fund_spend
from gonghui.members.models import Member
from gonghui.organizations.policies import policy_explain, policy_for
from gonghui.organizations.selectors import ancestors, has_perm_on
from gonghui.relief import policies
from gonghui.relief.models import (
    CaseDocument,
    CaseKind,
    CaseStatus,
    FileStatus,
    HardshipFile,
    ReliefCase,
    seal,
    unseal,
    unseal_file,
)
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.rules import IllnessParams, IllnessResult, major_illness, yuan
from gonghui.relief.selectors import paperwork_overdue_q
from gonghui.relief.services import parse_money, read_upload
from gonghui.relief.workflows import CASE

CASE_AMOUNT_MAX_FEN = 100_000_000  # ¥100 万: no single relief case is larger
DESCRIPTION_MAX = 500
ILLNESS_SITUATION = "major_illness_aid"


def _field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={name: str(exc)}) from None


def _may_submit_for(actor: Any, member: Member) -> bool:
    """Staff handling relief where the member belongs, or the member themself."""
    return member.user_id == getattr(actor, "pk", None) or has_perm_on(actor, ReliefPerm.MANAGE, member.organization)


def _card(raw: Any) -> tuple[str, str]:
    digits = parsing.clean(raw).replace(" ", "")
    if not (digits.isdigit() and 12 <= len(digits) <= 19):
        raise ValidationFailed(
            "请填写本人实名银行卡号（12 到 19 位数字），救助金只转入本人账户",
            fields={"payee_card": "请填写 12 到 19 位数字的银行卡号"},
        )
    sealed = seal(ReliefCase, "payee_card_encrypted", digits)
    return sealed, crypto.mask_middle(digits, head=4, tail=4)


def _description(data: Mapping[str, Any]) -> str:
    text = parsing.clean(data.get("description"))
    if not text:
        raise ValidationFailed("请填写情况说明", fields={"description": "请填写情况说明"})
    if len(text) > DESCRIPTION_MAX:
        raise ValidationFailed("情况说明不能超过 500 字", fields={"description": "不能超过 500 字"})
    return text


def _event_date(data: Mapping[str, Any], today: dt.date, label: str) -> dt.date:
    result: dt.date = _field(
        "event_date",
        parsing.parse_date,
        data.get("event_date"),
        label=label,
        earliest=today - dt.timedelta(days=366),
        latest=today,
    )
    return result


def _open_file(member: Member) -> HardshipFile | None:
    return HardshipFile.objects.filter(member=member, status__in=(FileStatus.ACTIVE, FileStatus.NOTICE)).first()


def _create(case: ReliefCase, actor: Any, detail: dict[str, Any]) -> ReliefCase:
    duplicate = ReliefCase.objects.filter(
        member=case.member, kind=case.kind, situation=case.situation, event_date=case.event_date
    ).exclude(status=CaseStatus.REJECTED)
    existing = duplicate.values_list("case_no", flat=True).first()
    if existing:
        raise Conflict(_one_event_message(existing))
    try:
        with transaction.atomic():
            case.save()
            workflow_start(actor=actor, obj=case, workflow=CASE, detail=detail)
    except IntegrityError:
        existing = duplicate.values_list("case_no", flat=True).first() or ""
        raise Conflict(_one_event_message(existing)) from None
    return case


def _one_event_message(case_no: str) -> str:
    return "一事一救：同一事件已有救助申请（%(no)s），不能重复申请" % {"no": case_no}


def _case_no(today: dt.date) -> str:
    return "JZ%d%08d" % (today.year, secrets.randbelow(10**8))


def case_submit(*, actor: Any, member: Member, data: Mapping[str, Any]) -> ReliefCase:
    """A 临时救助 application. Only staff may mark it fast-track (先行救助、后补手续); its
    papers are then due within the situations policy's `paperwork_days`."""
    if not _may_submit_for(actor, member):
        raise PermissionDenied("您无权为该会员提交救助申请")
    today = timezone.localdate()
    situations = policy_for(kind=policies.SITUATIONS, organization=member.organization)
    choices = dict(policies.active_choices(situations.body, "situations"))
    situation = parsing.clean(data.get("situation"))
    if situation not in choices:
        raise ValidationFailed("请选择救助情形", fields={"situation": "请从列表中选择"})
    amount = _field(
        "amount",
        parsing.parse_yuan,
        data.get("amount"),
        label="申请金额",
        maximum_fen=CASE_AMOUNT_MAX_FEN,
        allow_zero=False,
    )
    fast = str(data.get("fast_track", "")).strip() in ("1", "on", "true")
    if fast and not has_perm_on(actor, ReliefPerm.MANAGE, member.organization):
        raise PermissionDenied("先行救助须由工会工作人员办理")
    sealed, masked = _card(data.get("payee_card"))
    case = ReliefCase(
        organization=member.organization,
        member=member,
        file=_open_file(member),
        case_no=_case_no(today),
        kind=CaseKind.TEMPORARY,
        situation=situation,
        situation_label=choices[situation],
        situations_policy=situations.version,
        event_date=_event_date(data, today, "事发日期"),
        description=_description(data),
        amount_requested_fen=amount,
        payee_card_encrypted=sealed,
        payee_card_masked=masked,
        fast_track=fast,
        paperwork_due=today + dt.timedelta(days=int(situations.body["paperwork_days"])) if fast else None,
        submitted_by=actor,
    )
    return _create(case, actor, {"kind": case.kind, "situation": situation, "amount_fen": amount, "fast_track": fast})


def _illness_paid(member: Member, year: int, *, exclude: int | None = None) -> int:
    qs = ReliefCase.objects.filter(
        member=member,
        kind=CaseKind.MAJOR_ILLNESS,
        illness_year=year,
        status__in=(CaseStatus.APPROVED, CaseStatus.PAID),
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return int(qs.aggregate(total=Sum("amount_approved_fen"))["total"] or 0)


ILLNESS_FIELDS = (
    ("total", "医疗总费用"),
    ("medical_insurance", "医保统筹支付"),
    ("other_insurance", "其他保险赔付"),
    ("mutual_aid", "医疗互助金"),
)


def illness_figures_parse(data: Mapping[str, Any]) -> dict[str, int]:
    return {
        name: parse_money(data.get(name), name=name, label=label, required=name == "total")
        for name, label in ILLNESS_FIELDS
    }


def illness_compute(*, figures: Mapping[str, int], body: Mapping[str, Any], paid_this_year_fen: int) -> IllnessResult:
    return major_illness(
        total_fen=figures["total"],
        medical_insurance_fen=figures["medical_insurance"],
        other_insurance_fen=figures["other_insurance"],
        mutual_aid_fen=figures["mutual_aid"],
        paid_this_year_fen=paid_this_year_fen,
        params=IllnessParams.of(dict(body)),
    )


# What the platform's medical mutual aid paid a member in a year, offered by that app.
MUTUAL_AID_PAID = "mutual_aid.paid_benefits_fen"


def mutual_aid_paid_fen(member: Member, year: int) -> int:
    """The mutual-aid benefits the platform paid `member` in `year` (0 where no app offers them)."""
    paid = registry.offered(MUTUAL_AID_PAID)
    return int(paid(member=member, year=year)) if paid is not None else 0


def illness_case_submit(*, actor: Any, member: Member, data: Mapping[str, Any]) -> ReliefCase:
    """A 大病救助 application: the amount is computed from the year's figures under the tiers in
    force for the member's union, after what the member already received this year. The
    mutual aid counted is at least what the platform's mutual aid paid the member that year."""
    if not _may_submit_for(actor, member):
        raise PermissionDenied("您无权为该会员提交救助申请")
    today = timezone.localdate()
    figures = illness_figures_parse(data)
    settled = _event_date(data, today, "费用结算日期")
    figures["mutual_aid"] = max(figures["mutual_aid"], mutual_aid_paid_fen(member, settled.year))
    tiers = policy_for(kind=policies.MAJOR_ILLNESS, organization=member.organization, on=today)
    paid = _illness_paid(member, settled.year)
    result = illness_compute(figures=figures, body=tiers.body, paid_this_year_fen=paid)
    if result.amount_fen == 0:
        raise ValidationFailed(
            "个人自付 %(net)s，按现行档次可救助金额为 ¥0.00，不能提交申请" % {"net": yuan(result.net_personal_fen)},
            fields={"total": result.steps[-1]},
        )
    sealed_figures = seal(
        ReliefCase, "illness_figures_encrypted", json.dumps({**figures, "paid_this_year": paid}, sort_keys=True)
    )
    sealed, masked = _card(data.get("payee_card"))
    case = ReliefCase(
        organization=member.organization,
        member=member,
        file=_open_file(member),
        case_no=_case_no(today),
        kind=CaseKind.MAJOR_ILLNESS,
        situation=ILLNESS_SITUATION,
        situation_label="大病救助",
        event_date=settled,
        description=_description(data),
        amount_requested_fen=result.amount_fen,
        illness_year=settled.year,
        illness_figures_encrypted=sealed_figures,
        illness_policy=tiers.version,
        payee_card_encrypted=sealed,
        payee_card_masked=masked,
        submitted_by=actor,
    )
    return _create(
        case, actor, {"kind": case.kind, "amount_fen": result.amount_fen, "illness_policy": tiers.version_id}
    )


def illness_explain(case: ReliefCase) -> IllnessResult:
    """The case's computation, again, from its sealed figures and the tier version it used."""
    stored = json.loads(unseal(ReliefCase, "illness_figures_encrypted", case.illness_figures_encrypted))
    body = policy_explain(kind=policies.MAJOR_ILLNESS, version=case.illness_policy_id)
    return illness_compute(figures=stored, body=body, paid_this_year_fen=int(stored["paid_this_year"]))


def illness_reveal(*, actor: Any, case: ReliefCase) -> IllnessResult:
    if not has_perm_on(actor, ReliefPerm.REVEAL, case.organization):
        raise PermissionDenied("您无权查看救助申请的医疗费用明细")
    if case.kind != CaseKind.MAJOR_ILLNESS:
        raise Conflict("该申请不是大病救助")
    result = illness_explain(case)
    with transaction.atomic():
        audit.record(actor=actor, action="relief.case_reveal", obj=case, organization=case.organization)
    return result


# ---- the workflow ----------------------------------------------------------------------------


def case_review(*, actor: Any, case: ReliefCase, reason: str = "") -> ReliefCase:
    result: ReliefCase = workflow_transition(actor=actor, obj=case, workflow=CASE, transition="review", reason=reason)
    return result


def case_approve(*, actor: Any, case: ReliefCase, amount_fen: int, reason: str = "") -> ReliefCase:
    """Approve `amount_fen` (at most what was asked). Above the approver's level limit the case
    goes up a level instead; a 大病 amount never takes the member past the yearly cap."""

    def effect(obj: ReliefCase, step: Step) -> list[str]:
        amount = int(step.amount_fen or 0)
        if amount == 0:
            raise ValidationFailed("批准金额应大于 0", fields={"amount": "批准金额应大于 0"})
        if amount > obj.amount_requested_fen:
            raise ValidationFailed(
                "批准金额不能超过申请金额 %(max)s" % {"max": yuan(obj.amount_requested_fen)},
                fields={"amount": "不能超过申请金额"},
            )
        if step.transition.name == "approve_urgent" and not obj.fast_track:
            raise Conflict("该申请不是先行救助案件，请先审核")
        obj.approval_limits_policy = policy_for(kind=policies.APPROVAL_LIMITS, organization=obj.organization).version
        if step.escalated:
            return ["approval_limits_policy"]
        if obj.kind == CaseKind.MAJOR_ILLNESS:
            assert obj.illness_year is not None
            # One member's 大病 approvals are serialised on the member row.
            Member.objects.select_for_update().get(pk=obj.member_id)
            cap = IllnessParams.of(policy_explain(kind=policies.MAJOR_ILLNESS, version=obj.illness_policy_id))
            room = max(cap.yearly_cap_fen - _illness_paid(obj.member, obj.illness_year, exclude=obj.pk), 0)
            if amount > room:
                raise ValidationFailed(
                    "超过每人每年大病救助封顶：本年尚可救助 %(room)s" % {"room": yuan(room)},
                    fields={"amount": "超过本年封顶"},
                )
        obj.amount_approved_fen = amount
        return ["approval_limits_policy", "amount_approved_fen"]

    names = ("approve", "approve_urgent")
    result: ReliefCase = workflow_transition(
        actor=actor, obj=case, workflow=CASE, transition=names, reason=reason, amount_fen=amount_fen, effect=effect
    )
    return result


def case_reject(*, actor: Any, case: ReliefCase, reason: str) -> ReliefCase:
    result: ReliefCase = workflow_transition(actor=actor, obj=case, workflow=CASE, transition="reject", reason=reason)
    return result


def paperwork_complete(*, actor: Any, case: ReliefCase) -> ReliefCase:
    """The papers of a fast-track case are complete (后补手续已补齐)."""
    if not has_perm_on(actor, ReliefPerm.MANAGE, case.organization):
        raise PermissionDenied("您无权办理该救助申请")
    with transaction.atomic():
        locked = ReliefCase.objects.select_for_update().get(pk=case.pk)
        if not locked.fast_track:
            raise Conflict("该申请不是先行救助案件")
        if locked.paperwork_done_at is not None:
            raise Conflict("该申请的手续已补齐")
        if not locked.documents.exists():
            raise ValidationFailed("请先上传补齐的材料", fields={"upload": "请先上传材料"})
        locked.paperwork_done_at = timezone.now()
        locked.save(update_fields=["paperwork_done_at", "updated_at"])
        audit.record(
            actor=actor,
            action="relief.case_paperwork",
            obj=locked,
            organization=locked.organization,
            detail={"paperwork_due": locked.paperwork_due.isoformat() if locked.paperwork_due else ""},
        )
    return locked


def case_document_add(*, actor: Any, case: ReliefCase, upload: UploadedFile | None) -> CaseDocument:
    """A document of the case, by staff of its union or by the member on their own case."""
    if not _may_submit_for(actor, case.member):
        raise PermissionDenied("您无权为该救助申请上传材料")
    name, content_type, size, stored = read_upload(upload, CaseDocument, "relief_cases")
    with transaction.atomic():
        locked = ReliefCase.objects.select_for_update().get(pk=case.pk)
        document = CaseDocument.objects.create(
            case=locked, filename=name, content_type=content_type, size=size, stored=stored, uploaded_by=actor
        )
        audit.record(
            actor=actor,
            action="relief.case_document_add",
            obj=locked,
            organization=locked.organization,
            detail={"filename": name, "size": size},
        )
    return document


def case_document_read(*, actor: Any, document: CaseDocument) -> bytes:
    case = document.case
    if not (
        case.member.user_id == getattr(actor, "pk", None) or has_perm_on(actor, ReliefPerm.REVEAL, case.organization)
    ):
        raise PermissionDenied("您无权查看该材料")
    content = unseal_file(CaseDocument, "stored", document.stored)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="relief.case_document_read",
            obj=case,
            organization=case.organization,
            detail={"filename": document.filename},
        )
    return base64.b64decode(content)


# ---- disbursement --------------------------------------------------------------------------------

CATEGORY_OF: dict[str, str] = {CaseKind.TEMPORARY: "relief.temporary", CaseKind.MAJOR_ILLNESS: "relief.major_illness"}


def case_reference(case: ReliefCase) -> str:
    return "relief.case:%d" % case.pk


def case_budgets(*, actor: Any, case: ReliefCase) -> list[Budget]:
    """The budgets the actor may pay this case from: those of the case's union and of the
    unions above it, of the case's year, with money left, on a line its category may use."""
    year = timezone.localdate().year
    lineage = [*ancestors(case.organization), case.organization]
    found: list[Budget] = []
    for organization in reversed(lineage):
        found += list(
            budgets_for_spending(user=actor, organization=organization, year=year, category=CATEGORY_OF[case.kind])
        )
    return found


def case_pay(*, actor: Any, case: ReliefCase, budget: Budget) -> ReliefCase:
    """Pay the approved amount by real-name transfer to the member's card, out of `budget`
    (a fund source and budget line of the case's union or one above it): the budget is locked
    and charged in the same transaction as the case moves to 已发放, so two payments racing for
    a budget's last money cannot both pass."""
    lineage = {o.pk for o in ancestors(case.organization)} | {case.organization_id}
    if budget.organization_id not in lineage:
        raise ValidationFailed("只能从本单位或上级工会的预算中列支", fields={"budget": "请选择本单位或上级工会的预算"})

    def effect(obj: ReliefCase, step: Step) -> list[str]:
        assert obj.amount_approved_fen is not None
        entry = fund_spend(
            actor=actor,
            budget=budget,
            amount_fen=obj.amount_approved_fen,
            category=CATEGORY_OF[obj.kind],
            reference=case_reference(obj),
            memo="%(no)s %(name)s 实名转账至 %(card)s"
            % {"no": obj.case_no, "name": obj.member.name_masked, "card": obj.payee_card_masked},
        )
        obj.ledger_entry = entry
        obj.paid_at = step.at
        return ["ledger_entry", "paid_at"]

    result: ReliefCase = workflow_transition(
        actor=actor, obj=case, workflow=CASE, transition="pay", effect=effect, budget=budget.pk
    )
    return result


def paperwork_escalate() -> int:
    """Housekeeping: fast-track cases whose papers are past due and still missing are reported
    to the union above (once each): an audit event on the parent organisation, and the case
    shows as escalated on the overdue list and the parent's dashboard. Returns how many."""
    today = timezone.localdate()
    due = ReliefCase.objects.filter(paperwork_overdue_q(today), paperwork_escalated_at__isnull=True)
    count = 0
    for pk in due.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            case = (
                ReliefCase.objects.select_for_update(of=("self",))
                .select_related("organization__parent")
                .filter(pk=pk, paperwork_escalated_at__isnull=True)
                .first()
            )
            if case is None:
                continue
            case.paperwork_escalated_at = timezone.now()
            case.save(update_fields=["paperwork_escalated_at"])
            audit.record(
                actor=None,
                action="relief.case_paperwork_escalate",
                obj=case,
                organization=case.organization.parent or case.organization,
                detail={"paperwork_due": case.paperwork_due.isoformat() if case.paperwork_due else ""},
            )
            count += 1
    return count
