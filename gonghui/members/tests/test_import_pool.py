"""The encryption pool: a worker that cannot start fails the import at once (it used to be
replaced by a new worker that failed the same way, for ever, with the import's transaction
open), and nothing is written."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gonghui.members import imports
from gonghui.members.benchmarks import HEADER, IMPORT_REGIONS, synthetic_rows
from gonghui.members.import_models import ImportBatch, ImportStatus
from gonghui.members.imports import rows
from gonghui.members.tests.test_import_commit import registry_fingerprint
from gonghui.members.tests.test_import_kill import children_of, wait_until_gone
from gonghui.site.testing import World


@pytest.fixture
def deadline() -> Iterator[None]:
    """A hang fails the test instead of stalling the suite."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError("the import hung")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _csv(tmp_path: Path, count: int) -> str:
    lines = [",".join(HEADER[1:])]
    lines += [",".join(row) for row in synthetic_rows(count, seed=5, regions=IMPORT_REGIONS)]
    path = tmp_path / "members.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _detach_fails(parent: int) -> None:
    raise OSError("detach refused")


@pytest.mark.django_db(transaction=True)
def test_a_pool_worker_that_cannot_start_fails_the_import_without_hanging(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deadline: None
) -> None:
    monkeypatch.setattr("gonghui.members.imports.run.POOL_MIN_ROWS", 0)
    monkeypatch.setattr(rows, "_detach_from_parent", _detach_fails)
    path = _csv(tmp_path, 50)
    before = registry_fingerprint()

    with pytest.raises(OSError, match="detach refused"):
        imports.import_file(path=path, organization=world.union_a, workers=2)

    wait_until_gone(children_of(os.getpid()))
    assert registry_fingerprint() == before
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created) == (ImportStatus.FAILED, 0)
