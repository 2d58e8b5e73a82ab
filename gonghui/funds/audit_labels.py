ACTIONS = {
    "funds.budget_create": "新建帮扶资金预算",
    "funds.budget_adjust": "调整帮扶资金预算",
    "funds.spend": "登记帮扶资金支出",
    "funds.refund": "冲回帮扶资金支出",
    "funds.budgets_export": "导出帮扶资金预算",
}

DETAILS = {
    "year": "年度",
    "source": "资金来源",
    "line": "预算科目",
    "amount_fen": "金额（分）",
    "before_fen": "调整前（分）",
    "after_fen": "调整后（分）",
    "spent_fen": "已支出（分）",
    "category": "支出类别",
    "reference": "业务单据",
    "reason": "原因",
    "entry": "台账记录",
}
