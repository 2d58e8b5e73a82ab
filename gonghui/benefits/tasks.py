"""Background work of the benefits domain. Tasks take ids and are safe to run twice."""

from django.tasks import task

from gonghui.benefits import services


@task()
def issue_run_task(run_id: int) -> None:
    """定向发放 for one IssueRun (resumes after its cursor if it was interrupted)."""
    services.issue_run_execute(run_id=run_id)
