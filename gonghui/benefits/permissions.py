"""The benefits app's permissions; `BenefitsConfig.ready()` declares them and grants them to roles."""


class BenefitPerm:
    CAMPAIGN_MANAGE = "campaign.manage"
    CAMPAIGN_PUBLISH = "campaign.publish"
    CAMPAIGN_REPORT = "campaign.report"
    COUPON_REDEEM = "coupon.redeem"
    COUPON_REVERSE = "coupon.reverse"


LABELS = {
    BenefitPerm.CAMPAIGN_MANAGE: "创建和管理惠工活动",
    BenefitPerm.CAMPAIGN_PUBLISH: "审核发布惠工活动",
    BenefitPerm.CAMPAIGN_REPORT: "查看活动报表",
    BenefitPerm.COUPON_REDEEM: "扫码核销",
    BenefitPerm.COUPON_REVERSE: "撤销核销",
}

GRANTS = {
    "admin": (
        BenefitPerm.CAMPAIGN_MANAGE,
        BenefitPerm.CAMPAIGN_PUBLISH,
        BenefitPerm.CAMPAIGN_REPORT,
        BenefitPerm.COUPON_REVERSE,
    ),
    "handler": (BenefitPerm.CAMPAIGN_MANAGE, BenefitPerm.CAMPAIGN_REPORT),
    "reviewer": (BenefitPerm.CAMPAIGN_PUBLISH, BenefitPerm.CAMPAIGN_REPORT),
    "finance": (BenefitPerm.CAMPAIGN_REPORT, BenefitPerm.COUPON_REVERSE),
    "redeemer": (BenefitPerm.COUPON_REDEEM,),
}
