"""The screening app's permissions; `ScreeningConfig.ready()` declares them and grants them to roles."""


class ScreeningPerm:
    VIEW = "screening.view"
    RUN = "screening.run"
    REVIEW = "screening.review"
    DATASET_MANAGE = "screening.manage_datasets"
    RULE_MANAGE = "screening.manage_rules"


LABELS = {
    ScreeningPerm.VIEW: "查看筛查比对结果",
    ScreeningPerm.RUN: "发起筛查比对",
    ScreeningPerm.REVIEW: "核实筛查线索（纳入或排除）",
    ScreeningPerm.DATASET_MANAGE: "上传和管理部门比对数据",
    ScreeningPerm.RULE_MANAGE: "管理筛查规则",
}

# Grassroots staff review the candidates of their union; federation staff also upload the
# agencies' files and run screening over their sub-tree; rules are the administrators'.
GRANTS = {
    "admin": (
        ScreeningPerm.VIEW,
        ScreeningPerm.RUN,
        ScreeningPerm.REVIEW,
        ScreeningPerm.DATASET_MANAGE,
        ScreeningPerm.RULE_MANAGE,
    ),
    "handler": (ScreeningPerm.VIEW, ScreeningPerm.RUN, ScreeningPerm.REVIEW, ScreeningPerm.DATASET_MANAGE),
    "reviewer": (ScreeningPerm.VIEW, ScreeningPerm.REVIEW),
}
