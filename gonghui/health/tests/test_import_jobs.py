"""Every health import ends done or failed and never keeps its file: a malformed column
mapping, an unexpected error in the middle of a run, and a run whose worker died."""

import datetime as dt

import pytest
from django.utils import timezone

from gonghui.core import housekeeping
from gonghui.core.errors import ValidationFailed
from gonghui.core.models import AuditEvent
from gonghui.health import services
from gonghui.health.models import Checkup, ImportBatch, ImportStatus, Result
from gonghui.site.testing import World

pytestmark = pytest.mark.django_db

CSV = "身份证号,体检日期,项目代码,结果,单位\n{id},2025-06-03,GLU,5.8,mmol/L\n"


def _batch(world: World, content: bytes, mapping: dict | None = None) -> ImportBatch:  # type: ignore[type-arg]
    return services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="csv",
        filename="results.csv",
        content=content,
        mapping=mapping,
        enqueue=False,
    )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"columns": {"FBG": "GLU"}}, '列映射 columns 中“FBG”的写法应为 {"code": "项目代码", "unit": "单位"}'),
        ({"fields": ["id_number"]}, '列映射的 fields 必须是对象：{"字段名": "文件中的列名"}'),
        ({"fields": {"patient": "ID"}}, None),
        ({"colums": {}}, "列映射中有无法识别的项：colums（可用 fields、columns、centre）"),
    ],
)
def test_a_malformed_mapping_is_refused_at_upload(world: World, ids: dict[str, str], mapping, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        _batch(world, CSV.format(id=ids["a"]).encode(), mapping)
    if message is not None:
        assert refused.value.message == message
    assert refused.value.fields == {"mapping": refused.value.message}
    assert ImportBatch.objects.count() == 0


def test_a_malformed_mapping_stored_earlier_fails_the_batch_and_drops_the_file(
    world: World, ids: dict[str, str]
) -> None:
    batch = _batch(world, CSV.format(id=ids["a"]).encode())
    ImportBatch.objects.filter(pk=batch.pk).update(mapping={"columns": {"结果": "GLU"}})
    summary = services.import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    reason = '列映射 columns 中“结果”的写法应为 {"code": "项目代码", "unit": "单位"}'
    assert (batch.status, batch.payload_encrypted, summary["error"]) == (ImportStatus.FAILED, "", reason)
    assert batch.summary["error"] == reason and batch.finished_at is not None
    assert Result.objects.count() == 0


def test_an_unexpected_error_mid_run_fails_the_batch_drops_the_file_and_is_raised(
    world: World, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch(world, CSV.format(id=ids["a"]).encode())

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr(services, "results_store", broken)
    with pytest.raises(AttributeError):
        services.import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.payload_encrypted) == (ImportStatus.FAILED, "")
    assert batch.summary["error"] == services.IMPORT_CRASHED
    assert (Checkup.objects.count(), Result.objects.count()) == (0, 0)
    event = AuditEvent.objects.get(action="health.import")
    assert (event.result, event.detail["error"]) == ("failed", services.IMPORT_CRASHED)
    # A second delivery of the task finds the batch finished and leaves it so.
    assert services.import_batch_run(batch_id=batch.pk)["status"] == ImportStatus.FAILED


def test_housekeeping_fails_a_run_whose_worker_died_and_deletes_its_file(
    world: World, ids: dict[str, str], settings
) -> None:  # type: ignore[no-untyped-def]
    settings.JOB_STALE_SECONDS = 1800
    dead = _batch(world, CSV.format(id=ids["a"]).encode())
    live = _batch(world, CSV.format(id=ids["a"]).encode())
    now = timezone.now()
    ImportBatch.objects.filter(pk=dead.pk).update(status=ImportStatus.RUNNING, started_at=now - dt.timedelta(hours=1))
    ImportBatch.objects.filter(pk=live.pk).update(status=ImportStatus.RUNNING, started_at=now - dt.timedelta(minutes=5))
    chore = {c.name: c for c in housekeeping.chores()}["health_import_recover"]
    assert chore.run() == 1
    dead.refresh_from_db()
    live.refresh_from_db()
    assert (dead.status, dead.payload_encrypted) == (ImportStatus.FAILED, "")
    assert dead.summary["error"] == "后台任务中断（超过 30 分钟没有完成），未导入任何结果，上传的文件已删除；请重新上传"
    assert live.status == ImportStatus.RUNNING and live.payload_encrypted
    assert chore.run() == 0
