"""Programmes: packages per sex (price in fen), quota per organisation, eligibility, slots,
booking on H5 with quotas and slots that never overbook, cancellation."""

import datetime as dt
import threading
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from gonghui.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.health import services
from gonghui.health.models import Appointment, AppointmentStatus, CheckupCentre, Package, Programme, Quota, Slot
from gonghui.members.models import Tag
from gonghui.site.testing import World, build_world, make_member


def make_programme(world: World, *, tags: int = 0, places: int = 5, capacity: int = 10, org=None) -> Programme:  # type: ignore[no-untyped-def]
    programme = _street_programme(world, timezone.localdate() + dt.timedelta(days=3), tags, org=org)
    start = programme.starts_on
    centre = CheckupCentre.objects.create(organization=programme.organization, name="苏州工会体检中心")
    services.package_save(
        actor=_admin(world),
        programme=programme,
        sex="M",
        name="男职工套餐",
        price_fen=45000,
        items=[("血常规", "白细胞计数"), ("生化", "空腹血糖"), ("一般检查", "血压")],
    )
    services.package_save(
        actor=_admin(world),
        programme=programme,
        sex="F",
        name="女职工套餐",
        price_fen=60000,
        items=[("血常规", "白细胞计数"), ("妇科", "乳腺彩超")],
    )
    services.quota_set(actor=_admin(world), programme=programme, organization=world.union_a, places=places)
    services.slots_create(
        actor=_admin(world),
        programme=programme,
        centre=centre,
        date_from=start,
        date_to=start,
        times=[(dt.time(8), dt.time(9, 30))],
        capacity=capacity,
        weekdays_only=False,
    )
    services.programme_set_status(actor=_admin(world), programme=programme, status="open")
    programme.refresh_from_db()
    return programme


def _admin(world: World):  # type: ignore[no-untyped-def]
    from gonghui.core.permissions import Role
    from gonghui.organizations.selectors import forget_roles
    from gonghui.site.testing import grant, make_user

    user = getattr(world, "_health_admin", None)
    if user is None:
        user = grant(make_user(), world.street, Role.HEALTH)
        forget_roles(user)
        world._health_admin = user  # type: ignore[attr-defined]
    return user


def _street_programme(world: World, start: dt.date, tags: int, org=None) -> Programme:  # type: ignore[no-untyped-def]
    return services.programme_create(
        actor=_admin(world),
        organization=world.street if org is None else org,
        data={
            "name": "2026年度职工健康体检",
            "year": start.year,
            "starts_on": start,
            "ends_on": start + dt.timedelta(days=60),
            "eligible_tags": [str(t.value) for t in Tag if tags & t.value],
        },
    )


@pytest.mark.django_db
def test_packages_are_priced_in_fen_and_matched_to_indicators(world: World) -> None:
    programme = make_programme(world)
    male = Package.objects.get(programme=programme, sex="M")
    assert (male.price_fen, male.price_yuan) == (45000, "450.00")
    items = list(male.items.values_list("position", "group", "name", "indicator__code"))
    assert items == [(1, "血常规", "白细胞计数", "WBC"), (2, "生化", "空腹血糖", "GLU"), (3, "一般检查", "血压", None)]


@pytest.mark.django_db
def test_opening_needs_packages_quotas_and_slots(world: World) -> None:
    programme = _street_programme(world, timezone.localdate() + dt.timedelta(days=3), 0)
    with pytest.raises(ValidationFailed) as excinfo:
        services.programme_set_status(actor=_admin(world), programme=programme, status="open")
    assert excinfo.value.message == "开放预约前请先设置：体检套餐、名额分配、预约时段"
    programme.refresh_from_db()
    assert programme.status == "draft"


@pytest.mark.django_db
def test_a_sibling_unions_staff_cannot_change_the_programme(world: World) -> None:
    programme = make_programme(world)
    with pytest.raises(PermissionDenied):
        services.quota_set(actor=world.staff_b, programme=programme, organization=world.union_b, places=100)
    assert not Quota.objects.filter(organization=world.union_b).exists()
    assert Quota.objects.get(organization=world.union_a).places == 5


@pytest.mark.django_db
def test_a_member_books_and_cancels(world: World) -> None:
    programme = make_programme(world)
    slot = programme.slots.get()
    appointment = services.appointment_book(member=world.member_a, programme=programme, slot=slot)
    assert appointment.package.sex == world.member_a.sex
    assert (Quota.objects.get().used, Slot.objects.get().booked) == (1, 1)
    with pytest.raises(Conflict) as excinfo:
        services.appointment_book(member=world.member_a, programme=programme, slot=slot)
    assert excinfo.value.message == "您已预约过本次体检"
    assert (Quota.objects.get().used, Slot.objects.get().booked) == (1, 1)
    services.appointment_cancel(member=world.member_a, appointment=appointment)
    assert (Quota.objects.get().used, Slot.objects.get().booked) == (0, 0)
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED
    again = services.appointment_book(member=world.member_a, programme=programme, slot=slot)
    assert again.status == AppointmentStatus.BOOKED
    assert AuditEvent.objects.filter(action="health.appointment_book").count() == 2


