from django.urls import path

from gonghui.screening import views

app_name = "screening"

urlpatterns = [
    path("console/screening/", views.home, name="home"),
    path("console/screening/datasets/", views.datasets, name="datasets"),
    path("console/screening/datasets/<int:pk>/", views.dataset_detail, name="dataset_detail"),
    path("console/screening/datasets/<int:pk>/errors.xlsx", views.dataset_errors, name="dataset_errors"),
    path("console/screening/datasets/<int:pk>/retire/", views.dataset_retire, name="dataset_retire"),
    path("console/screening/rules/", views.rules, name="rules"),
    path("console/screening/rules/new/", views.rule_edit, name="rule_new"),
    path("console/screening/rules/<slug:key>/", views.rule_edit, name="rule_edit"),
    path("console/screening/runs/", views.runs, name="runs"),
    path("console/screening/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("console/screening/candidates/", views.candidates, name="candidates"),
    path("console/screening/candidates/export.xlsx", views.candidates_export, name="candidates_export"),
    path("console/screening/candidates/<int:pk>/", views.candidate_detail, name="candidate_detail"),
    path("console/screening/candidates/<int:pk>/accept/", views.candidate_accept, name="candidate_accept"),
    path("console/screening/candidates/<int:pk>/reject/", views.candidate_reject, name="candidate_reject"),
]
