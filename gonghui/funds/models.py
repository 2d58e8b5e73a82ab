"""Budgets per organisation, year, fund source and line, and their append-only ledger."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.core.errors import Conflict

YEAR_MIN = 2000
YEAR_MAX = 2100
LINE_MAX = 40
NOTE_MAX = 200
REFERENCE_MAX = 80
# 10 亿元 per budget line: far above any union's relief budget, well inside a bigint.
BUDGET_MAX_FEN = 100_000_000_000


class Source(models.TextChoices):
    FISCAL = "fiscal", "财政"
    UPPER = "upper", "上级工会拨付"
    OWN = "own", "本级工会预算"
    DONATION = "donation", "社会募集"


class Budget(models.Model):
    """One budget line of one fund source for an organisation's year. `spent_fen` is kept by
    the services, under a row lock, and the database refuses it below 0 or above the amount."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="fund_budgets", verbose_name="组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    source = models.CharField("资金来源", max_length=16, choices=Source.choices)
    line = models.CharField("预算科目", max_length=LINE_MAX)
    amount_fen = models.BigIntegerField("预算金额（分）")
    spent_fen = models.BigIntegerField("已支出（分）", default=0)
    note = models.CharField("备注", max_length=NOTE_MAX, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "帮扶资金预算"
        ordering = ["organization__path", "year", "source", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "source", "line"], name="funds_budget_one_per_line"
            ),
            models.CheckConstraint(condition=Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX), name="funds_budget_year_range"),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0, amount_fen__lte=BUDGET_MAX_FEN), name="funds_budget_amount_range"
            ),
            models.CheckConstraint(condition=Q(spent_fen__gte=0), name="funds_budget_spent_non_negative"),
            models.CheckConstraint(
                condition=Q(spent_fen__lte=models.F("amount_fen")), name="funds_budget_within_amount"
            ),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="funds_budget_source_known"),
        ]
        indexes = [models.Index(fields=["year", "organization"], name="funds_budget_year_org_idx")]

    def __str__(self) -> str:
        return "%(year)s年 %(source)s · %(line)s" % {
            "year": self.year,
            "source": self.get_source_display(),
            "line": self.line,
        }

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.spent_fen

    @property
    def usage_permille(self) -> int:
        """Spent per thousand of the amount, rounded down (an empty budget counts as unused)."""
        return self.spent_fen * 1000 // self.amount_fen if self.amount_fen else 0

    @property
    def usage_label(self) -> str:
        permille = self.usage_permille
        return "%(whole)d.%(tenth)d%%" % {"whole": permille // 10, "tenth": permille % 10}


class EntryKind(models.TextChoices):
    SPEND = "spend", "支出"
    REFUND = "refund", "冲回"
    ADJUST = "adjust", "预算调整"


class LedgerEntry(models.Model):
    """One movement on a budget, never changed afterwards. A spend names its category and the
    calling app's reference; a refund points at the one spend it reverses (at most one refund
    per spend); an adjustment records the budget before and after."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField("类型", max_length=8, choices=EntryKind.choices)
    amount_fen = models.BigIntegerField("金额（分）")
    category = models.CharField("支出类别", max_length=60, blank=True)
    reference = models.CharField("业务单据", max_length=REFERENCE_MAX, blank=True, db_index=True)
    memo = models.CharField("说明", max_length=NOTE_MAX, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refund", verbose_name="冲回的支出"
    )
    budget_before_fen = models.BigIntegerField(null=True, blank=True)
    budget_after_fen = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "帮扶资金台账"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="funds_entry_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="funds_entry_kind_known"),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.REFUND, reverses__isnull=False)
                | (~Q(kind=EntryKind.REFUND) & Q(reverses__isnull=True)),
                name="funds_entry_refund_reverses_a_spend",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.ADJUST, budget_before_fen__isnull=False, budget_after_fen__isnull=False)
                | (~Q(kind=EntryKind.ADJUST) & Q(budget_before_fen__isnull=True, budget_after_fen__isnull=True)),
                name="funds_entry_adjust_records_amounts",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.SPEND) | ~Q(category=""), name="funds_entry_spend_has_category"
            ),
        ]
        indexes = [models.Index(fields=["budget", "-created_at"], name="funds_entry_budget_idx")]

    def __str__(self) -> str:
        return "%(kind)s %(amount)s" % {"kind": self.get_kind_display(), "amount": self.amount_fen}

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise Conflict("台账记录不能修改，请以冲回更正")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise Conflict("台账记录不能删除，请以冲回更正")

    @property
    def signed_fen(self) -> int:
        """The entry's effect on what is spent (a spend adds, a refund takes back; an
        adjustment changes the budget, not the spending)."""
        if self.kind == EntryKind.SPEND:
            return self.amount_fen
        if self.kind == EntryKind.REFUND:
            return -self.amount_fen
        return 0
