"""Bulk member import, mounted at console/members/import/ inside the `members` namespace."""

from django.urls import path

from gonghui.members import import_views as views

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("template/", views.import_template, name="import_template"),
    path("upload/", views.import_upload, name="import_upload"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("<int:pk>/resume/", views.import_resume, name="import_resume"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/report/", views.import_report, name="import_report"),
]
