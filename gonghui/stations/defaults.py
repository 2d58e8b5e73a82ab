"""The kinds of station and the facilities checklist a federation starts with (SPEC §8). The
migration `0002_default_kinds_and_facilities` installs them in a new database; `install` puts
back any that are missing (a test database flushed by a transactional test, the demo)."""

from gonghui.stations.models import Facility, StationKind

KINDS = (
    ("outdoor", "户外劳动者服务站点"),
    ("driver", "司机之家"),
    ("port-driver", "口岸司机之家"),
    ("workers-home", "职工之家"),
    ("health-hut", "健康小屋"),
    ("model-worker", "劳模港"),
    ("culture-palace", "工人文化宫"),
    ("reading-room", "职工书屋"),
    ("women-care", "女职工关爱室"),
)

FACILITIES = (
    ("aircon", "空调"),
    ("chairs", "桌椅"),
    ("water", "饮水机"),
    ("first-aid", "应急药箱"),
    ("fridge", "冰箱"),
    ("microwave", "微波炉"),
    ("charging", "充电设施"),
    ("toilet", "卫生间"),
    ("massage", "按摩椅"),
    ("parcel", "快递寄存"),
    ("legal", "法律咨询"),
    ("clinic", "健康义诊"),
    ("shower", "淋浴"),
    ("books", "图书阅览"),
    ("wifi", "无线网络"),
)


def install() -> None:
    """Add the default kinds and facilities that are missing (idempotent; renamed or retired
    entries keep their admin's changes)."""
    if StationKind.objects.filter(code__in=[c for c, _ in KINDS]).count() < len(KINDS):
        for order, (code, name) in enumerate(KINDS, start=1):
            StationKind.objects.get_or_create(code=code, defaults={"name": name, "order": order * 10})
    if Facility.objects.filter(code__in=[c for c, _ in FACILITIES]).count() < len(FACILITIES):
        for bit, (code, name) in enumerate(FACILITIES):
            Facility.objects.get_or_create(code=code, defaults={"name": name, "bit": bit, "order": (bit + 1) * 10})
