"""The suggestions app's permissions. 经办人 and 管理员 handle items (受理, 合并, 不予受理, 整改通知单,
销账); 审核人 checks an answer before it reaches the submitter and marks items for 院务公开; a
department's 联络人 (a staff account named as the department's contact, holding any staff
role other than the union's own 管理员/经办人/审核人 — the tenant layer grants only its own
roles) sees the notices addressed to their departments and
posts progress."""


class SuggestionPerm:
    VIEW = "suggestion.view"
    HANDLE = "suggestion.handle"
    REVIEW = "suggestion.review"
    CONFIGURE = "suggestion.configure"
    RESPOND = "suggestion.respond"


LABELS = {
    SuggestionPerm.VIEW: "查看职工诉求台账",
    SuggestionPerm.HANDLE: "受理、交办和销账职工诉求",
    SuggestionPerm.REVIEW: "审核答复并决定院务公开",
    SuggestionPerm.CONFIGURE: "设置诉求分类与责任部门",
    SuggestionPerm.RESPOND: "作为责任部门回复整改通知单",
}

R = SuggestionPerm
GRANTS = {
    "admin": (R.VIEW, R.HANDLE, R.REVIEW, R.CONFIGURE),
    "handler": (R.VIEW, R.HANDLE),
    "reviewer": (R.VIEW, R.REVIEW),
    "finance": (R.RESPOND,),
    "health": (R.RESPOND,),
    "redeemer": (R.RESPOND,),
}
