from django.urls import path

from gonghui.activities import views

app_name = "activities"

urlpatterns = [
    path("console/night-school/", views.plans, name="plans"),
    path("console/night-school/plans/<int:pk>/", views.plan_detail, name="plan"),
    path("console/night-school/courses/", views.courses, name="courses"),
    path("console/night-school/courses/<int:pk>/", views.course_detail, name="course"),
    path("console/night-school/courses/<int:pk>/export/", views.course_export, name="course_export"),
    path("console/night-school/sessions/<int:pk>/", views.session_detail, name="session"),
    path("console/activities/", views.activities, name="activities"),
    path("console/activities/<int:pk>/", views.activity_detail, name="activity"),
    path("console/activities/<int:pk>/export/", views.activity_export, name="activity_export"),
    path("h5/activities/", views.h5_home, name="h5_home"),
    path("h5/activities/courses/<int:pk>/", views.h5_course, name="h5_course"),
    path("h5/activities/events/<int:pk>/", views.h5_activity, name="h5_activity"),
    path("h5/activities/checkin/<str:token>/", views.h5_checkin, name="h5_checkin"),
    path("h5/activities/certificates/<int:pk>/", views.h5_certificate, name="h5_certificate"),
    path("certificates/verify/", views.verify, name="verify"),
]
