"""The kinds of agency dataset and the columns their files carry.

Every kind's file is read into the same normalised shape (`NORMALISED_COLUMNS`): the ID
number's blind index, one date, one amount in fen and one category text. What each of them
means depends on the kind (a 医保 settlement's date and personal spend, a 失业登记's date of
registration, a 工伤认定's date and conclusion); the rules know which they use.

The columns are declared to the kernel's tabular reader as the kind `screening.<kind>`, with
`perm=` and `picker=`, so a union keeps the headers its agency's files use on 列对应设置."""

from dataclasses import dataclass

from django.db import models

from gonghui.core import tabular
from gonghui.core.tabular import Column, ColumnSpec
from gonghui.screening.permissions import ScreeningPerm

PICKER = "screening_datasets"
COLUMN_KIND_PREFIX = "screening."

# The columns of every normalised Parquet file, in order, with their engine types.
NORMALISED_COLUMNS = (
    ("id_blind", "VARCHAR"),
    ("event_date", "DATE"),
    ("amount_fen", "BIGINT"),
    ("category", "VARCHAR"),
    ("row_no", "BIGINT"),
)


class DatasetKind(models.TextChoices):
    MZ_DIBAO = "mz_dibao", "民政 低保"
    MZ_TEKUN = "mz_tekun", "民政 特困"
    MZ_DIBIAN = "mz_dibian", "民政 低边"
    RS_UNEMPLOYMENT = "rs_unemployment", "人社 失业登记"
    RS_INJURY = "rs_injury", "人社 工伤认定"
    YB_SETTLEMENT = "yb_settlement", "医保 结算明细"
    CL_DISABILITY = "cl_disability", "残联 残疾证"
    CUSTOM = "custom", "自定义"


ID_COLUMN = Column(
    "id_number",
    "身份证号码",
    required=True,
    aliases=("身份证号", "证件号码", "公民身份号码", "身份证件号码", "证件号"),
    help="18位或15位居民身份证号码，末位可为X",
    width=22,
    text=True,
)
NAME_COLUMN = Column(
    "name", "姓名", aliases=("人员姓名", "参保人姓名", "救助对象姓名"), help="仅用于核对，不保存", width=10
)


@dataclass(frozen=True, slots=True)
class KindDef:
    """What a kind's file holds: which of its columns fills the date, the amount (in yuan in
    the file, kept in fen) and the category, and whether each is required."""

    kind: str
    date: Column | None = None
    amount: Column | None = None
    category: Column | None = None

    @property
    def label(self) -> str:
        return str(DatasetKind(self.kind).label)

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(c for c in (ID_COLUMN, NAME_COLUMN, self.date, self.amount, self.category) if c is not None)

    @property
    def column_kind(self) -> str:
        return COLUMN_KIND_PREFIX + self.kind


def _date(header: str, *aliases: str, required: bool = True) -> Column:
    return Column("event_date", header, required=required, aliases=aliases, help="日期，如 2026-03-01", width=12)


def _amount(header: str, *aliases: str, required: bool = True) -> Column:
    return Column("amount", header, required=required, aliases=aliases, help="金额（元），最多两位小数", width=12)


def _category(header: str, *aliases: str) -> Column:
    return Column("category", header, aliases=aliases, help="可不填", width=14)


KINDS: dict[str, KindDef] = {
    k.kind: k
    for k in (
        KindDef(
            DatasetKind.MZ_DIBAO,
            date=_date("认定日期", "批准日期", "享受起始日期", "纳入日期", required=False),
            amount=_amount("月保障金额", "保障金额", "低保金", required=False),
            category=_category("保障类别", "救助类别"),
        ),
        KindDef(
            DatasetKind.MZ_TEKUN,
            date=_date("认定日期", "批准日期", "纳入日期", required=False),
            amount=_amount("月供养金额", "供养金额", required=False),
            category=_category("供养方式", "救助类别"),
        ),
        KindDef(
            DatasetKind.MZ_DIBIAN,
            date=_date("认定日期", "批准日期", "纳入日期", required=False),
            category=_category(
                "救助类别",
            ),
        ),
        KindDef(
            DatasetKind.RS_UNEMPLOYMENT,
            date=_date("失业登记日期", "登记日期", "失业日期"),
            category=_category("失业原因", "登记类型"),
        ),
        KindDef(
            DatasetKind.RS_INJURY,
            date=_date("认定日期", "工伤认定日期", "决定日期"),
            category=_category("认定结论", "伤害类型", "认定类型"),
        ),
        KindDef(
            DatasetKind.YB_SETTLEMENT,
            date=_date("结算日期", "费用发生日期", "出院日期"),
            amount=_amount("个人负担金额", "个人自付", "个人支付金额", "个人负担", "自付金额"),
            category=_category("医疗类别", "就诊类型", "险种类型"),
        ),
        KindDef(
            DatasetKind.CL_DISABILITY,
            date=_date("发证日期", "办证日期", required=False),
            category=_category("残疾类别", "残疾等级", "残疾类别等级"),
        ),
        KindDef(
            DatasetKind.CUSTOM,
            date=_date("日期", required=False),
            amount=_amount("金额", required=False),
            category=_category(
                "类别",
            ),
        ),
    )
}


def kind_def(kind: str) -> KindDef:
    return KINDS[kind]


def column_spec_for(kind: str) -> ColumnSpec:
    return tabular.column_spec(KINDS[kind].column_kind)


def register_kind_columns() -> None:
    """Declare every kind's columns to the tabular reader (from `ScreeningConfig.ready()`)."""
    for definition in KINDS.values():
        tabular.register_columns(
            definition.column_kind,
            label="筛查数据：%(kind)s" % {"kind": definition.label},
            columns=definition.columns,
            missing_hint="请检查表头是否在第一行，或在“列对应设置”中保存本单位文件的列名",
            perm=ScreeningPerm.DATASET_MANAGE,
            picker=PICKER,
        )
