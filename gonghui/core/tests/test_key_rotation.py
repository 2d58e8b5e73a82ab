"""Key rotation covers every ciphertext the platform stores (issue 9 item 6).

Every path that writes personal data sealed by `gonghui.core.crypto` is exercised through its
service; then every column of every installed model (and every stored file) is searched for
ciphertext, and any holder that is not an encrypted field — so `rotate_pii_keys` would skip it —
fails the test. Then the keys are rotated, the old key is dropped as docs/operations.md says,
and every value is read back, through the fields and through the services that use them."""

import base64
import importlib
import importlib.util
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from openpyxl import load_workbook

from gonghui.accounts.services import totp_begin_enrolment, totp_secret
from gonghui.benefits import devices as benefit_devices
from gonghui.core import crypto, registry
from gonghui.core.fields import EncryptedFileNameField, encrypted_fields
from gonghui.core.models import AuditEvent, Device
from gonghui.core.signing import device_register
from gonghui.health import services as health
from gonghui.health.models import Checkup, ImportBatch, LlmStatus, Result
from gonghui.health.report import build_report
from gonghui.health.tests.samples import messy_hl7
from gonghui.members.identity import decrypt_id_number
from gonghui.members.import_models import ImportBatch as MemberImportBatch
from gonghui.members.imports.batches import _load_upload
from gonghui.members.imports.spreadsheets import import_error_report
from gonghui.members.models import JoinApplication
from gonghui.members.tests.test_import_validation import person, upload
from gonghui.site.testing import World

NEW_KEY = base64.b64encode(b"n" * 32).decode()
TOKEN = re.compile(r"v1:[A-Za-z0-9_-]+:[A-Za-z0-9+/]{16,}={0,2}")
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _write_every_kind_of_ciphertext(world: World) -> dict[str, Any]:
    device, device_secret = device_register(
        actor=world.staff_a, organization=world.union_a, name="核销终端", kind=benefit_devices.TERMINAL
    )
    totp = totp_begin_enrolment(user=world.staff_a)
    ids = {"a": decrypt_id_number(world.member_a.id_number_encrypted), "b": "110101199001011237"}
    JoinApplication.objects.create(
        organization=world.union_a,
        name="李四",
        id_number_encrypted=world.member_b.id_number_encrypted,
        id_blind=world.member_b.id_blind,
        id_masked=world.member_b.id_masked,
        phone="13900000001",
    )
    member_import = upload(world, [person(1), person(2, 证件号码="=1+1")])
    done = health.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab.hl7",
        content=messy_hl7(ids["a"], ids["b"]),
        enqueue=False,
    )
    health.import_batch_run(batch_id=done.pk)
    pending = health.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab2.hl7",
        content=messy_hl7(ids["a"], ids["b"], when="20260312083000+0800"),
        enqueue=False,
    )
    checkup = Checkup.objects.get(external_id="TJ2025-001")
    health.checkup_llm_summary_store(checkup_id=checkup.pk, status=LlmStatus.ACCEPTED, text="血压偏高，请复查。")
    # The apps that came later write theirs with their own helper, `<app>.tests.ciphertext.write`.
    for config in apps.get_app_configs():
        if importlib.util.find_spec(config.name + ".tests") and importlib.util.find_spec(
            config.name + ".tests.ciphertext"
        ):
            importlib.import_module(config.name + ".tests.ciphertext").write(world)
    return {
        "device": device,
        "device_secret": device_secret,
        "totp": totp,
        "member_import": member_import,
        "pending_health_import": pending,
        "checkup": checkup,
    }


def _ciphertext_holders(media_root: Path) -> tuple[set[str], set[str]]:
    """(model.field of every column holding a ciphertext, storage names of files holding one)."""
    columns: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            for value in model._base_manager.values_list(field.attname, flat=True).iterator():
                text = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                if TOKEN.search(text):
                    columns.add(f"{model._meta.label}.{field.name}")
                    break
    files = {
        str(path.relative_to(media_root))
        for path in media_root.rglob("*")
        if path.is_file() and TOKEN.match(path.read_bytes()[:200].decode("latin-1"))
    }
    return columns, files


