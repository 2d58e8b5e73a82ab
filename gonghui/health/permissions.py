"""The health app's permissions; `HealthConfig.ready()` declares them and grants them to roles."""


class HealthPerm:
    HEALTH_VIEW = "health.view"
    HEALTH_MANAGE = "health.manage"


LABELS = {
    HealthPerm.HEALTH_VIEW: "查看体检数据",
    HealthPerm.HEALTH_MANAGE: "管理体检项目、导入与危急值",
}

GRANTS = {
    "health": (HealthPerm.HEALTH_VIEW, HealthPerm.HEALTH_MANAGE),
}
