from django.urls import path

from gonghui.funds import views

app_name = "funds"

urlpatterns = [
    path("console/funds/", views.budget_list, name="budget_list"),
    path("console/funds/budgets/new/", views.budget_create, name="budget_create"),
    path("console/funds/budgets/<int:pk>/", views.budget_detail, name="budget_detail"),
    path("console/funds/budgets/<int:pk>/adjust/", views.budget_adjust, name="budget_adjust"),
    path("console/funds/budgets/<int:pk>/spend/", views.budget_spend, name="budget_spend"),
    path("console/funds/entries/<int:pk>/refund/", views.entry_refund, name="entry_refund"),
    path("console/funds/summary/", views.summary, name="summary"),
]
