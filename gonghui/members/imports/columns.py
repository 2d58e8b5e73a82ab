"""The columns of an import file (declared to the kernel's tabular reader as the kind
`members.import`: headers, aliases, choices), and the member columns an import writes; limits
of the import."""

import re
from typing import Any

from django.conf import settings

from gonghui.core import tabular
from gonghui.core.tabular import Column, HeaderMap
from gonghui.members.models import (
    ETHNICITIES,
    Education,
    HardshipClass,
    HouseholdType,
    IdType,
    JoinMethod,
    ModelWorkerLevel,
    Tag,
)
from gonghui.members.permissions import MemberPerm
from gonghui.members.services import EDITABLE_FIELDS

UPLOAD_PURPOSE = "members.import_upload"
ROW_PURPOSE = "members.import_row"
WEB_MAX_BYTES = 30 * 1024 * 1024
WEB_MAX_ROWS = 300_000
MAX_ISSUES_KEPT = 50_000
CSV_BLOCK_BYTES = tabular.CSV_BLOCK_BYTES
XLSX_CHUNK_ROWS = 4000
POOL_MIN_ROWS = 20_000
POOL_IN_FLIGHT = 6
PROGRESS_TTL_SECONDS = 7 * 24 * 3600
HEADER_ROW = 1


def stale_after_seconds() -> int:
    """A running import whose progress has not moved for this long is taken as interrupted."""
    return settings.MEMBER_IMPORT_STALE_SECONDS


def default_workers() -> int:
    return settings.MEMBER_IMPORT_WORKERS


# ---- the columns of the file ------------------------------------------------------------


def _labels(choices: Any, *, skip_blank: bool = True) -> tuple[str, ...]:
    return tuple(label for value, label in choices.choices if value or not skip_blank)


TAG_SEPARATORS = re.compile(r"[;；,，、/|\s]+")

COLUMNS: tuple[Column, ...] = (
    Column(
        "org_code",
        "工会代码",
        aliases=("基层工会代码", "组织代码", "所属工会代码"),
        help="导入到上级工会时必填：会员所属基层工会的组织代码；导入到某个基层工会时可不填",
        width=14,
        text=True,
    ),
    Column("name", "姓名", required=True, aliases=("会员姓名", "职工姓名"), width=10),
    Column(
        "id_type",
        "证件类型",
        aliases=("证件种类",),
        help="可不填；批量导入只支持居民身份证",
        choices=(IdType.RESIDENT.label,),
        width=12,
    ),
    Column(
        "id_number",
        "证件号码",
        required=True,
        aliases=("身份证号", "身份证号码", "公民身份号码", "身份证件号码"),
        help="18位居民身份证号码，末位可为X；请把该列设为文本格式，避免被转成科学计数法",
        width=22,
        text=True,
    ),
    Column(
        "phone",
        "手机号",
        required=True,
        aliases=("手机号码", "手机", "联系电话", "移动电话"),
        help="11位中国大陆手机号码",
        width=14,
        text=True,
    ),
    Column("ethnicity", "民族", help="不填视为汉族", choices=ETHNICITIES, width=10),
    Column("education", "学历", aliases=("文化程度",), choices=_labels(Education), width=14),
    Column("household_type", "户籍类型", aliases=("户口性质", "户籍性质"), choices=_labels(HouseholdType), width=12),
    Column("household_place", "户籍所在地", aliases=("户籍地",), width=18),
    Column("work_unit", "工作单位", aliases=("单位名称", "所在单位"), width=24),
    Column("skill_level", "技能等级", width=12),
    Column("political_status", "政治面貌", width=12),
    Column(
        "joined_on",
        "入会日期",
        required=True,
        aliases=("入会时间",),
        help="如 2020-05-01、2020/5/1 或 2020年5月1日，不能晚于今天",
        width=12,
        text=True,
    ),
    Column("join_method", "入会方式", help="不填视为单位集体入会", choices=_labels(JoinMethod), width=14),
    Column(
        "tags",
        "标签",
        aliases=("会员标签", "人员类别"),
        help="可填多个，用分号隔开，如：外卖骑手;农民工",
        choices=tuple(t.label for t in Tag),
        width=20,
    ),
    Column(
        "model_worker_level",
        "劳模/工匠",
        aliases=("劳模工匠", "劳模", "劳模/工匠等级"),
        choices=_labels(ModelWorkerLevel, skip_blank=False),
        width=16,
    ),
    Column(
        "hardship_class",
        "困难职工类别",
        aliases=("困难职工", "困难类别"),
        choices=_labels(HardshipClass, skip_blank=False),
        width=14,
    ),
)
MEMBER_COLUMNS = tabular.register_columns(
    "members.import",
    label="会员信息",
    columns=COLUMNS,
    missing_hint="请使用导入模板，表头放在第一行",
    perm=MemberPerm.MEMBER_IMPORT,
    picker="member_import",
)
COLUMN_BY_KEY = MEMBER_COLUMNS.by_key


