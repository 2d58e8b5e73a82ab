"""Bulk member import (信息采集 → 数据核对 → 系统导入).

Upload (CSV or XLSX) → dry run: every row is validated with the same rules as the member form
(`services.clean_member_fields`, `core.identifiers`) and checked against the registry; the
problems are kept as `ImportIssue` rows for the report → commit, as a background task: the file
is read again, every row validated again, and the rows stream into the member table inside ONE
transaction, so a failed or killed import leaves the registry exactly as it was.

Speed (a province imports hundreds of thousands of rows at a time):
- rows are parsed, validated, encrypted and blind-indexed in chunks, by a pool of forked worker
  processes when the file is large; per-field validation results are memoised per distinct value
  (a 民族 or 入会日期 column holds few of them), the ID number check digit and birth date are
  computed from memoised parts, and AES-GCM / HMAC keys are set up once per worker;
- on PostgreSQL new members go straight into the member table with `COPY` (every constraint
  still enforced by the database), members already registered are locked, merged in Python and
  written through a temporary table with one `UPDATE … FROM`; SQLite (the demo) uses the ORM;
- progress goes to the cache (file cache in the demo, Redis in production), so a page can
  show it while the import transaction is still open.

The commit is a `core.Job` of kind `members.import` (queued, claimed by one worker, recovered
after a dead worker, shown on 后台任务); see `batches`.

The package, in the order a row travels: `columns` (the kernel column spec `members.import`:
headers, aliases, choices; limits), `readers` (the kernel's tabular reader as chunk tasks),
`rows` (validation and encryption, in worker processes), `sinks` (the database writes), `run`
(one pass over a file), `batches` (the batch's life: upload, dry run, commit job, progress,
resume, cancel, expiry), `spreadsheets` (template and error report). Callers use the
names exported here.
"""

from gonghui.members.imports.batches import (
    IMPORT_CRASHED,
    IMPORT_JOB,
    commit_stream,
    import_batch_cancel,
    import_batch_commit,
    import_batch_get_for_actor,
    import_batch_job,
    import_batch_list_for_actor,
    import_batch_resume,
    import_batch_run,
    import_batch_upload,
    import_batches_expire,
    import_file,
    import_job_changed,
    import_job_resumable,
    import_progress,
)
from gonghui.members.imports.columns import (
    COLUMNS,
    CSV_BLOCK_BYTES,
    ROW_PURPOSE,
    WEB_MAX_BYTES,
    WEB_MAX_ROWS,
    default_workers,
    map_header,
    stale_after_seconds,
)
from gonghui.members.imports.rows import RowTransformer, TransformSpec, fast_luhn_check_digit
from gonghui.members.imports.run import ImportRun, Outcome, Rejected
from gonghui.members.imports.sinks import Existing, PostgresSink
from gonghui.members.imports.spreadsheets import import_error_report, import_template

__all__ = [
    "COLUMNS",
    "CSV_BLOCK_BYTES",
    "IMPORT_CRASHED",
    "IMPORT_JOB",
    "ROW_PURPOSE",
    "WEB_MAX_BYTES",
    "WEB_MAX_ROWS",
    "Existing",
    "ImportRun",
    "Outcome",
    "PostgresSink",
    "Rejected",
    "RowTransformer",
    "TransformSpec",
    "commit_stream",
    "default_workers",
    "fast_luhn_check_digit",
    "import_batch_cancel",
    "import_batch_commit",
    "import_batch_get_for_actor",
    "import_batch_job",
    "import_batch_list_for_actor",
    "import_batch_resume",
    "import_batch_run",
    "import_batch_upload",
    "import_batches_expire",
    "import_error_report",
    "import_file",
    "import_job_changed",
    "import_job_resumable",
    "import_progress",
    "import_template",
    "map_header",
    "stale_after_seconds",
]
