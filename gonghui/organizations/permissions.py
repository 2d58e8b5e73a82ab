"""The tenant layer's permissions: organisations and their staff."""


class OrgPerm:
    ORG_VIEW = "org.view"
    ORG_MANAGE = "org.manage"
    STAFF_MANAGE = "staff.manage"


LABELS = {
    OrgPerm.ORG_VIEW: "查看组织架构",
    OrgPerm.ORG_MANAGE: "新建和调整组织",
    OrgPerm.STAFF_MANAGE: "管理工作人员与角色",
}

GRANTS = {
    "admin": (OrgPerm.ORG_VIEW, OrgPerm.ORG_MANAGE, OrgPerm.STAFF_MANAGE),
    "handler": (OrgPerm.ORG_VIEW,),
    "reviewer": (OrgPerm.ORG_VIEW,),
    "finance": (OrgPerm.ORG_VIEW,),
    "health": (OrgPerm.ORG_VIEW,),
}
