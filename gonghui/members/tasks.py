"""Background work of the members domain. Tasks take ids and are safe to run twice.

The import commit's task lives beside the batch it commits (`imports.batches`), so that queuing
it needs no import of this module back from the import package; it is named here as well."""

from gonghui.members.imports.batches import import_batch_commit_task

__all__ = ["import_batch_commit_task"]
