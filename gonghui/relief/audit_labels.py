ACTIONS = {
    "relief_file.create": "建立困难职工档案",
    "relief_file.notice": "发起退档公示",
    "relief_file.withdraw": "批准退档",
    "relief_file.keep": "驳回退档",
    "relief_file.end_follow_up": "结束退档跟踪",
    "relief_file.refile": "重新建立困难职工档案",
    "relief.file_update": "修改困难职工档案",
    "relief.file_reveal": "查看困难家庭敏感信息",
    "relief.household_add": "添加困难家庭成员",
    "relief.household_remove": "删除困难家庭成员",
    "relief.visit_record": "登记困难职工走访",
    "relief.attachment_add": "上传困难帮扶证明材料",
    "relief.attachment_read": "查看困难帮扶证明材料",
    "relief.files_export": "导出困难职工档案",
}

DETAILS = {
    "class": "困难类别",
    "class_before": "原困难类别",
    "classes_policy": "认定公式版本",
    "relation": "与职工关系",
    "visited_on": "走访日期",
    "next_visit_due": "下次走访截止",
    "filename": "文件名",
    "size": "大小（字节）",
}
