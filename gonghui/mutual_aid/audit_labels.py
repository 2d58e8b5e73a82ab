"""Chinese labels of the mutual-aid audit actions and their detail keys."""

ACTIONS = {
    "mutual_aid.period_create": "新建医疗互助期次",
    "mutual_aid.period_update": "修改医疗互助期次",
    "mutual_aid.enrol_submit": "提交医疗互助参保名单",
    "mutual_aid.enrol_list": "生成医疗互助参保缴费单",
    "mutual_aid.enrol_report": "下载参保名单校验报告",
    "mutual_aid.bill_pay": "登记医疗互助缴费",
    "mutual_aid.bill_cancel": "作废医疗互助缴费单",
    "mutual_aid.claim_reveal": "查看结报诊断与费用",
    "mutual_aid.document_view": "查看结报材料",
    "mutual_aid.report_export": "导出医疗互助基金报表",
    "mutual_aid_claim.submit": "提交医疗互助结报",
    "mutual_aid_claim.review": "初审并核算医疗互助结报",
    "mutual_aid_claim.approve": "审批通过医疗互助结报",
    "mutual_aid_claim.pay": "登记医疗互助金支付",
    "mutual_aid_claim.reject": "初审驳回医疗互助结报",
    "mutual_aid_claim.decline": "审批驳回医疗互助结报",
    "mutual_aid_claim.appeal": "医疗互助结报申诉重审",
    "mutual_aid_claim.member_appeal": "会员申诉医疗互助结报",
}

DETAILS = {
    "members": "人数",
    "amount_fen": "金额（分）",
    "period": "期次",
    "payment_ref": "缴费凭证号",
    "payout_ref": "支付凭证号",
    "documents": "材料份数",
    "by_member": "会员本人申请",
    "code": "驳回原因",
    "file": "名单文件",
    "batch": "名单批次",
}
