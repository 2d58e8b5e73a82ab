"""The tracking code an anonymous submitter keeps: only its keyed hash is stored with the item."""

import hashlib
import hmac
import secrets

from django.conf import settings

TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 12


def tracking_hash(code: str) -> str:
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hmac.new(
        settings.SECRET_KEY.encode(), b"suggestion-tracking:" + normalised.encode(), hashlib.sha256
    ).hexdigest()


def new_tracking_code() -> str:
    raw = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, TRACKING_LENGTH, 4))


def code_matches(stored_hash: str, code: str) -> bool:
    return bool(stored_hash and code.strip()) and hmac.compare_digest(stored_hash, tracking_hash(code))
