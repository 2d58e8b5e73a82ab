"""Re-encrypt every registered encrypted column under the active key (PII_ACTIVE_KEY_ID).

Rotation: add the new key to PII_KEYS, make it active, deploy, run this command, then drop the
old key from PII_KEYS once the command reports nothing left under it."""

import json
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from gonghui.core import audit, crypto


class Command(BaseCommand):
    help = "Re-encrypt personal data under the active PII key, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        active = settings.PII_ACTIVE_KEY_ID
        summary: dict[str, int] = {}
        for model_label, field, purpose in crypto.ENCRYPTED_FIELDS:
            model = apps.get_model(model_label)
            rewritten = 0
            last_pk = 0
            while True:
                with transaction.atomic():
                    rows = list(
                        model.objects.select_for_update()
                        .filter(pk__gt=last_pk)
                        .exclude(**{field: ""})
                        .exclude(**{f"{field}__startswith": f"{crypto.PREFIX}:{active}:"})
                        .order_by("pk")
                        .only("pk", field)[: options["batch_size"]]
                    )
                    if not rows:
                        break
                    for row in rows:
                        plain = crypto.decrypt(getattr(row, field), purpose=purpose)
                        setattr(row, field, crypto.encrypt(plain, purpose=purpose))
                    model.objects.bulk_update(rows, [field])
                    last_pk = rows[-1].pk
                    rewritten += len(rows)
            summary[f"{model_label}.{field}"] = rewritten
        with transaction.atomic():
            audit.record(actor=None, action="pii.rotate", detail={"active_key": active, "rewritten": summary})
        self.stdout.write(json.dumps({"active_key": active, "rewritten": summary}, ensure_ascii=False))
