"""Encryption at rest for personal data (个人信息保护法 art. 28).

Ciphertext text form: ``v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``. The key id travels
with every value, so a key rotation only changes ``PII_ACTIVE_KEY_ID``; old values stay readable
until `rotate_pii_keys` rewrites them. Columns holding these values are declared with the fields
of `gonghui.core.fields`, which is how the rotation finds them. Lookups use a keyed HMAC blind
index, never the plaintext.
"""

import base64
import binascii
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


class BulkSealer:
    """`encrypt` and `blind_index` for many values of one purpose (a bulk import), with the
    keys set up once instead of once per value. The output is exactly that of the two
    functions: same format and associated data, and a fresh nonce for every value (the caller
    may hand in nonces drawn in bulk from `os.urandom`)."""

    def __init__(self, purpose: str):
        kid = settings.PII_ACTIVE_KEY_ID
        self._aead = _keys()[kid]
        self._purpose = purpose.encode()
        self._prefix = f"{PREFIX}:{kid}:"
        key = _blind_key()
        if len(key) > 64:  # HMAC-SHA256 by hand (RFC 2104), so the keyed state is computed once
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._inner.update(f"{purpose}\x1f".encode())
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def blind(self, normalized: str) -> str:
        """`blind_index` of a value already stripped and upper-cased."""
        inner = self._inner.copy()
        inner.update(normalized.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def encrypt(self, plaintext: str, nonce: bytes | None = None) -> str:
        nonce = nonce or os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._purpose)
        return self._prefix + binascii.b2a_base64(nonce + sealed, newline=False).decode()


def mask_middle(value: str, *, head: int = 4, tail: int = 4) -> str:
    """`320402199001011234` → `3204**********1234`."""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_phone(value: str) -> str:
    return mask_middle(value, head=3, tail=4) if value else ""
