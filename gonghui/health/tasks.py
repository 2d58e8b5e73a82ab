"""Background work for health: thin, idempotent, taking ids."""

from django.tasks import task

from gonghui.health import services


@task()
def import_batch_task(batch_id: int) -> None:
    services.import_batch_run(batch_id=batch_id)


@task()
def checkup_llm_summary_task(checkup_id: int) -> None:
    from gonghui.health import llm
    from gonghui.health.models import Checkup, LlmStatus
    from gonghui.health.report import build_report

    checkup = Checkup.objects.select_related("member__organization").get(pk=checkup_id)
    if checkup.llm_status == LlmStatus.ACCEPTED:
        return
    outcome = llm.summarise(build_report(checkup))
    if outcome.status != LlmStatus.NONE:
        services.checkup_llm_summary_store(
            checkup_id=checkup_id, status=outcome.status, text=outcome.text, reason=outcome.reason
        )
