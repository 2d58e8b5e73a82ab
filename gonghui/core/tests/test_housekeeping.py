"""`python manage.py housekeeping`: short-lived rows past their keep time go, recent ones stay,
unconfirmed import uploads are cancelled, deleted and audited."""

import datetime as dt
import json

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from gonghui.accounts.models import SmsCode
from gonghui.benefits.models import WrongCodeAttempt
from gonghui.benefits.tests.factories import make_device, make_point
from gonghui.core.models import AuditEvent, DeviceNonce, IdempotentResponse
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.tests.test_import_validation import person, upload
from gonghui.site.testing import World


def _ago(**delta: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)


@pytest.mark.django_db
def test_housekeeping_prunes_what_is_past_its_keep_time_and_nothing_else(world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    point = make_point(world.union_a)
    device, _ = make_device(point)
    for age in ({"minutes": 30}, {"seconds": 5}):
        DeviceNonce.objects.create(device=device, nonce=f"n{age}", seen_at=_ago(**age))
        WrongCodeAttempt.objects.create(point=point, device=device, at=_ago(days=31) if "minutes" in age else _ago())
        SmsCode.objects.create(
            phone="13900000001",
            code_hash="x",
            created_at=_ago(days=8) if "minutes" in age else _ago(),
            expires_at=_ago(),
        )
    old = IdempotentResponse.objects.create(scope="s", key="old", status=200, body={})
    IdempotentResponse.objects.filter(pk=old.pk).update(created_at=_ago(hours=73))
    IdempotentResponse.objects.create(scope="s", key="new", status=200, body={})

    waiting = upload(world, [person(1), person(2)])
    ImportBatch.objects.filter(pk=waiting.pk).update(created_at=_ago(hours=73))
    fresh = upload(world, [person(3)])
    stored = waiting.stored_file
    assert stored and default_storage.exists(stored)

    call_command("housekeeping")

    removed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["removed"]
    assert removed == {
        "device_nonces": 1,
        "idempotent_responses": 1,
        "jobs_expire": 0,
        "jobs_recover": 0,
        "member_import_uploads": 1,
        "screening_dataset_files": 0,
        "sms_codes": 1,
        "suggestions_escalate": 0,
        "wrong_code_attempts": 1,
    }
    assert DeviceNonce.objects.count() == WrongCodeAttempt.objects.count() == SmsCode.objects.count() == 1
    assert list(IdempotentResponse.objects.values_list("key", flat=True)) == ["new"]
    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.CANCELLED
    assert "未确认导入" in waiting.error_message
    assert waiting.stored_file == "" and not default_storage.exists(stored)
    assert AuditEvent.objects.filter(action="member.import_expire", object_id=str(waiting.pk)).exists()
    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.VALIDATED and default_storage.exists(fresh.stored_file)
