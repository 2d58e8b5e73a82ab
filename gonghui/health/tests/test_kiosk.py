"""健康小屋 devices post readings through the signed device API; the readings join the
member's history."""

import json

import pytest
from django.test import Client

from gonghui.benefits import devices as benefit_devices
from gonghui.core import signing
from gonghui.core.models import AuditEvent, Device
from gonghui.health import services
from gonghui.health.models import Checkup, CheckupKind, Result
from gonghui.health.report import build_report
from gonghui.members.card import card_token_issue
from gonghui.site.testing import World

PATH = "/api/health/device/readings"


@pytest.fixture
def kiosk(world: World) -> tuple[Device, str]:
    return services.kiosk_register(actor=world.federation_admin, organization=world.street, name="平江街道健康小屋")


def post(body: dict, key_id: str, secret: str, headers: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    raw = json.dumps(body, ensure_ascii=False).encode()
    signed = headers or signing.signed_headers(key_id=key_id, secret=secret, method="POST", path=PATH, body=raw)
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items()}
    return Client().post(PATH, data=raw, content_type="application/json", **extra), signed


READINGS = [
    {"code": "SBP", "value": 152, "unit": "mmHg"},
    {"code": "DBP", "value": 92, "unit": "mmHg"},
    {"code": "GLU", "value": "5.4", "unit": "mmol/L"},
    {"code": "UA", "value": 7.2, "unit": "mg/dL"},
    {"code": "体重", "value": 72.5, "unit": "kg"},
]


@pytest.mark.django_db
def test_signed_readings_join_the_members_history(world: World, kiosk: tuple[Device, str]) -> None:
    device, secret = kiosk
    services.health_consent_grant(member=world.member_a)
    token = card_token_issue(member=world.member_a).token
    body = {"request_id": "visit-1", "card_token": token, "readings": READINGS}
    response, _ = post(body, device.key_id, secret)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["created"] is True
    assert [(i["code"], i["value"], i["flag"]) for i in data["items"]] == [
        ("UA", "428", "high"),
        ("GLU", "5.40", "normal"),
        ("SBP", "152", "high"),
        ("DBP", "92", "high"),
        ("WEIGHT", "72.5", "none"),
    ]
    checkup = Checkup.objects.get(pk=data["checkup_id"])
    assert (checkup.kind, checkup.source, checkup.device_key, checkup.centre_name) == (
        CheckupKind.KIOSK,
        "kiosk",
        device.key_id,
        "平江街道健康小屋",
    )
    assert AuditEvent.objects.filter(action="health.kiosk_readings", object_id=str(checkup.pk)).count() == 1
    page = world.client_for(world.member_a.user).get("/h5/health/reports/%d/" % checkup.pk).content.decode()
    assert "本次健康小屋自测共 5 项，异常 3 项。" in page
    # a retry of the same visit (new nonce, same request id) returns the stored visit
    again, _ = post(body, device.key_id, secret)
    assert again.status_code == 200 and again.json()["checkup_id"] == checkup.pk and again.json()["created"] is False
    assert Result.objects.filter(checkup=checkup).count() == 5
    # the readings appear in the trend chart of the member's next exam report
    day = checkup.exam_date.isoformat()
    csv = ("身份证号,体检日期,项目代码,结果,单位\n%s,%s,SBP,140,mmHg\n" % (_id(world.member_a), day)).encode()
    batch = services.import_batch_create(
        actor=world.staff_a, organization=world.union_a, fmt="csv", filename="x.csv", content=csv, enqueue=False
    )
    services.import_batch_run(batch_id=batch.pk)
    exam = Checkup.objects.get(kind=CheckupKind.EXAM)
    assert build_report(exam).chart["series"]["SBP"]["points"] == [[day, 152.0, "kiosk"], [day, 140.0, "exam"]]


@pytest.mark.django_db
def test_replayed_unsigned_and_foreign_requests_are_refused(world: World, kiosk: tuple[Device, str]) -> None:
    device, secret = kiosk
    services.health_consent_grant(member=world.member_a)
    body = {"request_id": "visit-2", "id_number": _id(world.member_a), "readings": READINGS[:1]}
    first, headers = post(body, device.key_id, secret)
    assert first.status_code == 201
    replay, _ = post(body, device.key_id, secret, headers=headers)
    assert replay.status_code == 401 and replay.json()["code"] == "signature_refused"
    unsigned = Client().post(PATH, data=json.dumps(body), content_type="application/json")
    assert unsigned.status_code == 401
    forged, _ = post(body, device.key_id, "wrong-secret")
    assert forged.status_code == 401
    assert Checkup.objects.count() == 1


@pytest.mark.django_db
def test_consent_scope_kind_and_units_are_checked(world: World, kiosk: tuple[Device, str]) -> None:
    device, secret = kiosk
    body = {"request_id": "v3", "id_number": _id(world.member_a), "readings": READINGS[:1]}
    no_consent, _ = post(body, device.key_id, secret)
    assert no_consent.status_code == 403 and no_consent.json()["code"] == "consent_required"
    services.health_consent_grant(member=world.member_a)
    bad_unit, _ = post(
        {
            "request_id": "v4",
            "id_number": _id(world.member_a),
            "readings": [{"code": "GLU", "value": 5, "unit": "U/L"}],
        },
        device.key_id,
        secret,
    )
    assert bad_unit.status_code == 422
    assert bad_unit.json()["fields"] == {"readings[0]": "单位无法识别或不适用于该项目"}
    own_device, own_secret = services.kiosk_register(actor=world.staff_b, organization=world.union_b, name="乙小屋")
    foreign, _ = post(
        {"request_id": "v5", "id_number": _id(world.member_a), "readings": READINGS[:1]}, own_device.key_id, own_secret
    )
    assert foreign.status_code == 404
    vending, vending_secret = signing.device_register(
        actor=None, organization=world.street, name="售货机", kind=benefit_devices.VENDING
    )
    wrong_kind, _ = post(
        {"request_id": "v6", "id_number": _id(world.member_a), "readings": READINGS[:1]}, vending.key_id, vending_secret
    )
    assert wrong_kind.status_code == 403
    assert not Checkup.objects.exists()


@pytest.mark.django_db
def test_only_device_managers_register_kiosks(world: World, health_staff) -> None:  # type: ignore[no-untyped-def]
    from gonghui.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.kiosk_register(actor=health_staff, organization=world.union_a, name="x")
    assert not Device.objects.exists()
    device, _ = services.kiosk_register(actor=world.staff_a, organization=world.union_a, name="甲小屋")
    with pytest.raises(PermissionDenied):
        services.kiosk_deactivate(actor=world.staff_b, device=device)
    services.kiosk_deactivate(actor=world.staff_a, device=device)
    device.refresh_from_db()
    assert device.is_active is False


def _id(member) -> str:  # type: ignore[no-untyped-def]
    from gonghui.members.identity import decrypt_id_number

    return decrypt_id_number(member.id_number_encrypted)
