from django.urls import path

from gonghui.suggestions import views

app_name = "suggestions"

urlpatterns = [
    path("console/suggestions/", views.inbox, name="inbox"),
    path("console/suggestions/new/", views.item_new, name="item_new"),
    path("console/suggestions/<int:pk>/", views.item_detail, name="item"),
    path("console/suggestions/<int:pk>/action/", views.item_action, name="item_action"),
    path("console/suggestions/notices/<int:pk>/", views.notice_print, name="notice"),
    path("console/suggestions/notices/<int:pk>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("console/suggestions/attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("console/suggestions/ledger/", views.ledger, name="ledger"),
    path("console/suggestions/metrics/", views.metrics, name="metrics"),
    path("console/suggestions/review/", views.monthly_review, name="review"),
    path("console/suggestions/departments/", views.departments, name="departments"),
    path("console/suggestions/inbox/", views.my_inbox, name="my_inbox"),
    path("console/suggestions/inbox/read/", views.notification_read, name="notification_read"),
    path("console/suggestions/contact/", views.contact_notices, name="contact_notices"),
    path("console/suggestions/contact/<int:pk>/", views.contact_notice, name="contact_notice"),
    path("h5/suggestions/", views.h5_home, name="h5_home"),
    path("h5/suggestions/new/", views.h5_new, name="h5_new"),
    path("h5/suggestions/messages/read/", views.h5_notification_read, name="h5_notification_read"),
    path("h5/suggestions/<int:pk>/", views.h5_item, name="h5_item"),
    path("suggestions/track/", views.track, name="track"),
    path("suggestions/anonymous/", views.anonymous_new, name="anonymous_new"),
    path("gongkai/<str:code>/", views.public_page, name="public"),
]