def _plaintexts() -> dict[tuple[str, int], str]:
    """(model.field, pk) → plaintext of every stored encrypted value, opened with its field."""
    values: dict[tuple[str, int], str] = {}
    for field in encrypted_fields():
        label = f"{field.model._meta.label}.{field.name}"
        for pk, stored in field.model._base_manager.exclude(**{field.name: ""}).values_list("pk", field.name):
            if isinstance(field, EncryptedFileNameField):
                values[(label, pk)] = field.open_file(stored)
            else:
                values[(label, pk)] = field.open(stored)
    for sealed in registry.sealed_file_sets():
        for path in sealed.paths():
            values[(sealed.label, str(path))] = crypto.decrypt(Path(path).read_text("ascii"), purpose=sealed.purpose)
    return values


def _key_ids() -> set[str]:
    kids = set()
    for field in encrypted_fields():
        for stored in field.model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True):
            token = field.read_token(stored) if isinstance(field, EncryptedFileNameField) else stored
            kids.add(crypto.key_id_of(token))
    for sealed in registry.sealed_file_sets():
        kids |= {crypto.key_id_of(Path(path).read_text("ascii")) for path in sealed.paths()}
    return kids


def _stored_values() -> dict[str, list[str]]:
    return {
        f"{f.model._meta.label}.{f.name}": list(f.model._base_manager.order_by("pk").values_list(f.name, flat=True))
        for f in encrypted_fields()
    }


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.SCREENING_DIR = tmp_path / "screening"  # an app's private storage, sealed files included
    return tmp_path


@pytest.fixture(autouse=True)
def _restore_keys():  # type: ignore[no-untyped-def]
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


@pytest.mark.django_db
def test_every_column_holding_ciphertext_is_an_encrypted_field_rotation_covers(world: World, media_root: Path) -> None:
    _write_every_kind_of_ciphertext(world)
    columns, files = _ciphertext_holders(media_root)
    encrypted = {f"{f.model._meta.label}.{f.name}": f for f in encrypted_fields()}
    assert sorted(columns - set(encrypted)) == []
    sealed_labels = {s.label for s in registry.sealed_file_sets()}
    stored_files = {
        name
        for f in encrypted.values()
        if isinstance(f, EncryptedFileNameField)
        for name in f.model._base_manager.exclude(**{f.name: ""}).values_list(f.name, flat=True)
    }
    stored_files |= {str(Path(p).relative_to(media_root)) for s in registry.sealed_file_sets() for p in s.paths()}
    assert sorted(files - stored_files) == []
    # Every encrypted field was written above, so the rotation test below reads each one back.
    written = {label for label, _ in _plaintexts()}
    assert sorted((set(encrypted) | sealed_labels) - written) == [], (
        "an encrypted field nobody wrote: add it to its app's tests/ciphertext.py"
    )
    assert written >= {
        "accounts.User.totp_secret_encrypted",
        "core.Device.secret_encrypted",
        "members.Member.id_number_encrypted",
        "members.JoinApplication.id_number_encrypted",
        "members.ImportBatch.stored_file",
        "members.ImportIssue.raw_encrypted",
        "health.ImportBatch.payload_encrypted",
        "health.Checkup.llm_summary_encrypted",
        "health.Result.value_encrypted",
        "relief.HardshipFile.annual_income_encrypted",
        "relief.ReliefCase.illness_figures_encrypted",
        "relief.CaseDocument.stored",
        "mutual_aid.Claim.health_encrypted",
        "mutual_aid.Claim.steps_encrypted",
        "mutual_aid.ClaimDocument.stored_name",
        "mutual_aid.EnrolmentBatch.upload_encrypted",
        "suggestions.Item.content_encrypted",
        "suggestions.Attachment.stored",
        "screening.Dataset.raw_file",
        "activities.ChildDetail.name_encrypted",
        "activities.ChildDetail.birth_encrypted",
    }