def _choice_map(choices: Any, extra: dict[str, str]) -> dict[str, str]:
    mapping = {label: value for value, label in choices.choices}
    mapping.update({value: value for value in choices.values if value})
    mapping.update(extra)
    return mapping


# File text → the value the member form posts. Unknown text is passed through unchanged, so the
# form's own rule (`clean_member_fields`) rejects it with its own message.
CHOICE_TEXT: dict[str, dict[str, str]] = {
    "education": _choice_map(
        Education,
        {
            "小学": "primary",
            "文盲": "primary",
            "高中": "senior",
            "中专": "senior",
            "技校": "senior",
            "职高": "senior",
            "中技": "senior",
            "专科": "college",
            "大学专科": "college",
            "大学本科": "bachelor",
            "硕士": "postgrad",
            "博士": "postgrad",
            "硕士研究生": "postgrad",
            "博士研究生": "postgrad",
        },
    ),
    "household_type": _choice_map(
        HouseholdType, {"非农": "urban", "非农业": "urban", "城镇": "urban", "农业": "rural", "农村": "rural"}
    ),
    "join_method": _choice_map(
        JoinMethod,
        {"集体入会": "unit", "单位入会": "unit", "网上入会": "online", "线上入会": "online", "转入": "transfer"},
    ),
    "model_worker_level": _choice_map(
        ModelWorkerLevel,
        {
            "否": "",
            "全国劳模": "national",
            "大国工匠": "national",
            "全国级": "national",
            "省部级": "provincial",
            "省级劳模": "provincial",
            "省级工匠": "provincial",
            "市级": "city",
            "市级劳模": "city",
            "市级工匠": "city",
        },
    ),
    "hardship_class": _choice_map(HardshipClass, {"无": "", "否": "", "非困难": ""}),
}
CHOICE_LABELS: dict[str, str] = {
    key: "、".join(c for c in COLUMN_BY_KEY[key].choices if c) for key in ("education", "household_type", "join_method")
}
CHOICE_LABELS["model_worker_level"] = "无、" + "、".join(_labels(ModelWorkerLevel))
CHOICE_LABELS["hardship_class"] = "无、" + "、".join(_labels(HardshipClass))
TAG_BY_LABEL = {t.label: t.value for t in Tag}
TAG_LABELS = "、".join(t.label for t in Tag)

# ---- the member columns an import writes -------------------------------------------------

# Order of the values a worker renders for each valid row (COPY text format); the member's
# organisation id is put in front by the main process, the constant columns are appended.
ROW_COLUMNS = (
    "member_no",
    "card_no",
    "name",
    "name_initials",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number_encrypted",
    "id_blind",
    "id_masked",
    "phone",
    "education",
    "skill_level",
    "political_status",
    "household_type",
    "household_place",
    "work_unit",
    "joined_on",
    "join_method",
    "tags",
    "model_worker_level",
    "hardship_class",
)
INSERT_COLUMNS = ("organization_id", *ROW_COLUMNS, "status", "version", "created_at", "updated_at")
_POS = {name: i + 1 for i, name in enumerate(ROW_COLUMNS)}  # positions in a line with the org id in front
BLIND_POS = _POS["id_blind"]
# Member fields an import may change on a member already registered in the same union; a file
# column that is absent leaves its field as it is.
# The same fields the member form edits, plus the initials derived from the name.
UPDATABLE = (*EDITABLE_FIELDS, "name_initials")
FILE_KEY_FIELDS = {"name": ("name", "name_initials")} | {
    key: (key,) for key in UPDATABLE if key not in ("name", "name_initials")
}


def map_header(header: list[str], mapping: dict[str, str] | None = None) -> HeaderMap:
    """The member keys of a file's header row (`mapping`: a saved one, which wins over the
    aliases); missing required and duplicated columns are refused in Chinese."""
    return MEMBER_COLUMNS.resolve(header, mapping=mapping)


def map_header_for(organization: Any, header: list[str]) -> HeaderMap:
    """`map_header` with the column mapping saved for `organization` (or its nearest ancestor)
    on 列对应设置, as far as this file has those columns."""
    mapping = tabular.tabular_mapping_for_header(kind=MEMBER_COLUMNS.kind, organization=organization, header=header)
    return map_header(header, mapping)
