from django.urls import path

from gonghui.mutual_aid import views

app_name = "mutual_aid"

urlpatterns = [
    path("console/mutual-aid/", views.home, name="home"),
    path("console/mutual-aid/periods/new/", views.period_create, name="period_create"),
    path("console/mutual-aid/periods/<int:pk>/", views.period_detail, name="period_detail"),
    path("console/mutual-aid/periods/<int:pk>/edit/", views.period_edit, name="period_edit"),
    path("console/mutual-aid/periods/<int:pk>/enrol/", views.enrol_upload, name="enrol_upload"),
    path("console/mutual-aid/periods/<int:pk>/members/", views.enrolment_list, name="enrolment_list"),
    path("console/mutual-aid/periods/<int:pk>/report/", views.fund_report, name="fund_report"),
    path("console/mutual-aid/periods/<int:pk>/batches/", views.batch_status, name="batch_status"),
    path("console/mutual-aid/batches/<int:pk>/report/", views.batch_report, name="batch_report"),
    path("console/mutual-aid/batches/<int:pk>/pay/", views.batch_pay, name="batch_pay"),
    path("console/mutual-aid/bills/<int:pk>/pay/", views.bill_pay, name="bill_pay"),
    path("console/mutual-aid/enrolments/<int:pk>/claim/", views.claim_create, name="claim_create"),
    path("console/mutual-aid/claims/", views.claim_list, name="claim_list"),
    path("console/mutual-aid/claims/review/", views.claims_review, name="claims_review"),
    path("console/mutual-aid/claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("console/mutual-aid/claims/<int:pk>/act/", views.claim_act, name="claim_act"),
    path("h5/mutual-aid/", views.h5_home, name="h5_home"),
    path("h5/mutual-aid/enrolments/<int:pk>/claim/", views.h5_claim_create, name="h5_claim_create"),
    path("h5/mutual-aid/claims/<int:pk>/", views.h5_claim, name="h5_claim"),
    path("h5/mutual-aid/claims/<int:pk>/appeal/", views.h5_claim_appeal, name="h5_claim_appeal"),
]
