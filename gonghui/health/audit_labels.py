ACTIONS = {
    "health.import": "体检数据导入",
    "health.import_upload": "上传体检数据",
    "health.import_dry_run": "体检数据试导入",
    "health.import_mapping_save": "保存体检导入字段映射",
    "health.report_read": "查看体检报告",
    "health.llm_summary": "生成体检报告解读",
    "health.kiosk_readings": "健康小屋自助检测上传",
    "health.appointment_book": "预约体检",
    "health.appointment_cancel": "取消体检预约",
    "health.appointments_export": "导出体检预约",
    "health.centre_create": "新建体检机构",
    "health.package_save": "保存体检套餐",
    "health.programme_create": "新建体检项目",
    "health.programme_status": "变更体检项目状态",
    "health.quota_set": "设置体检名额",
    "health.slots_create": "开放预约时段",
    "health.stats_export": "导出体检统计",
}

DETAILS = {
    "centre": "体检机构",
    "programme": "体检项目",
    "slot": "时段",
    "indicator": "指标",
    "flags": "异常标记",
    "capacity": "容量",
}
