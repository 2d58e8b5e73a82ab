from django.urls import include, path

from gonghui.members import join_views, views

app_name = "members"

urlpatterns = [
    path("console/members/", views.member_list, name="list"),
    path("console/members/new/", views.member_create, name="create"),
    path("console/members/export.xlsx", views.member_export, name="export"),
    path("console/members/cards.xlsx", views.member_card_export, name="card_export"),
    path("console/members/<int:pk>/", views.member_detail, name="detail"),
    path("console/members/<int:pk>/edit/", views.member_edit, name="edit"),
    path("console/members/<int:pk>/reveal-id/", views.member_reveal_id, name="reveal_id"),
    path("console/members/<int:pk>/status/", views.member_status, name="status"),
    path("console/members/<int:pk>/transfer/", views.transfer_new, name="transfer_new"),
    path("console/transfers/", views.transfer_list, name="transfer_list"),
    path("console/join-applications/", join_views.application_list, name="application_list"),
    path("console/join-applications/<int:pk>/decide/", join_views.application_decide, name="application_decide"),
    path("console/transfers/<int:pk>/decide/", views.transfer_decide, name="transfer_decide"),
    path("console/members/import/", include("gonghui.members.import_urls")),
    path("h5/login/", views.h5_login, name="h5_login"),
    path("h5/login/send-code/", views.h5_send_code, name="h5_send_code"),
    path("h5/join/", join_views.h5_join, name="h5_join"),
    path("h5/join/unions/", join_views.h5_union_search, name="h5_union_search"),
    path("h5/", views.h5_home, name="h5_home"),
    path("h5/me/", views.h5_profile, name="h5_profile"),
    path("h5/card/", views.h5_card, name="h5_card"),
    path("h5/card/qr/", views.h5_card_qr, name="h5_card_qr"),
    path("h5/privacy/", views.h5_privacy, name="h5_privacy"),
    path("h5/consents/", views.h5_consents, name="h5_consents"),
    path("h5/consents/<str:purpose>/withdraw/", views.h5_consent_withdraw, name="h5_consent_withdraw"),
]
