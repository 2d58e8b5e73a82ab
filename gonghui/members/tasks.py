"""Background work of the members domain. Tasks take ids and are safe to run twice."""

from typing import Any

from django.tasks import task

from gonghui.members import imports


@task()
def import_batch_commit_task(batch_id: int) -> dict[str, Any]:
    """Commit a checked import batch (all-or-nothing unless the batch keeps good rows only).
    A second delivery finds the batch no longer queued and does nothing."""
    return imports.import_batch_run(batch_id=batch_id)