@pytest.mark.django_db
def test_eligibility(world: World) -> None:
    programme = make_programme(world, tags=Tag.TRUCK_DRIVER)
    slot = programme.slots.get()
    with pytest.raises(PermissionDenied) as excinfo:
        services.appointment_book(member=world.member_a, programme=programme, slot=slot)
    assert excinfo.value.message == "本次体检面向特定职工群体"
    driver = make_member(world.union_a, name="王师傅", tags=Tag.TRUCK_DRIVER | Tag.MIGRANT)
    services.appointment_book(member=driver, programme=programme, slot=slot)
    # member B's union has no quota
    world.member_b.tags = Tag.TRUCK_DRIVER
    world.member_b.save()
    with pytest.raises(PermissionDenied) as excinfo:
        services.appointment_book(member=world.member_b, programme=programme, slot=slot)
    assert excinfo.value.message == "您所在的工会未分配本次体检名额"
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_quota_and_slot_limits(world: World) -> None:
    programme = make_programme(world, places=2, capacity=10)
    slot = programme.slots.get()
    members = [make_member(world.union_a, name="职工%d" % i) for i in range(3)]
    services.appointment_book(member=members[0], programme=programme, slot=slot)
    services.appointment_book(member=members[1], programme=programme, slot=slot)
    with pytest.raises(Conflict) as excinfo:
        services.appointment_book(member=members[2], programme=programme, slot=slot)
    assert excinfo.value.message == "本单位体检名额已满"
    assert (Quota.objects.get().used, Slot.objects.get().booked, Appointment.objects.count()) == (2, 2, 2)
    with pytest.raises(Conflict):
        services.quota_set(actor=_admin(world), programme=programme, organization=world.union_a, places=1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loaded_catalogue")
def test_concurrent_bookings_never_exceed_the_slot() -> None:
    world = build_world()
    programme = make_programme(world, places=50, capacity=3)
    slot = programme.slots.get()
    members = [make_member(world.union_a, name="抢约%d" % i) for i in range(8)]
    barrier = threading.Barrier(len(members))
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(member) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.appointment_book(member=member, programme=programme, slot=slot)
            result = "ok"
        except Conflict as exc:
            result = exc.message
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=book, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted(["ok"] * 3 + ["该时段已约满，请选择其他时段"] * 5)
    assert (Slot.objects.get().booked, Quota.objects.get().used, Appointment.objects.count()) == (3, 3, 3)


@pytest.mark.django_db
def test_h5_booking_page(world: World) -> None:
    programme = make_programme(world)
    client = world.client_for(world.member_a.user)
    home = client.get("/h5/health/")
    assert home.status_code == 200 and "2026年度职工健康体检" in home.content.decode()
    page = client.get("/h5/health/programmes/%d/" % programme.pk)
    body = page.content.decode()
    assert "男职工套餐（3 项，价值 ¥450.00，由工会承担）" in body
    response = client.post("/h5/health/programmes/%d/" % programme.pk, {"slot": programme.slots.get().pk})
    assert response.status_code == 302
    assert Appointment.objects.get().member == world.member_a
    assert "已预约" in client.get("/h5/health/programmes/%d/" % programme.pk).content.decode()
    other = client.post("/h5/health/programmes/%d/" % programme.pk, {"slot": 999999})
    assert other.status_code == 422 and "请选择预约时段" in other.content.decode()


@pytest.mark.django_db
def test_members_outside_the_programme_cannot_open_it(world: World) -> None:
    programme = make_programme(world, org=world.union_a)
    from django.test import Client

    from gonghui.accounts.models import User

    world.member_b.user = User.objects.create_user(username="member_b_user")
    world.member_b.save()
    client = Client()
    client.force_login(world.member_b.user, backend="gonghui.accounts.backends.StaffPasswordBackend")
    assert client.get("/h5/health/programmes/%d/" % programme.pk).status_code == 404
    with pytest.raises(NotFound):
        from gonghui.health.selectors import member_programme_get

        member_programme_get(world.member_b, programme.pk)


@pytest.mark.django_db
def test_console_programme_pages(world: World, health_staff) -> None:  # type: ignore[no-untyped-def]
    client = world.client_for(health_staff)
    start = timezone.localdate() + dt.timedelta(days=10)
    response = client.post(
        "/console/health/programmes/new/",
        {
            "organization": world.union_a.code,
            "name": "甲公司体检",
            "year": str(start.year),
            "starts_on": start.isoformat(),
            "ends_on": (start + dt.timedelta(days=20)).isoformat(),
        },
    )
    programme = Programme.objects.get(name="甲公司体检")
    assert response.status_code == 302
    bad = client.post(
        "/console/health/programmes/%d/package/" % programme.pk,
        {"sex": "M", "name": "男", "price": "450.505", "items": "血常规|白细胞计数"},
    )
    assert bad.status_code == 422 and not Package.objects.exists()
    ok = client.post(
        "/console/health/programmes/%d/package/" % programme.pk,
        {"sex": "M", "name": "男", "price": "450.50", "items": "血常规|白细胞计数\n空腹血糖"},
    )
    assert ok.status_code == 302 and Package.objects.get().price_fen == 45050
    export = client.get("/console/health/programmes/%d/appointments.csv" % programme.pk)
    assert export.status_code == 200 and export.content.decode("utf-8-sig").startswith("会员编号,姓名,证件号码")
    name = "体检预约名单_%(org)s_%(programme)s_%(day)s.csv" % {
        "org": programme.organization.name,
        "programme": programme.name,
        "day": timezone.localdate().isoformat(),
    }
    assert export["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(name)
