"""Background work for health: thin, idempotent, taking ids."""

from django.tasks import task

from gonghui.health import llm


@task()
def checkup_llm_summary_task(checkup_id: int) -> None:
    llm.checkup_summary_run(checkup_id=checkup_id)