@pytest.mark.django_db
def test_rotation_then_dropping_the_old_key_leaves_every_value_readable(
    world: World, media_root: Path, settings, capsys, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    written = _write_every_kind_of_ciphertext(world)
    before = _plaintexts()
    report_before = build_report(Checkup.objects.get(pk=written["checkup"].pk))
    old_keys, old_active = settings.PII_KEYS, settings.PII_ACTIVE_KEY_ID
    assert _key_ids() == {old_active}
    old_upload = written["member_import"].stored_file

    settings.PII_KEYS = f"{old_keys},k2:{NEW_KEY}"
    settings.PII_ACTIVE_KEY_ID = "k2"
    crypto.reset_key_cache()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rotate_pii_keys", "--batch-size", "3")
    assert '"left": {}' in capsys.readouterr().out
    rotation = AuditEvent.objects.get(action="pii.rotate")
    assert rotation.detail["rewritten"]["health.Result.value_encrypted"] == Result.objects.count() > 10
    assert rotation.detail["rewritten"]["members.ImportBatch.stored_file"] == 1
    assert rotation.detail["rewritten"]["screening.Dataset.raw_file"] == 1

    settings.PII_KEYS = f"k2:{NEW_KEY}"  # the old key is dropped, as docs/operations.md says
    crypto.reset_key_cache()
    assert _key_ids() == {"k2"}
    assert _plaintexts() == before
    assert not (media_root / old_upload).exists()
    # …and the services that read them still work.
    assert build_report(Checkup.objects.get(pk=written["checkup"].pk)) == report_before
    assert health.llm_summary_text(Checkup.objects.get(pk=written["checkup"].pk)) == "血压偏高，请复查。"
    staff = type(world.staff_a).objects.get(pk=world.staff_a.pk)
    assert totp_secret(staff) == written["totp"]
    device = Device.objects.get(pk=written["device"].pk)
    assert crypto.decrypt(device.secret_encrypted, purpose="device.secret") == written["device_secret"]
    batch = MemberImportBatch.objects.get(pk=written["member_import"].pk)
    assert _load_upload(batch).startswith("姓名,证件号码".encode())
    report = load_workbook(io.BytesIO(import_error_report(actor=world.staff_a, batch=batch).content)).worksheets[0]
    assert [row[1] for row in report.iter_rows(values_only=True)] == [batch.columns[0], "王小明"]
    health.import_batch_run(batch_id=written["pending_health_import"].pk)
    assert ImportBatch.objects.get(pk=written["pending_health_import"].pk).job.status == "succeeded"


@pytest.mark.django_db
def test_rotation_again_rewrites_nothing(world: World, media_root: Path, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    _write_every_kind_of_ciphertext(world)
    settings.PII_KEYS = f"{settings.PII_KEYS},k2:{NEW_KEY}"
    settings.PII_ACTIVE_KEY_ID = "k2"
    crypto.reset_key_cache()
    call_command("rotate_pii_keys")
    before = _plaintexts()
    stored = _stored_values()
    call_command("rotate_pii_keys")
    second = AuditEvent.objects.filter(action="pii.rotate").order_by("-id").first()
    assert second is not None
    assert set(second.detail["rewritten"].values()) == {0}
    assert _stored_values() == stored
    assert _plaintexts() == before


def test_every_field_named_as_ciphertext_is_an_encrypted_field() -> None:
    """A column named like ciphertext but declared as a plain field would be skipped by the
    rotation even if no test writes it."""
    encrypted = set(encrypted_fields())
    named = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.local_concrete_fields
        if re.search(r"encrypted|sealed|cipher", field.name) and field not in encrypted
    ]
    assert named == []
