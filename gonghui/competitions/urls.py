from django.urls import path

from gonghui.competitions import bank_views, h5_views, views

app_name = "competitions"

urlpatterns = [
    path("console/competitions/", views.competition_list, name="list"),
    path("console/competitions/new/", views.competition_new, name="new"),
    path("console/competitions/judging/", views.judging, name="judging"),
    path("console/competitions/judging/<int:pk>/", views.judge_stage, name="judge_stage"),
    path("console/competitions/<int:pk>/", views.competition_detail, name="detail"),
    path("console/competitions/<int:pk>/action/", views.competition_action, name="action"),
    path("console/competitions/<int:pk>/results.xlsx", views.results_export, name="results_export"),
    path("console/hazards/", bank_views.report_list, name="reports"),
    path("console/hazards/<int:pk>/", bank_views.report_detail, name="report"),
    path("console/hazards/<int:pk>/photo/", bank_views.report_photo, name="report_photo"),
    path("console/questions/", bank_views.question_list, name="questions"),
    path("console/questions/new/", bank_views.question_new, name="question_new"),
    path("console/questions/import/", bank_views.question_import, name="question_import"),
    path("console/questions/template.xlsx", bank_views.question_template, name="question_template"),
    path("console/questions/<int:pk>/image/", bank_views.question_image, name="question_image"),
    path("console/questions/<int:pk>/toggle/", bank_views.question_toggle, name="question_toggle"),
    path("console/quizzes/", bank_views.quiz_list, name="quizzes"),
    path("console/quizzes/<int:pk>/", bank_views.quiz_detail, name="quiz"),
    path("h5/competitions/", h5_views.h5_home, name="h5_home"),
    path("h5/competitions/hazards/new/", h5_views.h5_report_new, name="h5_report_new"),
    path("h5/competitions/quizzes/<int:pk>/", h5_views.h5_quiz, name="h5_quiz"),
    path("h5/competitions/attempts/<int:pk>/", h5_views.h5_attempt, name="h5_attempt"),
    path(
        "h5/competitions/attempts/<int:pk>/images/<int:question>/", h5_views.h5_question_image, name="h5_question_image"
    ),
]
