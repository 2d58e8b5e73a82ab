"""Building agency files and running their jobs, for the screening tests."""

import csv
import datetime as dt
import io
from typing import Any

from gonghui.core import jobs
from gonghui.members.identity import decrypt_id_number
from gonghui.members.models import Member
from gonghui.screening import services
from gonghui.screening.models import Dataset, Run


def id_of(member: Member) -> str:
    return decrypt_id_number(member.id_number_encrypted)


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(actor: Any, org: Any, kind: str, content: bytes, filename: str = "data.csv", name: str = "") -> Dataset:
    dataset = services.dataset_upload(
        actor=actor, organization=org, kind=kind, name=name, filename=filename, content=content
    )
    jobs.job_execute(job_id=dataset.job_id)
    return Dataset.objects.select_related("job").get(pk=dataset.pk)


def run(actor: Any, org: Any, *, engine: str = "duckdb", reference_date: dt.date | None = None) -> Run:
    started = services.run_start(actor=actor, organization=org, engine=engine, reference_date=reference_date)
    jobs.job_execute(job_id=started.job_id)
    return Run.objects.select_related("job").get(pk=started.pk)
