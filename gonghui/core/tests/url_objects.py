"""How to build union A's object for each parameterised URL of the kernel (see
site/tests/test_url_access.py)."""

from gonghui.core.models import Job
from gonghui.site.testing import World


def _export_job(world: World) -> dict[str, int]:
    job = Job.objects.create(kind="export.members.list", organization=world.union_a, created_by=world.staff_a)
    return {"pk": job.pk}


URL_OBJECTS = {
    "core:export_detail": _export_job,
    "core:export_progress": _export_job,
    "core:export_file": _export_job,
    "core:export_cancel": _export_job,
}
