"""Encryption at rest for personal data (个人信息保护法 art. 28).

Ciphertext text form: ``v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``. The key id travels
with every value, so a key rotation only changes ``PII_ACTIVE_KEY_ID``; old values stay readable
until `rotate_pii_keys` rewrites them. Lookups use a keyed HMAC blind index, never the plaintext.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"


@lru_cache(maxsize=1)
def _keys() -> dict[str, AESGCM]:
    keys: dict[str, AESGCM] = {}
    for pair in settings.PII_KEYS.split(","):
        kid, _, b64 = pair.strip().partition(":")
        raw = base64.b64decode(b64)
        if not kid or len(raw) != 32:
            raise ImproperlyConfigured("PII_KEYS entries must be 'kid:<base64 of 32 bytes>'")
        keys[kid] = AESGCM(raw)
    if settings.PII_ACTIVE_KEY_ID not in keys:
        raise ImproperlyConfigured("PII_ACTIVE_KEY_ID names no key in PII_KEYS")
    return keys


@lru_cache(maxsize=1)
def _blind_key() -> bytes:
    return base64.b64decode(settings.BLIND_INDEX_KEY)


def reset_key_cache() -> None:
    _keys.cache_clear()
    _blind_key.cache_clear()


def encrypt(plaintext: str, *, purpose: str) -> str:
    """Encrypt `plaintext`; `purpose` is bound as associated data so a ciphertext copied
    into another column (an ID number pasted into a bank field) fails to decrypt."""
    kid = settings.PII_ACTIVE_KEY_ID
    nonce = os.urandom(12)
    sealed = _keys()[kid].encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str) -> str:
    prefix, kid, b64 = token.split(":", 2)
    if prefix != PREFIX:
        raise ValueError("unknown ciphertext version")
    raw = base64.b64decode(b64)
    return _keys()[kid].decrypt(raw[:12], raw[12:], purpose.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed, deterministic digest for exact-match lookup of an encrypted value."""
    normalized = value.strip().upper()
    return hmac.new(_blind_key(), f"{purpose}\x1f{normalized}".encode(), hashlib.sha256).hexdigest()


def mask_middle(value: str, *, head: int = 4, tail: int = 4) -> str:
    """`320402199001011234` → `3204**********1234`."""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_phone(value: str) -> str:
    return mask_middle(value, head=3, tail=4) if value else ""


# (app_label.ModelName, field name, purpose) of every encrypted column, registered by each
# app's AppConfig.ready(); `rotate_pii_keys` re-encrypts them under the active key.
ENCRYPTED_FIELDS: list[tuple[str, str, str]] = []


def register_encrypted_field(model_label: str, field: str, purpose: str) -> None:
    entry = (model_label, field, purpose)
    if entry not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append(entry)
