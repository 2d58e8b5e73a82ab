"""The relief app's permissions; `ReliefConfig.ready()` declares them and grants them to the
roles that handle relief (经办人 files and visits, 审核人 approves, 管理员 both). 健康管理员,
核销员 and 审计员 hold none of them: a hardship file is sensitive and seen only by relief staff."""


class ReliefPerm:
    VIEW = "relief.view"
    MANAGE = "relief.manage"
    APPROVE = "relief.approve"
    REVEAL = "relief.reveal"
    EXPORT = "relief.export"


LABELS = {
    ReliefPerm.VIEW: "查看困难职工档案",
    ReliefPerm.MANAGE: "建档、走访与办理困难帮扶",
    ReliefPerm.APPROVE: "审批困难帮扶（退档、救助）",
    ReliefPerm.REVEAL: "查看困难家庭收入等敏感信息",
    ReliefPerm.EXPORT: "导出困难职工档案",
}

GRANTS = {
    "admin": (ReliefPerm.VIEW, ReliefPerm.MANAGE, ReliefPerm.APPROVE, ReliefPerm.REVEAL, ReliefPerm.EXPORT),
    "handler": (ReliefPerm.VIEW, ReliefPerm.MANAGE, ReliefPerm.REVEAL, ReliefPerm.EXPORT),
    "reviewer": (ReliefPerm.VIEW, ReliefPerm.APPROVE),
}
