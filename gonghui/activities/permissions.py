"""The activities app's permissions: 经办人 and 管理员 run classes and activities (plans,
courses, sessions, sign-ups, lotteries, certificates); 审核人 reads rosters. Child details of a
summer camp are read (export, reveal) only with MANAGE, and every read is audited."""


class ActivityPerm:
    VIEW = "activity.view"
    MANAGE = "activity.manage"


LABELS = {
    ActivityPerm.VIEW: "查看职工夜校与活动",
    ActivityPerm.MANAGE: "管理职工夜校、活动报名与抽签",
}

GRANTS = {
    "admin": (ActivityPerm.VIEW, ActivityPerm.MANAGE),
    "handler": (ActivityPerm.VIEW, ActivityPerm.MANAGE),
    "reviewer": (ActivityPerm.VIEW,),
}
