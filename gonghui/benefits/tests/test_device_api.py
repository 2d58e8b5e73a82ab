import json

import pytest
from django.test import Client

from gonghui.benefits.models import Coupon, CouponStatus, Redemption
from gonghui.benefits.tests.factories import make_campaign, make_coupon, make_device
from gonghui.core import signing
from gonghui.core.models import AuditEvent, DeviceNonce, IdempotentResponse

pytestmark = pytest.mark.django_db

PATH = "/api/benefits/device/redeem"


@pytest.fixture
def setup(world, point_a):
    device, secret = make_device(point_a)
    coupon = make_coupon(make_campaign(world.union_a, world.staff_a, points=[point_a]), world.member_a)
    return device, secret, coupon


def _post(client: Client, headers: dict[str, str], body: bytes):
    return client.post(PATH, data=body, content_type="application/json", headers=headers)


def _signed(device, secret, body: bytes) -> dict[str, str]:
    return signing.signed_headers(key_id=device.key_id, secret=secret, method="POST", path=PATH, body=body)


def _state(coupon):
    return (
        Coupon.objects.get(pk=coupon.pk).status,
        Redemption.objects.count(),
        IdempotentResponse.objects.count(),
        AuditEvent.objects.filter(action="coupon.redeem").count(),
    )


def test_signed_redeem_succeeds_and_a_retried_request_id_returns_the_first_answer(setup):
    device, secret, coupon = setup
    body = json.dumps({"request_id": "vm-0001", "code": coupon.code}).encode()
    client = Client()
    first = _post(client, _signed(device, secret, body), body)
    assert first.status_code == 200
    answer = first.json()
    assert answer["result"] == "redeemed"
    assert answer["member"] == "张*"
    assert answer["items"] == [{"name": "冰镇矿泉水", "quantity": 1, "face_value_fen": 1500}]
    assert answer["code_masked"] == coupon.code[:4] + " **** **** " + coupon.code[-2:]
    # The machine lost the answer and retries: a fresh nonce and signature, the same request id.
    retry = _post(client, _signed(device, secret, body), body)
    assert retry.status_code == 200
    assert retry.json() == answer
    assert Redemption.objects.get().device_id == device.pk
    # A new request id for the same code is a second redemption attempt: 已核销.
    body2 = json.dumps({"request_id": "vm-0002", "code": coupon.code}).encode()
    second = _post(client, _signed(device, secret, body2), body2)
    assert second.status_code == 409
    assert second.json()["code"] == "already_redeemed"
    assert Redemption.objects.count() == 1


def test_a_replayed_request_is_refused_and_changes_nothing(setup):
    device, secret, coupon = setup
    body = json.dumps({"request_id": "vm-0101", "code": coupon.code}).encode()
    headers = _signed(device, secret, body)
    client = Client()
    assert _post(client, headers, body).status_code == 200
    before = _state(coupon)
    nonces = DeviceNonce.objects.count()
    replay = _post(client, headers, body)
    assert replay.status_code == 401
    assert replay.json()["code"] == "signature_refused"
    assert _state(coupon) == before
    assert DeviceNonce.objects.count() == nonces


def test_a_replay_of_a_request_that_never_ran_does_not_redeem(setup):
    device, secret, coupon = setup
    body = json.dumps({"request_id": "vm-0201", "code": coupon.code}).encode()
    headers = _signed(device, secret, body)
    DeviceNonce.objects.create(device=device, nonce=headers["X-Nonce"], seen_at=signing.timezone.now())
    before = _state(coupon)
    response = _post(Client(), headers, body)
    assert response.status_code == 401
    assert _state(coupon) == before == (CouponStatus.CLAIMED, 0, 0, 0)


def test_a_bad_signature_is_refused_and_changes_nothing(setup):
    device, _secret, coupon = setup
    body = json.dumps({"request_id": "vm-0301", "code": coupon.code}).encode()
    headers = _signed(device, "not-the-secret", body)
    before = _state(coupon)
    response = _post(Client(), headers, body)
    assert response.status_code == 401
    assert response.json() == {"code": "signature_refused", "message": "签名错误", "fields": {}}
    assert _state(coupon) == before == (CouponStatus.CLAIMED, 0, 0, 0)
    assert DeviceNonce.objects.count() == 0
    assert AuditEvent.objects.get(action="device.request_refused").detail["reason"] == "signature"


def test_a_tampered_body_is_refused(setup):
    device, secret, coupon = setup
    signed_body = json.dumps({"request_id": "vm-0401", "code": "00000000000000"}).encode()
    sent_body = json.dumps({"request_id": "vm-0401", "code": coupon.code}).encode()
    response = _post(Client(), _signed(device, secret, signed_body), sent_body)
    assert response.status_code == 401
    assert _state(coupon) == (CouponStatus.CLAIMED, 0, 0, 0)


def test_a_stale_timestamp_is_refused(setup):
    device, secret, coupon = setup
    body = json.dumps({"request_id": "vm-0501", "code": coupon.code}).encode()
    stale = str(int(signing.timezone.now().timestamp()) - 301)
    headers = {
        "X-Device-Key": device.key_id,
        "X-Timestamp": stale,
        "X-Nonce": "n-stale-1",
        "X-Signature": signing.sign(secret, "POST", PATH, stale, "n-stale-1", body),
    }
    response = _post(Client(), headers, body)
    assert response.status_code == 401
    assert "过期" in response.json()["message"]
    assert _state(coupon) == (CouponStatus.CLAIMED, 0, 0, 0)


def test_unsigned_requests_and_unbound_devices_are_refused(world, setup):
    _device, _secret, coupon = setup
    body = json.dumps({"request_id": "vm-0601", "code": coupon.code}).encode()
    assert _post(Client(), {}, body).status_code == 401
    loose, loose_secret = signing.device_register(actor=None, organization=world.union_a, name="未绑定", kind="vending")
    response = _post(Client(), _signed(loose, loose_secret, body), body)
    assert response.status_code == 403
    assert response.json()["message"] == "该设备未绑定核销点"
    assert _state(coupon) == (CouponStatus.CLAIMED, 0, 0, 0)


def test_wrong_codes_through_the_api_lock_the_device(setup):
    from gonghui.benefits import codes

    device, secret, coupon = setup
    client = Client()
    statuses = []
    for i in range(11):
        while True:
            guess = codes.generate()
            if guess != coupon.code:
                break
        body = json.dumps({"request_id": "guess-%d" % i, "code": guess}).encode()
        statuses.append(_post(client, _signed(device, secret, body), body).status_code)
    assert statuses == [404] * 10 + [429]
    body = json.dumps({"request_id": "honest-1", "code": coupon.code}).encode()
    locked = _post(client, _signed(device, secret, body), body)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked"
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.CLAIMED
    assert AuditEvent.objects.filter(action="device.locked").count() == 1


def test_a_device_redemption_stays_within_its_statement_budget(setup, django_assert_max_num_queries):
    """The vending-machine path is the hot one: the device arrives with its point, the items
    of a published campaign are read once per process. Guard the count against regressions."""
    device, secret, coupon = setup
    body = json.dumps({"request_id": "vm-budget", "code": coupon.code}).encode()
    headers = _signed(device, secret, body)
    # 13 statements inside the test's transaction: the device with its point; the nonce; the
    # idempotency key and its stored answer; the locked coupon, its update and the redemption;
    # the audit tip, event and tip update; the items (first time); and the one savepoint pair
    # that stands for BEGIN and COMMIT in a real request. (Session 2's path took 19.)
    with django_assert_max_num_queries(13):
        response = _post(Client(), headers, body)
    assert response.status_code == 200
