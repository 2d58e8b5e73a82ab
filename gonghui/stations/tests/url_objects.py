"""How to build union A's object for each parameterised URL of the stations app (see
site/tests/test_url_access.py)."""

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.site.testing import World
from gonghui.stations import services
from gonghui.stations.models import Station
from gonghui.stations.tests.factories import PNG, make_station


def _station(world: World) -> Station:
    existing = Station.objects.filter(organization=world.union_a).first()
    return existing or make_station(world.union_a)


def station_pk(world: World) -> dict[str, Any]:
    return {"pk": _station(world).pk}


def station_code(world: World) -> dict[str, Any]:
    return {"code": _station(world).code}


def photo_pk(world: World) -> dict[str, Any]:
    upload = SimpleUploadedFile("站点.png", PNG, content_type="image/png")
    photo = services.station_photo_add(actor=world.staff_a, station=_station(world), upload=upload)
    return {"pk": photo.pk}


def inspection_photo_pk(world: World) -> dict[str, Any]:
    inspection = services.inspection_record(
        actor=world.staff_a,
        station=_station(world),
        data=services.InspectionInput(inspected_on=dt.date.today().isoformat(), met=["sign"], score="70"),
        photos=[SimpleUploadedFile("检查.png", PNG, content_type="image/png")],
    )
    return {"pk": inspection.photos.get().pk}


def import_pk(world: World) -> dict[str, Any]:
    batch = services.station_import_upload(
        actor=world.staff_a, organization=world.union_a, filename="站点.csv", content=b"a,b\n1,2\n", enqueue=False
    )
    return {"pk": batch.pk}


URL_OBJECTS = {
    "stations:detail": station_pk,
    "stations:edit": station_pk,
    "stations:photo_add": station_pk,
    "stations:poster": station_pk,
    "stations:redemption_point": station_pk,
    "stations:inspect": station_pk,
    "stations:photo": photo_pk,
    "stations:photo_remove": photo_pk,
    "stations:inspection_photo": inspection_photo_pk,
    "stations:import_detail": import_pk,
    "stations:import_report": import_pk,
    "stations:h5_photo": photo_pk,
    "stations:h5_station": station_code,
    "stations:h5_checkin": station_code,
}
