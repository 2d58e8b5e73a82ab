"""Re-encrypt every encrypted column and stored encrypted file under the active key
(PII_ACTIVE_KEY_ID).

The columns are found in the app registry: every model field declared as an
`EncryptedTextField` or `EncryptedFileNameField` (gonghui/core/fields.py), so nothing has to be
listed here; files an app seals in its own private storage are those it registers with
`registry.sealed_files` (each rewritten in place: a new file renamed over the old one). Rotation: add the new key to PII_KEYS, make it active, deploy, run this command,
then drop the old key from PII_KEYS once the command reports nothing left under it."""

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db import models, transaction

from gonghui.core import audit, crypto, registry
from gonghui.core.fields import EncryptedFileNameField, EncryptedTextField, encrypted_fields


class Command(BaseCommand):
    help = "Re-encrypt personal data under the active PII key, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        active = settings.PII_ACTIVE_KEY_ID
        summary: dict[str, int] = {}
        for field in encrypted_fields():
            if isinstance(field, EncryptedFileNameField):
                rewritten = _rotate_files(field, active=active)
            else:
                rewritten = _rotate_column(field, active=active, batch_size=options["batch_size"])
            summary[f"{field.model._meta.label}.{field.name}"] = rewritten
        for sealed in registry.sealed_file_sets():
            summary[sealed.label] = _reseal_files(sealed, active=active)
        left = remaining_under_other_keys(active=active)
        with transaction.atomic():
            audit.record(
                actor=None, action="pii.rotate", detail={"active_key": active, "rewritten": summary, "left": left}
            )
        self.stdout.write(json.dumps({"active_key": active, "rewritten": summary, "left": left}, ensure_ascii=False))


def _not_under(field: models.Field[Any, Any], active: str) -> models.QuerySet[Any]:
    model = field.model
    return (
        model._base_manager.exclude(**{field.name: ""})
        .exclude(**{f"{field.name}__isnull": True})
        .exclude(**{f"{field.name}__startswith": f"{crypto.PREFIX}:{active}:"})
    )


def _rotate_column(field: EncryptedTextField, *, active: str, batch_size: int) -> int:
    rewritten = 0
    last_pk: Any = None
    while True:
        with transaction.atomic():
            rows = _not_under(field, active).select_for_update().order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.only("pk", field.name)[:batch_size])
            if not batch:
                return rewritten
            for row in batch:
                setattr(row, field.name, field.seal(field.open(getattr(row, field.name))))
            field.model._base_manager.bulk_update(batch, [field.name])
            last_pk = batch[-1].pk
            rewritten += len(batch)


def _rotate_files(field: EncryptedFileNameField, *, active: str) -> int:
    """A file is rewritten into a new file; the row then points at it and the old file is
    removed once that is committed (a failure in between leaves the old file, still readable)."""
    rewritten = 0
    model = field.model
    for pk, stored_name in model._base_manager.exclude(**{field.name: ""}).values_list("pk", field.name):
        with transaction.atomic():
            row = model._base_manager.select_for_update().filter(pk=pk, **{field.name: stored_name}).first()
            if row is None or not default_storage.exists(stored_name):
                continue
            token = field.read_token(stored_name)
            if crypto.key_id_of(token) == active:
                continue
            new_name = field.save_sealed(stored_name, field.open(token))
            model._base_manager.filter(pk=pk).update(**{field.name: new_name})
            transaction.on_commit(partial(default_storage.delete, stored_name))
            rewritten += 1
    return rewritten


TOKEN_HEAD = 200


def sealed_key_id(path: Path) -> str | None:
    """The key id a sealed file's token names (None: the file is gone)."""
    try:
        with path.open("rb") as handle:
            return crypto.key_id_of(handle.read(TOKEN_HEAD).decode("ascii"))
    except FileNotFoundError:
        return None


def _reseal_files(sealed: registry.SealedFiles, *, active: str) -> int:
    """Each file not under `active` is sealed again into a sibling file that then replaces it
    (`os.replace`: a reader sees the old file or the new one, a failure leaves the old one)."""
    rewritten = 0
    for found in sealed.paths():
        path = Path(found)
        kid = sealed_key_id(path)
        if kid is None or kid == active:
            continue
        token = crypto.encrypt(crypto.decrypt(path.read_text("ascii"), purpose=sealed.purpose), purpose=sealed.purpose)
        fresh = path.with_name(path.name + ".rotating")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(token)
        os.replace(fresh, path)
        rewritten += 1
    return rewritten


def remaining_under_other_keys(*, active: str) -> dict[str, int]:
    """How many values of each encrypted column are still sealed under a key other than
    `active` (files are opened to read their key id); only non-zero counts are listed."""
    left: dict[str, int] = {}
    for field in encrypted_fields():
        if isinstance(field, EncryptedFileNameField):
            names = field.model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
            count = sum(
                1
                for name in names
                if default_storage.exists(name) and crypto.key_id_of(field.read_token(name)) != active
            )
        else:
            count = _not_under(field, active).count()
        if count:
            left[f"{field.model._meta.label}.{field.name}"] = count
    for sealed in registry.sealed_file_sets():
        count = sum(1 for path in sealed.paths() if sealed_key_id(Path(path)) not in (None, active))
        if count:
            left[sealed.label] = count
    return left
