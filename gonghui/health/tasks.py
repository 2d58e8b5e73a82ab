"""Background work for health: thin, idempotent, taking ids."""

from django.tasks import task

from gonghui.health import llm, services


@task()
def import_batch_task(batch_id: int) -> None:
    services.import_batch_run(batch_id=batch_id)


@task()
def checkup_llm_summary_task(checkup_id: int) -> None:
    llm.checkup_summary_run(checkup_id=checkup_id)
