from django.urls import path

from gonghui.relief import views

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
    path("h5/relief/", views.h5_home, name="h5_home"),
]
