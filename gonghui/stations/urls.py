from django.urls import path

from gonghui.stations import h5_views, views

app_name = "stations"

urlpatterns = [
    path("console/stations/", views.station_list, name="list"),
    path("console/stations/export.xlsx", views.station_export, name="export"),
    path("console/stations/new/", views.station_create, name="create"),
    path("console/stations/<int:pk>/", views.station_detail, name="detail"),
    path("console/stations/<int:pk>/edit/", views.station_edit, name="edit"),
    path("console/stations/<int:pk>/photos/", views.photo_add, name="photo_add"),
    path("console/stations/<int:pk>/poster/", views.poster, name="poster"),
    path("console/stations/<int:pk>/redemption-point/", views.redemption_point, name="redemption_point"),
    path("console/stations/<int:pk>/inspect/", views.inspection_create, name="inspect"),
    path("console/stations/photos/<int:pk>/", views.photo, name="photo"),
    path("console/stations/photos/<int:pk>/remove/", views.photo_remove, name="photo_remove"),
    path("console/stations/inspection-photos/<int:pk>/", views.inspection_photo, name="inspection_photo"),
    path("console/stations/failing/", views.failing, name="failing"),
    path("console/stations/failing/export.xlsx", views.failing_export, name="failing_export"),
    path("console/stations/usage/", views.usage, name="usage"),
    path("console/stations/imports/", views.import_list, name="imports"),
    path("console/stations/imports/template.xlsx", views.import_template, name="import_template"),
    path("console/stations/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("console/stations/imports/<int:pk>/errors.xlsx", views.import_report, name="import_report"),
    path("console/stations/settings/", views.settings_page, name="settings"),
    path("console/stations/settings/kinds/", views.kind_save, name="kind_save"),
    path("console/stations/settings/facilities/", views.facility_save, name="facility_save"),
    path("h5/stations/", h5_views.h5_nearest, name="h5_nearest"),
    path("h5/stations/map/", h5_views.h5_map, name="h5_map"),
    path("h5/stations/photos/<int:pk>/", h5_views.h5_photo, name="h5_photo"),
    path("h5/stations/scan/", h5_views.h5_scan, name="h5_scan"),
    path("h5/stations/s/<str:code>/", h5_views.h5_station, name="h5_station"),
    path("h5/stations/s/<str:code>/checkin/", h5_views.h5_checkin, name="h5_checkin"),
]
