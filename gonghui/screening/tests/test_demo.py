import random
import time

import pytest
from django.utils import timezone

from gonghui.core import registry
from gonghui.core.permissions import Role
from gonghui.screening import demo
from gonghui.screening.models import Dataset, DatasetStatus, Run, RunStatus
from gonghui.site.testing import grant, make_member, make_user


@pytest.mark.django_db
def test_the_demo_seeder_uploads_four_agency_files_and_completes_a_run_quickly(world, capsys):
    grant(make_user("demo_handler"), world.city, Role.HANDLER)
    for i in range(demo.PEOPLE):
        make_member(world.union_a if i % 2 else world.union_b, name="演示%d" % i)
    context = registry.SeedContext(rng=random.Random(7), stdout=_Out(), today=timezone.localdate(), shared={})
    started = time.perf_counter()
    demo.seed(context)
    assert time.perf_counter() - started < 3
    assert Dataset.objects.filter(status=DatasetStatus.READY).count() == 4
    dibao = Dataset.objects.get(kind="mz_dibao")
    assert dibao.rows_failed == 1  # the 17-digit number, shown in the error report
    r = Run.objects.get()
    assert r.status == RunStatus.SUCCEEDED
    assert r.candidates_count == 12


class _Out:
    def write(self, text: str) -> None:
        print(text)
