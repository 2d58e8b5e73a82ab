"""Funds writes. Each function owns its transaction (nested in a caller's, e.g. a relief
disbursement) and writes its audit event inside it.

Spending can never exceed a budget: `fund_spend` locks the budget row (`SELECT … FOR UPDATE`),
re-checks what remains and raises the spent amount in the same transaction, so two payments
racing for the last ¥5,000 are served one after the other and the second one is refused; the
database's CHECK constraint (``spent_fen <= amount_fen``) is the last line should anything
write around the lock. A refund reverses one spend exactly once; a budget is never adjusted
below what has been spent. See the package docstring for the invariant."""

import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from gonghui.core import audit, parsing
from gonghui.core.errors import Conflict, PermissionDenied, ValidationFailed
from gonghui.funds import categories
from gonghui.funds.models import (
    BUDGET_MAX_FEN,
    LINE_MAX,
    NOTE_MAX,
    REFERENCE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    Budget,
    EntryKind,
    LedgerEntry,
    Source,
)
from gonghui.funds.permissions import FundPerm
from gonghui.organizations.models import Organization
from gonghui.organizations.selectors import has_perm_on

# The category of entries typed on the ledger page itself (not paid by another app).
OTHER_CATEGORY = "funds.other"
OTHER_CATEGORY_LABEL = "其他帮扶支出"


def _require(actor: Any, perm: str, organization: Organization, message: str) -> None:
    if not has_perm_on(actor, perm, organization):
        raise PermissionDenied(message)


