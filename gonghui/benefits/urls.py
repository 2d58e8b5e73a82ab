from django.urls import path

from gonghui.benefits.views import clerk, console, h5

app_name = "benefits"

urlpatterns = [
    # console: campaigns
    path("console/benefits/", console.campaign_list, name="campaign_list"),
    path("console/benefits/new/", console.campaign_create, name="campaign_create"),
    path("console/benefits/<int:pk>/", console.campaign_detail, name="campaign_detail"),
    path("console/benefits/<int:pk>/edit/", console.campaign_edit, name="campaign_edit"),
    path("console/benefits/<int:pk>/targets/", console.campaign_targets, name="campaign_targets"),
    path("console/benefits/<int:pk>/publish/", console.campaign_publish, name="campaign_publish"),
    path("console/benefits/<int:pk>/close/", console.campaign_close, name="campaign_close"),
    path("console/benefits/<int:pk>/issue/", console.campaign_issue, name="campaign_issue"),
    path("console/benefits/<int:pk>/coupons/", console.campaign_coupons, name="campaign_coupons"),
    path("console/benefits/<int:pk>/report/", console.campaign_report, name="campaign_report"),
    path("console/benefits/<int:pk>/report.xlsx", console.campaign_report_xlsx, name="campaign_report_xlsx"),
    path("console/benefits/runs/<int:pk>/", console.run_detail, name="run_detail"),
    path("console/benefits/runs/<int:pk>/progress/", console.run_progress, name="run_progress"),
    path("console/benefits/runs/<int:pk>/resume/", console.run_resume, name="run_resume"),
    path("console/benefits/runs/<int:pk>/cancel/", console.run_cancel, name="run_cancel"),
    path("console/benefits/settlement/", console.settlement, name="settlement"),
    # console: redemption points, devices, redemptions
    path("console/benefits/points/", console.point_list, name="point_list"),
    path("console/benefits/points/new/", console.point_create, name="point_create"),
    path("console/benefits/points/<int:pk>/", console.point_detail, name="point_detail"),
    path("console/benefits/points/<int:pk>/edit/", console.point_edit, name="point_edit"),
    path("console/benefits/points/<int:pk>/devices/", console.point_device_register, name="point_device_register"),
    path(
        "console/benefits/points/<int:pk>/devices/<int:device_id>/deactivate/",
        console.point_device_deactivate,
        name="point_device_deactivate",
    ),
    path("console/benefits/points/<int:pk>/unlock/", console.point_unlock, name="point_unlock"),
    path("console/benefits/redemptions/", console.redemption_list, name="redemption_list"),
    path("console/benefits/redemptions/export.xlsx", console.redemption_export, name="redemption_export"),
    path("console/benefits/redemptions/<int:pk>/reverse/", console.redemption_reverse_view, name="redemption_reverse"),
    # clerk (核销员) phone page
    path("clerk/redeem/", clerk.clerk_home, name="clerk_home"),
    path("clerk/redeem/point/", clerk.clerk_point, name="clerk_point"),
    path("clerk/redeem/lookup/", clerk.clerk_lookup, name="clerk_lookup"),
    path("clerk/redeem/confirm/", clerk.clerk_confirm, name="clerk_confirm"),
    # member H5
    path("h5/coupons/", h5.h5_coupons, name="h5_coupons"),
    path("h5/coupons/<int:pk>/", h5.h5_coupon_detail, name="h5_coupon_detail"),
    path("h5/coupons/campaigns/<int:pk>/", h5.h5_campaign, name="h5_campaign"),
    path("h5/coupons/campaigns/<int:pk>/claim/", h5.h5_claim, name="h5_claim"),
]
