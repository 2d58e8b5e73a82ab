from django.urls import path

from gonghui.health import views

app_name = "health"

urlpatterns = [
    path("console/health/", views.dashboard, name="dashboard"),
    path("console/health/catalogue/", views.catalogue, name="catalogue"),
    path("console/health/critical/", views.critical, name="critical"),
    path("console/health/programmes/", views.programme_list, name="programme_list"),
    path("console/health/programmes/new/", views.programme_create, name="programme_create"),
    path("console/health/programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("console/health/programmes/<int:pk>/package/", views.package_save, name="package_save"),
    path("console/health/programmes/<int:pk>/quota/", views.quota_set, name="quota_set"),
    path("console/health/programmes/<int:pk>/slots/", views.slots_create, name="slots_create"),
    path("console/health/programmes/<int:pk>/status/", views.programme_status, name="programme_status"),
    path("console/health/programmes/<int:pk>/appointments.csv", views.appointments_export, name="appointments_export"),
    path("console/health/centres/", views.centres, name="centres"),
    path("console/health/centres/<int:pk>/mapping/", views.centre_mapping, name="centre_mapping"),
    path("console/health/imports/", views.imports, name="imports"),
    path("console/health/imports/template/", views.import_template, name="import_template"),
    path("console/health/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("console/health/imports/<int:pk>/retry/", views.import_retry, name="import_retry"),
    path("console/health/imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("console/health/members/", views.members, name="members"),
    path("console/health/members/<int:pk>/", views.member_detail, name="member_detail"),
    path("console/health/reports/<int:pk>/", views.report, name="report"),
    path("console/health/reports/<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("console/health/stats/", views.stats, name="stats"),
    path("console/health/kiosks/", views.kiosks, name="kiosks"),
    path("console/health/kiosks/<int:pk>/deactivate/", views.kiosk_deactivate, name="kiosk_deactivate"),
    path("h5/health/", views.h5_home, name="h5_home"),
    path("h5/health/consent/", views.h5_consent, name="h5_consent"),
    path("h5/health/reports/<int:pk>/", views.h5_report, name="h5_report"),
    path("h5/health/reports/<int:pk>/pdf/", views.h5_report_pdf, name="h5_report_pdf"),
    path("h5/health/programmes/<int:pk>/", views.h5_programme, name="h5_programme"),
    path("h5/health/appointments/<int:pk>/cancel/", views.h5_appointment_cancel, name="h5_appointment_cancel"),
]
