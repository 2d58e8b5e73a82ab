"""Turning a raw ID number and name into what the member table stores."""

import secrets
from dataclasses import dataclass

from gonghui.core import crypto
from gonghui.core.identifiers import ResidentId, normalize_id_number, parse_resident_id
from gonghui.core.pinyin import initials

ID_PURPOSE = "member.id_number"


@dataclass(frozen=True, slots=True)
class StoredIdentity:
    resident: ResidentId
    encrypted: str
    blind: str
    masked: str


def protect_id_number(resident: ResidentId) -> StoredIdentity:
    return StoredIdentity(
        resident=resident,
        encrypted=crypto.encrypt(resident.number, purpose=ID_PURPOSE),
        blind=crypto.blind_index(resident.number, purpose=ID_PURPOSE),
        masked=crypto.mask_middle(resident.number),
    )


def identity_from_raw(raw: str) -> StoredIdentity:
    return protect_id_number(parse_resident_id(raw))


def id_blind_index(raw: str) -> str:
    return crypto.blind_index(normalize_id_number(raw), purpose=ID_PURPOSE)


def decrypt_id_number(encrypted: str) -> str:
    return crypto.decrypt(encrypted, purpose=ID_PURPOSE)


def mask_name(name: str) -> str:
    """张三丰 → 张**: the surname and one star per remaining character."""
    return name[0] + "*" * (len(name) - 1) if name else ""


def name_initials(name: str) -> str:
    """`张三` → `zs`; surnames read with their usual pronunciation."""
    return initials(name, max_length=20)


def new_member_no() -> str:
    return "HY" + "".join(str(secrets.randbelow(10)) for _ in range(14))


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def new_card_no() -> str:
    body = "8" + "".join(str(secrets.randbelow(10)) for _ in range(17))
    return body + luhn_check_digit(body)
