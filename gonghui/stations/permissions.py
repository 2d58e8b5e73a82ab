"""The stations app's permissions; `StationsConfig.ready()` declares them and grants them.
管理员 configures the kinds and facilities lists (on the organisation at the root of their
sub-tree) and does everything else; 经办人 keeps stations, inspects and imports; 审核人 reads."""


class StationPerm:
    VIEW = "stations.view"
    MANAGE = "stations.manage"
    INSPECT = "stations.inspect"
    EXPORT = "stations.export"
    CONFIGURE = "stations.configure"


LABELS = {
    StationPerm.VIEW: "查看服务阵地",
    StationPerm.MANAGE: "维护服务阵地（新增、修改、导入、照片）",
    StationPerm.INSPECT: "服务阵地“六有”检查",
    StationPerm.EXPORT: "导出服务阵地",
    StationPerm.CONFIGURE: "设置阵地类型与设施清单",
}

GRANTS = {
    "admin": tuple(LABELS),
    "handler": (StationPerm.VIEW, StationPerm.MANAGE, StationPerm.INSPECT, StationPerm.EXPORT),
    "reviewer": (StationPerm.VIEW,),
}
