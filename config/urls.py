from django.conf import settings
from django.urls import include, path

from config.api import api
from gonghui.core import views as core_views
from gonghui.site import views as site_views

urlpatterns = [
    path("", site_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("gonghui.accounts.urls")),
    path("console/", include("gonghui.site.urls")),
    path("console/", include("gonghui.core.urls")),
    path("console/organizations/", include("gonghui.organizations.urls")),
    # Before the apps' root-level includes: a device request resolves without trying ~80 page patterns.
    path("api/", api.urls),
    path("", include("gonghui.members.urls")),
    path("", include("gonghui.benefits.urls")),
    path("", include("gonghui.health.urls")),
    path("", include("gonghui.funds.urls")),
    path("", include("gonghui.relief.urls")),
    path("", include("gonghui.screening.urls")),
    path("", include("gonghui.mutual_aid.urls")),
    path("", include("gonghui.suggestions.urls")),
    path("", include("gonghui.stations.urls")),
    path("", include("gonghui.activities.urls")),
    path("", include("gonghui.competitions.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
