"""The competitions app's permissions. A union's 经办人 applies for (立项) and runs its
competitions and quizzes; the 审核人 of the organisation above reviews applications and hazard
reports; judges are staff users assigned to a competition and need no permission of their own
(their pages are reached through the assignment; `JUDGE` only puts 我的评分 in the menu of
the roles that have no competition pages)."""


class CompetitionPerm:
    VIEW = "competition.view"
    APPLY = "competition.apply"
    REVIEW = "competition.review"
    MANAGE = "competition.manage"
    BANK_VIEW = "hazard.view"
    BANK_MANAGE = "hazard.manage"
    BANK_REVIEW = "hazard.review"
    JUDGE = "competition.judge"


LABELS = {
    CompetitionPerm.VIEW: "查看劳动竞赛",
    CompetitionPerm.APPLY: "申报竞赛立项",
    CompetitionPerm.REVIEW: "审核下级竞赛立项",
    CompetitionPerm.MANAGE: "组织竞赛（阶段、选手、评委、成绩）",
    CompetitionPerm.BANK_VIEW: "查看隐患排查题库",
    CompetitionPerm.BANK_MANAGE: "维护题库与组织在线测验",
    CompetitionPerm.BANK_REVIEW: "审核职工隐患随手拍",
    CompetitionPerm.JUDGE: "在菜单中看到“我的评分”（评分权来自评委指派）",
}

P = CompetitionPerm
GRANTS = {
    "admin": (P.VIEW, P.APPLY, P.REVIEW, P.MANAGE, P.BANK_VIEW, P.BANK_MANAGE, P.BANK_REVIEW),
    "handler": (P.VIEW, P.APPLY, P.MANAGE, P.BANK_VIEW, P.BANK_MANAGE),
    "reviewer": (P.VIEW, P.REVIEW, P.BANK_VIEW, P.BANK_REVIEW),
    "finance": (P.JUDGE,),
    "redeemer": (P.JUDGE,),
    "health": (P.JUDGE,),
}
