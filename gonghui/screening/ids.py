"""ID numbers as agencies send them: 18 digits (last may be x), or the old 15-digit number
(GB 11643-1989: no century, no check character), which becomes its 18-digit form."""

import re

from gonghui.core.identifiers import IdentifierError, id_check_char, normalize_id_number, parse_resident_id

OLD_ID = re.compile(r"^[0-9]{15}$")


def upgrade_15(number: str) -> str:
    """`320502850101123` → `32050219850101123X`-style: the century 19 inserted, the check added."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + id_check_char(first17)


def normalise_agency_id(raw: str) -> str:
    """The validated 18-digit number (upper-case X) of what an agency file holds; raises
    `IdentifierError` with the Chinese reason."""
    number = normalize_id_number(raw).replace(" ", "")
    if OLD_ID.match(number):
        number = upgrade_15(number)
    elif len(number) == 15:
        raise IdentifierError("15位身份证号码应全部为数字")
    return parse_resident_id(number).number


__all__ = ["IdentifierError", "normalise_agency_id", "upgrade_15"]
