ACTIONS = {
    "organization.create": "新建组织",
    "role.grant": "授予角色",
    "role.revoke": "收回角色",
    "staff.create": "新建工作人员",
}