def _text(raw: object) -> str:
    """Typed text without control or zero-width characters, trimmed."""
    if raw is None:
        return ""
    return "".join(ch for ch in str(raw) if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def _yuan(fen: int) -> str:
    return parsing.format_yuan(fen)


def _amount(value: object, *, label: str, errors: dict[str, str], key: str, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[key] = "%(label)s应为整数（分）" % {"label": label}
        return 0
    if value < 0:
        errors[key] = "%(label)s不能为负数" % {"label": label}
    elif positive and value == 0:
        errors[key] = "%(label)s应大于 0" % {"label": label}
    elif value > BUDGET_MAX_FEN:
        errors[key] = "%(label)s不能超过 %(max)s 元" % {"label": label, "max": _yuan(BUDGET_MAX_FEN)}
    return value


def _limited(raw: object, *, label: str, maximum: int, errors: dict[str, str], key: str, required: bool) -> str:
    text = _text(raw)
    if required and not text:
        errors[key] = "请填写%(label)s" % {"label": label}
    elif len(text) > maximum:
        errors[key] = "%(label)s不能超过 %(max)s 个字" % {"label": label, "max": maximum}
    return text


def _budget_name(budget: Budget) -> str:
    return "%(org)s %(budget)s" % {"org": budget.organization.name, "budget": budget}


# ---- budgets ------------------------------------------------------------------------------------


def budget_create(
    *,
    actor: Any,
    organization: Organization,
    year: int,
    source: str,
    line: str,
    amount_fen: int,
    note: str = "",
) -> Budget:
    """A new budget line of `organization` for `year` from `source`: one per (organisation,
    year, source, line); a second one is refused, the first is adjusted instead."""
    _require(actor, FundPerm.FUND_MANAGE, organization, "无权为该组织编制帮扶资金预算")
    errors: dict[str, str] = {}
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        errors["year"] = "年度应为 %(min)s 至 %(max)s 之间的整数" % {"min": YEAR_MIN, "max": YEAR_MAX}
    if source not in Source.values:
        errors["source"] = "请选择资金来源（财政、上级工会拨付、本级工会预算、社会募集）"
    line = _limited(line, label="预算科目", maximum=LINE_MAX, errors=errors, key="line", required=True)
    amount_fen = _amount(amount_fen, label="预算金额", errors=errors, key="amount", positive=False)
    note = _limited(note, label="备注", maximum=NOTE_MAX, errors=errors, key="note", required=False)
    if errors:
        raise ValidationFailed("预算信息有误", fields=errors)
    duplicate = Conflict(
        "%(org)s %(year)s 年度“%(source)s · %(line)s”预算已存在，请调整原预算"
        % {"org": organization.name, "year": year, "source": Source(source).label, "line": line},
        fields={"line": "该资金来源下已有同名预算科目"},
    )
    with transaction.atomic():
        if Budget.objects.filter(organization=organization, year=year, source=source, line=line).exists():
            raise duplicate
        try:
            with transaction.atomic():
                budget = Budget.objects.create(
                    organization=organization,
                    year=year,
                    source=source,
                    line=line,
                    amount_fen=amount_fen,
                    note=note,
                    created_by=actor,
                )
        except IntegrityError:  # created by a concurrent request since the check above
            raise duplicate from None
        audit.record(
            actor=actor,
            action="funds.budget_create",
            obj=budget,
            organization=organization,
            detail={"year": year, "source": source, "line": line, "amount_fen": amount_fen},
        )
    return budget


def budget_adjust(*, actor: Any, budget: Budget, amount_fen: int, reason: str) -> Budget:
    """Set the budget's amount (追加 or 调减); never below what has been spent. The change is a
    ledger entry with the amounts before and after."""
    _require(actor, FundPerm.FUND_MANAGE, budget.organization, "无权调整该组织的帮扶资金预算")
    errors: dict[str, str] = {}
    amount_fen = _amount(amount_fen, label="调整后预算金额", errors=errors, key="amount", positive=False)
    reason = _limited(reason, label="调整原因", maximum=NOTE_MAX, errors=errors, key="reason", required=True)
    if errors:
        raise ValidationFailed("预算调整信息有误", fields=errors)
    with transaction.atomic():
        locked = Budget.objects.select_for_update(of=("self",)).select_related("organization").get(pk=budget.pk)
        before = locked.amount_fen
        if amount_fen == before:
            raise ValidationFailed("调整后的预算与原预算相同", fields={"amount": "调整后的预算与原预算相同"})
        if amount_fen < locked.spent_fen:
            message = "调整后的预算 ¥%(after)s 不能低于已支出的 ¥%(spent)s" % {
                "after": _yuan(amount_fen),
                "spent": _yuan(locked.spent_fen),
            }
            raise Conflict(message, fields={"amount": message})
        Budget.objects.filter(pk=locked.pk).update(amount_fen=amount_fen)
        entry = LedgerEntry.objects.create(
            budget=locked,
            kind=EntryKind.ADJUST,
            amount_fen=abs(amount_fen - before),
            memo=reason,
            budget_before_fen=before,
            budget_after_fen=amount_fen,
            actor=actor,
        )
        audit.record(
            actor=actor,
            action="funds.budget_adjust",
            obj=locked,
            organization=locked.organization,
            detail={"before_fen": before, "after_fen": amount_fen, "reason": reason, "entry": entry.pk},
        )
    budget.amount_fen = amount_fen
    budget.spent_fen = locked.spent_fen
    return budget


# ---- spending -----------------------------------------------------------------------------------


def fund_spend(
    *,
    actor: Any,
    budget: Budget,
    amount_fen: int,
    category: str,
    reference: str,
    memo: str = "",
) -> LedgerEntry:
    """Pay `amount_fen` out of `budget` for `category` (registered by the paying app), naming
    the caller's `reference` ("relief.case:123"). Refused, with nothing written, when the
    budget's remaining amount is smaller — checked under the budget's row lock."""
    errors: dict[str, str] = {}
    amount_fen = _amount(amount_fen, label="支出金额", errors=errors, key="amount", positive=True)
    found = categories.category(category) if isinstance(category, str) else None
    if found is None:
        errors["category"] = "未登记的支出类别：%(key)s" % {"key": _text(category)[:60]}
    reference = _limited(
        reference, label="业务单据", maximum=REFERENCE_MAX, errors=errors, key="reference", required=False
    )
    memo = _limited(memo, label="说明", maximum=NOTE_MAX, errors=errors, key="memo", required=False)
    if errors:
        raise ValidationFailed("支出信息有误", fields=errors)
    assert found is not None
    _require(actor, FundPerm.FUND_SPEND, budget.organization, "无权动用该组织的帮扶资金")
    if not found.allows_line(budget.line):
        message = "“%(category)s”不能从预算科目“%(line)s”列支" % {"category": found.label, "line": budget.line}
        raise Conflict(message, fields={"budget": message})
    with transaction.atomic():
        locked = Budget.objects.select_for_update(of=("self",)).select_related("organization").get(pk=budget.pk)
        remaining = locked.amount_fen - locked.spent_fen
        if amount_fen > remaining:
            raise Conflict(
                "预算余额不足：%(budget)s 剩余 ¥%(left)s，本次 ¥%(want)s"
                % {"budget": _budget_name(locked), "left": _yuan(remaining), "want": _yuan(amount_fen)},
                fields={"amount": "超出预算剩余 ¥%(left)s" % {"left": _yuan(remaining)}},
            )
        try:
            with transaction.atomic():
                Budget.objects.filter(pk=locked.pk).update(spent_fen=F("spent_fen") + amount_fen)
        except IntegrityError:  # the CHECK constraint: spent may never pass the amount
            raise Conflict(
                "预算余额不足：%(budget)s 本次 ¥%(want)s 超出预算"
                % {"budget": _budget_name(locked), "want": _yuan(amount_fen)}
            ) from None
        entry = LedgerEntry.objects.create(
            budget=locked,
            kind=EntryKind.SPEND,
            amount_fen=amount_fen,
            category=found.key,
            reference=reference,
            memo=memo,
            actor=actor,
        )
        audit.record(
            actor=actor,
            action="funds.spend",
            obj=locked,
            organization=locked.organization,
            detail={"entry": entry.pk, "amount_fen": amount_fen, "category": found.key, "reference": reference},
        )
    budget.spent_fen = locked.spent_fen + amount_fen
    budget.amount_fen = locked.amount_fen
    return entry


def fund_spend_other(*, actor: Any, budget: Budget, amount_fen: int, memo: str) -> LedgerEntry:
    """A spend typed on the ledger page itself (其他帮扶支出): it must say what it paid for."""
    if not _text(memo):
        raise ValidationFailed("请填写支出说明", fields={"memo": "请填写支出说明（用途、对象、凭证号）"})
    return fund_spend(
        actor=actor, budget=budget, amount_fen=amount_fen, category=OTHER_CATEGORY, reference="", memo=memo
    )


def fund_refund(*, actor: Any, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Reverse a spend in full (a payment returned or booked in error), exactly once: the
    amount goes back to the budget and a refund entry points at the spend."""
    _require(actor, FundPerm.FUND_SPEND, entry.budget.organization, "无权冲回该组织的帮扶资金支出")
    errors: dict[str, str] = {}
    reason = _limited(reason, label="冲回原因", maximum=NOTE_MAX, errors=errors, key="reason", required=True)
    if errors:
        raise ValidationFailed("冲回信息有误", fields=errors)
    already = Conflict("该笔支出已冲回，不能重复冲回")
    with transaction.atomic():
        budget = Budget.objects.select_for_update(of=("self",)).select_related("organization").get(pk=entry.budget_id)
        spend = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
        if spend.kind != EntryKind.SPEND:
            raise Conflict("只有支出记录可以冲回")
        if LedgerEntry.objects.filter(reverses=spend).exists():
            raise already
        try:
            with transaction.atomic():
                refund = LedgerEntry.objects.create(
                    budget=budget,
                    kind=EntryKind.REFUND,
                    amount_fen=spend.amount_fen,
                    category=spend.category,
                    reference=spend.reference,
                    memo=reason,
                    reverses=spend,
                    actor=actor,
                )
        except IntegrityError:
            raise already from None
        Budget.objects.filter(pk=budget.pk).update(spent_fen=F("spent_fen") - spend.amount_fen)
        audit.record(
            actor=actor,
            action="funds.refund",
            obj=budget,
            organization=budget.organization,
            detail={
                "entry": refund.pk,
                "amount_fen": spend.amount_fen,
                "category": spend.category,
                "reference": spend.reference,
                "reason": reason,
            },
        )
    return refund
