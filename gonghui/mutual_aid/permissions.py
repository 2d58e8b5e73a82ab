"""The mutual-aid app's permissions; `MutualAidConfig.ready()` declares them and grants them.

Viewing plans, enrolments, claims and the fund report is for the union's staff who handle it;
setting up plans and periods for the 管理员; enrolling a unit and recording its payment for the
经办人 and 财务; handling a claim (登记、初审) for the 经办人 and 审核人; approving for the
审核人 and 管理员 (the workflow forbids the submitter and the reviewer); paying for 财务."""


class AidPerm:
    VIEW = "mutual_aid.view"
    MANAGE = "mutual_aid.manage"
    ENROL = "mutual_aid.enrol"
    CLAIM_HANDLE = "mutual_aid.claim_handle"
    CLAIM_APPROVE = "mutual_aid.claim_approve"
    CLAIM_PAY = "mutual_aid.claim_pay"
    HEALTH_REVEAL = "mutual_aid.health_reveal"


LABELS = {
    AidPerm.VIEW: "查看医疗互助（方案、参保、结报、基金报表）",
    AidPerm.MANAGE: "设置医疗互助方案与期次",
    AidPerm.ENROL: "办理单位参保与缴费登记",
    AidPerm.CLAIM_HANDLE: "登记和初审医疗互助结报",
    AidPerm.CLAIM_APPROVE: "审批医疗互助结报",
    AidPerm.CLAIM_PAY: "登记医疗互助金支付",
    AidPerm.HEALTH_REVEAL: "查看结报的诊断与费用明细",
}

_ALL = tuple(LABELS)
GRANTS = {
    "admin": _ALL,
    "handler": (AidPerm.VIEW, AidPerm.ENROL, AidPerm.CLAIM_HANDLE, AidPerm.HEALTH_REVEAL),
    "reviewer": (AidPerm.VIEW, AidPerm.CLAIM_HANDLE, AidPerm.CLAIM_APPROVE, AidPerm.HEALTH_REVEAL),
    "finance": (AidPerm.VIEW, AidPerm.ENROL, AidPerm.CLAIM_PAY),
    "auditor": (AidPerm.VIEW,),
}
