from django.urls import path

from gonghui.organizations import views

app_name = "organizations"

urlpatterns = [
    path("", views.organization_list, name="list"),
    path("picker/", views.organization_picker, name="picker"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("<int:pk>/new-child/", views.organization_create, name="create_child"),
    path("<int:pk>/roles/", views.role_grant, name="role_grant"),
    path("<int:pk>/roles/<int:assignment_pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("<int:pk>/staff/", views.staff_create, name="staff_create"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/decide/", views.policy_decide, name="policy_decide"),
    path("columns/", views.column_mapping, name="column_mapping"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
]
