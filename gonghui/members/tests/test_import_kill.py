"""Kill the task worker in the middle of an import: the registry must be exactly as before, and
the batch can be resumed from the kept file without uploading it again."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction

from gonghui.core.errors import Conflict
from gonghui.core.models import AuditEvent
from gonghui.members import imports
from gonghui.members.benchmarks import HEADER, IMPORT_REGIONS, synthetic_rows
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.imports import rows
from gonghui.members.models import Member
from gonghui.members.tests.test_import_commit import registry_fingerprint
from gonghui.site.testing import World

ROWS = 25_000


def worker_env() -> dict[str, str]:
    """The worker subprocess talks to this test's database."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }


def start_worker(*extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.1", *extra],
        cwd=Path(django_settings.BASE_DIR),
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def csv_content() -> bytes:
    lines = [",".join(HEADER[1:])]
    lines += [",".join(row) for row in synthetic_rows(ROWS, seed=11, regions=IMPORT_REGIONS)]
    return ("\n".join(lines) + "\n").encode()


def children_of(pid: int) -> set[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.add(int(entry.name))
    return children


def wait_until_gone(pids: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while alive := {pid for pid in pids if Path(f"/proc/{pid}").exists() and "(Z)" not in _state(pid)}:
        assert time.monotonic() < deadline, f"processes {sorted(alive)} outlived the killed worker"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return "(%s)" % (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
    except OSError:
        return "(Z)"


def wait_until_unlocked(batch: ImportBatch, timeout: float = 20) -> None:
    """The killed worker's transaction is over once its row lock on the batch is gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with transaction.atomic():
                ImportBatch.objects.select_for_update(nowait=True).filter(pk=batch.pk).exists()
        except DatabaseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_worker_leaves_the_registry_unchanged_and_the_batch_resumes(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    batch = imports.import_batch_upload(
        actor=world.staff_a, organization=world.union_a, file_name="大批量.csv", content=csv_content()
    )
    assert (batch.rows_valid, batch.rows_invalid) == (ROWS, 0)
    before = registry_fingerprint()
    imports.import_batch_commit(actor=world.staff_a, batch=batch, keep_good_rows=False)

    worker = start_worker()
    try:
        deadline = time.monotonic() + 120
        while True:
            batch.refresh_from_db()
            progress = imports.import_progress(batch)
            if progress.done > 0:
                break
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never reported progress"
            time.sleep(0.01)
        encrypters = children_of(worker.pid)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=30)

    # Killed while the import transaction was open: rows written but not yet committed. The
    # encryption processes it had forked die with it (they must not keep its connection open).
    assert 0 < progress.done < ROWS
    assert encrypters, "the import ran without its encryption processes"
    wait_until_gone(encrypters)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING
    wait_until_unlocked(batch)
    assert registry_fingerprint() == before
    assert not AuditEvent.objects.filter(action="member.import", object_id=str(batch.pk)).exists()

    # The page offers to resume once the progress has gone stale; the run starts over.
    settings.MEMBER_IMPORT_STALE_SECONDS = 0
    assert imports.import_progress(batch).interrupted is True
    imports.import_batch_resume(actor=world.staff_a, batch=batch)
    with pytest.raises(Conflict):
        imports.import_batch_resume(actor=world.staff_a, batch=ImportBatch.objects.get(pk=batch.pk))
    finisher = start_worker("--batch")
    try:
        finisher.wait(timeout=180)
    finally:
        if finisher.poll() is None:
            finisher.kill()
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.updated) == (ImportStatus.SUCCEEDED, ROWS, 0)
    assert batch.job is not None and (batch.job.status, batch.job.attempts) == ("succeeded", 2)
    assert Member.objects.count() == before[0] + ROWS
    assert Member.objects.filter(organization=world.union_a).count() == ROWS + 1
    event = AuditEvent.objects.get(action="member.import", object_id=str(batch.pk))
    assert (event.result, event.detail["created"]) == ("ok", ROWS)


def _sigterm_handling(_: object) -> str:
    return "default" if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL else "inherited"


def test_encryption_workers_die_of_the_sigterm_that_ends_their_pool() -> None:
    """Under db_worker, SIGTERM only asks for a graceful stop after the running task. A pool
    worker that kept that handler would outlive `Pool.terminate()` and the import would wait
    for it forever (seen in a full run: the resumed import of the kill test hung in join)."""
    graceful = signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(1, initializer=rows._pool_init, initargs=(None, os.getpid())) as pool:
            assert pool.apply(_sigterm_handling, (None,)) == "default"
    finally:
        signal.signal(signal.SIGTERM, graceful)
