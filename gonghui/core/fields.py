"""Model fields for ciphertext: every column (or stored file) that holds personal data sealed by
`gonghui.core.crypto` is declared with one of these, and that declaration is the whole
registration: `rotate_pii_keys` finds the columns by walking the app registry
(`encrypted_fields`), so a new encrypted column cannot be forgotten by the key rotation.

The fields hold the sealed text exactly as `crypto.encrypt` produces it
(``v1:<key id>:<base64>``), not the plaintext: bulk paths write tokens straight through COPY and
raw SQL (member import, redemption), and a value is decrypted only where it is shown, so the
field does not decrypt on every load. `seal` and `open` bind the column's `purpose` (the AEAD
associated data) so a caller cannot pair a column with the wrong one.

For migrations the fields deconstruct as the plain Django field they extend (`purpose` is not
schema), so switching a column to them changes neither its database type nor the migration
history, and migrations never import this module."""

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models

from gonghui.core import crypto


class EncryptedField:
    """What both encrypted fields share: the purpose their values are sealed for."""

    purpose: str
    name: str
    model: type[models.Model]

    def seal(self, plaintext: str) -> str:
        return crypto.encrypt(plaintext, purpose=self.purpose)

    def open(self, token: str) -> str:
        return crypto.decrypt(token, purpose=self.purpose)

    def clone(self) -> Any:
        """`Field.clone` rebuilds from `deconstruct`, which leaves `purpose` out."""
        field: Any = self
        _, _, args, kwargs = field.deconstruct()
        return type(field)(*args, purpose=self.purpose, **kwargs)


class EncryptedTextField(EncryptedField, models.TextField):  # type: ignore[misc]
    """A text column whose non-empty values are `crypto.encrypt(…, purpose=purpose)` tokens."""

    def __init__(self, *args: Any, purpose: str, **kwargs: Any):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


class EncryptedFileNameField(EncryptedField, models.CharField):  # type: ignore[misc]
    """The storage name (in `default_storage`) of a file whose content is one
    `crypto.encrypt(…, purpose=purpose)` token in ASCII; empty when there is no file."""

    def __init__(self, *args: Any, purpose: str, **kwargs: Any):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def save_sealed(self, name: str, plaintext: str) -> str:
        """Seal `plaintext` into a new file named like `name`; returns the stored name."""
        return default_storage.save(name, ContentFile(self.seal(plaintext).encode("ascii")))

    def read_token(self, stored_name: str) -> str:
        with default_storage.open(stored_name, "rb") as handle:
            token: bytes = handle.read()
        return token.decode("ascii")

    def open_file(self, stored_name: str) -> str:
        return self.open(self.read_token(stored_name))


def encrypted_fields() -> Iterator[EncryptedTextField | EncryptedFileNameField]:
    """Every encrypted column of every installed model (concrete models only)."""
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField | EncryptedFileNameField):
                yield field
