"""core.sql: the hand-written statements store and load exactly what the ORM would."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from gonghui.core import sql
from gonghui.core.models import AuditEvent, AuditResult, Device, DeviceNonce, IdempotentResponse, WorkflowCase
from gonghui.organizations.models import Organization

pytestmark = pytest.mark.django_db


def _device() -> Device:
    org = Organization.objects.create(code="SQL-D", name="设备工会", level=6, region_code="320500", path="SQLD.")
    return Device.objects.create(
        key_id="dev_sqltest",
        name="测试设备",
        kind="vending",
        organization=org,
        organization_path=org.path,
        secret_encrypted="x",
    )


def test_insert_sets_the_primary_key_and_stores_what_the_orm_reads_back() -> None:
    at = dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    event = AuditEvent(
        chain=3,
        seq=7,
        created_at=at,
        actor_label="系统",
        action="test.sql",
        ip="10.1.2.3",
        detail={"金额": 1500, "items": ["西瓜"]},
        prev_hash="0" * 64,
        hash="f" * 64,
    )
    with connection.cursor() as cursor:
        sql.insert(cursor, event)
    assert event.pk is not None and not event._state.adding
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.chain, stored.seq, stored.created_at, stored.ip, stored.detail, stored.result) == (
        3,
        7,
        at,
        "10.1.2.3",
        {"金额": 1500, "items": ["西瓜"]},
        "ok",  # the field's default, as save() would store it
    )


def test_insert_unless_exists_takes_a_key_once_and_changes_nothing_the_second_time() -> None:
    device = _device()
    now = timezone.now()
    with connection.cursor() as cursor:
        first = sql.insert_unless_exists(
            cursor, DeviceNonce, {"device": device.pk, "nonce": "n-1", "seen_at": now}, unique=("device", "nonce")
        )
        again = sql.insert_unless_exists(
            cursor,
            DeviceNonce,
            {"device": device.pk, "nonce": "n-1", "seen_at": now + dt.timedelta(minutes=1)},
            unique=("device", "nonce"),
        )
    assert (first, again) == (True, False)
    assert list(DeviceNonce.objects.values_list("nonce", "seen_at")) == [("n-1", now)]


def test_insert_unless_exists_stores_json_like_the_orm() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        sql.insert_unless_exists(
            cursor,
            IdempotentResponse,
            {"scope": "s", "key": "k", "status": 200, "body": {"结果": "已核销"}, "created_at": timezone.now()},
            unique=("scope", "key"),
        )
    assert IdempotentResponse.objects.get(scope="s", key="k").body == {"结果": "已核销"}


def test_loaded_defers_every_field_it_was_not_given(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    org = Organization.objects.create(code="SQL-1", name="测试工会", level=6, region_code="320500", path="SQL1.")
    partial = sql.loaded(Organization, id=org.pk, path="SQL1.", name="测试工会")
    assert partial.get_deferred_fields() >= {"code", "level", "region_code"}
    assert "name" not in partial.get_deferred_fields()
    with django_assert_num_queries(1):  # a deferred field is fetched, not guessed
        assert partial.code == "SQL-1"


def test_aware_reads_naive_values_as_utc() -> None:
    naive = dt.datetime(2026, 7, 1, 9, 30)
    assert sql.aware(naive) == dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
    shanghai = dt.datetime(2026, 7, 1, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert sql.aware(shanghai) is shanghai
    assert sql.aware(None) is None


class _Quoted(models.TextChoices):
    QUOTE = "it's", "带引号"


def test_table_and_choice_name_what_a_hand_written_statement_touches() -> None:
    assert sql.table(IdempotentResponse) == connection.ops.quote_name("core_idempotentresponse")
    assert sql.choice(AuditResult.DENIED) == "'%s'" % AuditResult.DENIED.value


def test_choice_refuses_a_value_that_would_need_escaping() -> None:
    with pytest.raises(ValueError):
        sql.choice(_Quoted.QUOTE)


def test_copy_rows_and_update_rows_store_what_the_orm_reads_back() -> None:
    org = Organization.objects.create(code="SQL-C", name="复制工会", level=6, region_code="320500", path="SQLC.")
    content_type = ContentType.objects.get_for_model(Organization)
    at = dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    rows = [
        (content_type.pk, org.pk, "w", "待办\t含制表符\\与换行\n", None, "", sql.db_datetime(at), None),
        (content_type.pk, org.pk + 1, "w", "done", 7, "A.B.", sql.db_datetime(at), None),
    ]
    names = ("content_type", "object_id", "workflow", "state", "escalated_org_id", "escalated_org_path")
    assert sql.copy_rows(WorkflowCase, (*names, "entered_at", "due_at"), rows) == 2
    cases = list(WorkflowCase.objects.filter(workflow="w").order_by("object_id"))
    assert [(c.state, c.escalated_org_id, c.escalated_org_path, c.entered_at, c.due_at) for c in cases] == [
        ("待办\t含制表符\\与换行\n", None, "", at, None),
        ("done", 7, "A.B.", at, None),
    ]
    cases[0].state, cases[0].escalated_org_id, cases[0].due_at = "改过", 9, at
    cases[1].state, cases[1].escalated_org_id = "也改过", None
    assert sql.update_rows(cases, ["state", "escalated_org_id", "due_at"]) == 2
    again = list(WorkflowCase.objects.filter(workflow="w").order_by("object_id"))
    assert [(c.state, c.escalated_org_id, c.due_at) for c in again] == [("改过", 9, at), ("也改过", None, None)]
    assert sql.update_rows([], ["state"]) == 0
