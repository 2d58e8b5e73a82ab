from django.urls import path

from gonghui.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.staff_login, name="staff_login"),
    path("otp/", views.otp, name="otp"),
    path("logout/", views.logout_view, name="logout"),
]
