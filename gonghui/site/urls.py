from django.urls import path

from gonghui.site import views

app_name = "site"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
