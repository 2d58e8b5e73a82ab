"""Background work for health: thin, idempotent, taking ids."""

from django.db import transaction
from django.tasks import task

from gonghui.health import llm


@task()
def checkup_llm_summary_task(checkup_id: int) -> None:
    llm.checkup_summary_run(checkup_id=checkup_id)


def queue_summaries(checkup_ids: list[int]) -> None:
    """After the import's commit, one summary task per new check-up (when a model is set up)."""
    if not checkup_ids or not llm.enabled():
        return
    ids = list(checkup_ids)
    transaction.on_commit(lambda: [checkup_llm_summary_task.enqueue(i) for i in ids])
