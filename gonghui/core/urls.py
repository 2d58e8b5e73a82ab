from django.urls import path

from gonghui.core import views

app_name = "core"

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/progress", views.export_progress, name="export_progress"),
    path("exports/<int:pk>/download", views.export_file, name="export_file"),
    path("exports/<int:pk>/cancel", views.export_cancel, name="export_cancel"),
]
