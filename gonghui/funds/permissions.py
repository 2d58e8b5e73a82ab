"""The funds app's permissions; `FundsConfig.ready()` declares them and grants them to roles.

Viewing budgets and ledgers is for everyone who handles relief or money; spending (a relief
payment, a manual entry, a refund) for those who pay out; creating and adjusting budgets for
the union's 管理员 and 财务."""


class FundPerm:
    FUND_VIEW = "fund.view"
    FUND_SPEND = "fund.spend"
    FUND_MANAGE = "fund.manage"


LABELS = {
    FundPerm.FUND_VIEW: "查看帮扶资金预算与台账",
    FundPerm.FUND_SPEND: "动用帮扶资金（登记支出、冲回）",
    FundPerm.FUND_MANAGE: "编制和调整帮扶资金预算",
}

GRANTS = {
    "admin": (FundPerm.FUND_VIEW, FundPerm.FUND_SPEND, FundPerm.FUND_MANAGE),
    "finance": (FundPerm.FUND_VIEW, FundPerm.FUND_SPEND, FundPerm.FUND_MANAGE),
    "handler": (FundPerm.FUND_VIEW, FundPerm.FUND_SPEND),
    "reviewer": (FundPerm.FUND_VIEW, FundPerm.FUND_SPEND),
}
