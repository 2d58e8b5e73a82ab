from django.urls import path

from gonghui.relief import case_views, plan_views, views

app_name = "relief"

urlpatterns = [
    path("console/relief/", views.home, name="home"),
    path("console/relief/files/", views.file_list, name="file_list"),
    path("console/relief/files/export.csv", views.files_export, name="files_export"),
    path("console/relief/files/new/", views.file_create, name="file_create"),
    path("console/relief/files/<int:pk>/", views.file_detail, name="file_detail"),
    path("console/relief/files/<int:pk>/edit/", views.file_edit, name="file_edit"),
    path("console/relief/files/<int:pk>/reveal/", views.file_reveal, name="file_reveal"),
    path("console/relief/files/<int:pk>/household/", views.household_add, name="household_add"),
    path("console/relief/files/<int:pk>/household/remove/", views.household_remove, name="household_remove"),
    path("console/relief/files/<int:pk>/visits/", views.visit_add, name="visit_add"),
    path("console/relief/files/<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("console/relief/files/<int:pk>/withdrawal/", views.withdrawal, name="withdrawal"),
    path("console/relief/attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("console/relief/overdue/", views.overdue, name="overdue"),
    path("console/relief/notices/", views.notices, name="notices"),
    path("console/relief/calculator/", views.calculator, name="calculator"),
    path("console/relief/cases/", case_views.case_list, name="case_list"),
    path("console/relief/cases/new/", case_views.case_create, name="case_create"),
    path("console/relief/cases/paperwork/", case_views.paperwork_overdue, name="paperwork"),
    path("console/relief/cases/<int:pk>/", case_views.case_detail, name="case_detail"),
    path("console/relief/cases/<int:pk>/step/", case_views.case_step, name="case_step"),
    path("console/relief/cases/<int:pk>/reveal/", case_views.case_reveal, name="case_reveal"),
    path("console/relief/cases/<int:pk>/documents/", case_views.case_document_add, name="case_document_add"),
    path("console/relief/case-documents/<int:pk>/", case_views.case_document_download, name="case_document"),
    path("console/relief/plans/", plan_views.plan_list, name="plan_list"),
    path("console/relief/plans/new/", plan_views.plan_create, name="plan_create"),
    path("console/relief/plans/<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("console/relief/plans/<int:pk>/close/", plan_views.plan_close, name="plan_close"),
    path("console/relief/plans/<int:pk>/visits/", plan_views.plan_visit, name="plan_visit"),
    path("h5/relief/", views.h5_home, name="h5_home"),
    path("h5/relief/apply/", case_views.h5_apply, name="h5_apply"),
    path("h5/relief/documents/", case_views.h5_document, name="h5_document"),
]
