"""The member's station pages (H5): the nearest open stations from the phone's position or a
chosen district, the map, a station's page, the check-in its QR code opens and the scan page
the member card links to."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from gonghui.core.errors import DomainError, NotFound, ValidationFailed
from gonghui.members.selectors import member_of_user
from gonghui.stations import geo, hours, selectors, services


@dataclass(frozen=True)
class Search:
    query: selectors.NearestQuery | None
    origin: str  # "gps", "district" or ""
    district_id: int | None
    kind_id: int | None
    facility_id: int | None
    open_now: bool
    error: str


def _choice(raw: str, options: dict[int, Any], label: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) not in options:
        raise ValidationFailed("%(label)s无效，请重新选择" % {"label": label})
    return int(text)


def _search(request: HttpRequest, districts: list[selectors.District]) -> Search:
    params = request.GET
    open_now = params.get("open", "1") != "0"
    kind_id = facility_id = district_id = None
    try:
        kind_id = _choice(params.get("kind", ""), {k.pk: k for k in selectors.active_kinds()}, "站点类型")
        facilities = {f.pk: f for f in selectors.active_facilities()}
        facility_id = _choice(params.get("facility", ""), facilities, "设施")
        by_district = {d.pk: d for d in districts}
        district_id = _choice(params.get("district", ""), by_district, "区县")
        lat_raw, lng_raw = params.get("lat", "").strip(), params.get("lng", "").strip()
        mask = facilities[facility_id].mask if facility_id is not None else 0
        if lat_raw or lng_raw:
            lat = services.parse_coordinate(lat_raw, label="纬度", low=-90, high=90)
            lng = services.parse_coordinate(lng_raw, label="经度", low=-180, high=180)
            if geo.out_of_china(lat, lng):
                raise ValidationFailed("您当前的位置不在中国境内，请改为选择区县查找")
            origin = "gps"
        elif district_id is not None:
            lat, lng = by_district[district_id].lat, by_district[district_id].lng
            origin = "district"
        else:
            return Search(None, "", None, kind_id, facility_id, open_now, "")
        query = selectors.NearestQuery(lat=lat, lng=lng, kind_id=kind_id, facility_mask=mask, open_now=open_now)
        return Search(query, origin, district_id, kind_id, facility_id, open_now, "")
    except DomainError as exc:
        return Search(None, "", district_id, kind_id, facility_id, open_now, exc.message)


def _context(request: HttpRequest) -> dict[str, Any]:
    districts = selectors.districts()
    search = _search(request, districts)
    results = selectors.nearest_stations(search.query) if search.query else []
    return {
        "search": search,
        "results": results,
        "districts": districts,
        "kinds": selectors.active_kinds(),
        "facilities": selectors.active_facilities(),
        "now": timezone.localtime(),
        "query_string": request.GET.urlencode(),
    }


@require_GET
def h5_nearest(request: HttpRequest) -> HttpResponse:
    return render(request, "stations/h5/nearest.html", _context(request))


def _tile_origin(url: str) -> str:
    """The scheme and host of a tile URL template, for the page's CSP (img-src)."""
    head, sep, rest = url.partition("://")
    if not sep:
        return ""
    host = rest.split("/", 1)[0].replace("{s}", "*")
    return "%s://%s" % (head, host)


@require_GET
def h5_map(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    tile_url = settings.GONGHUI_MAP_TILE_URL
    gcj = settings.GONGHUI_MAP_TILE_CRS.lower() == "gcj02"
    markers = []
    for near in context["results"]:
        lat, lng = near.station.lat, near.station.lng
        if gcj:
            lat, lng = geo.wgs84_to_gcj02(lat, lng)
        markers.append(
            {
                "lat": lat,
                "lng": lng,
                "name": near.station.name,
                "distance": near.distance_label,
                "url": reverse("stations:h5_station", args=[near.station.code]),
            }
        )
    centre = None
    query = context["search"].query
    if query is not None:
        centre = geo.wgs84_to_gcj02(query.lat, query.lng) if gcj else (query.lat, query.lng)
    context["map"] = {
        "tile_url": tile_url,
        "attribution": settings.GONGHUI_MAP_TILE_ATTRIBUTION,
        "markers": markers,
        "centre": centre,
    }
    response = render(request, "stations/h5/map.html", context)
    origin = _tile_origin(tile_url) if tile_url else ""
    if origin:
        policy = settings.CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' %s" % origin)
        response.headers["Content-Security-Policy"] = policy
    return response


@require_GET
def h5_station(request: HttpRequest, code: str) -> HttpResponse:
    station = selectors.member_station_get(code)
    facilities = [f for f in selectors.active_facilities() if station.facility_mask & f.mask]
    distance = None
    try:
        if request.GET.get("lat") and request.GET.get("lng"):
            lat = services.parse_coordinate(request.GET["lat"], label="纬度", low=-90, high=90)
            lng = services.parse_coordinate(request.GET["lng"], label="经度", low=-180, high=180)
            distance = geo.distance_m(lat, lng, station.lat, station.lng)
    except DomainError:
        distance = None
    return render(
        request,
        "stations/h5/station.html",
        {
            "station": station,
            "facilities": facilities,
            "hours": hours.summary(station),
            "is_open": selectors.station_is_open(station),
            "photos": list(station.photos.only("pk", "caption")),
            "distance": geo.distance_label(distance) if distance is not None else None,
            "walking": geo.walking_minutes(distance) if distance is not None else None,
        },
    )


@require_GET
def h5_photo(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.member_photo_get(pk)
    response = HttpResponse(bytes(found.content), content_type=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@require_http_methods(["GET", "POST"])
def h5_checkin(request: HttpRequest, code: str) -> HttpResponse:
    """The page the station's QR code opens: one tap records the visit (a POST, so a link
    followed by a crawler or a prefetch records nothing)."""
    member = member_of_user(request.user)
    if member is None:
        raise NotFound("未找到会员信息")
    station = selectors.member_station_get(code)
    if request.method == "POST":
        try:
            result = services.checkin_record(member=member, station=station)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("stations:h5_checkin", code=station.code)
        at = timezone.localtime(result.checkin.at).strftime("%H:%M")
        if result.created:
            messages.success(request, "签到成功（%(at)s）" % {"at": at})
        else:
            messages.success(request, "您已于 %(at)s 在本站签到" % {"at": at})
        return redirect("stations:h5_checkin", code=station.code)
    return render(
        request,
        "stations/h5/checkin.html",
        {
            "station": station,
            "member": member,
            "is_open": selectors.station_is_open(station),
            "recent": selectors.member_recent_checkins(member),
        },
    )


def card_entry(request: HttpRequest, member: Any) -> str:
    """The 扫码签到 entry on the member card page (a `registry.Section` of "members.h5_card")."""
    return render_to_string("stations/h5/_card_entry.html", request=request)


@require_GET
def h5_scan(request: HttpRequest) -> HttpResponse:
    """扫码签到 from the member card: the camera reads the station's poster QR code where the
    browser can (BarcodeDetector), or the member types the station number; either opens the
    station's check-in page."""
    if member_of_user(request.user) is None:
        raise NotFound("未找到会员信息")
    error = ""
    if "code" in request.GET:
        text = request.GET["code"]
        try:
            if not text.strip():
                raise ValidationFailed("请输入站点编号")
            station = selectors.member_station_scanned(text)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("stations:h5_checkin", code=station.code)
    return render(request, "stations/h5/scan.html", {"error": error, "code": request.GET.get("code", "")[:100]})
