import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui.core.identifiers import (
    IdentifierError,
    id_check_char,
    make_resident_id,
    parse_resident_id,
    uscc_check_char,
    validate_phone,
    validate_uscc,
)

TODAY = dt.date(2026, 11, 22)


def test_known_id_number_parses_with_birth_date_and_sex() -> None:
    # The worked example of GB 11643-1999 appendix: 11010519491231002X.
    resident = parse_resident_id("11010519491231002x", today=TODAY)
    assert resident.number == "11010519491231002X"
    assert resident.birth_date == dt.date(1949, 12, 31)
    assert resident.sex == "F"
    assert resident.region_code == "110105"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010519491231002", "身份证号码应为18位，前17位为数字，末位为数字或X"),
        ("110105194912310021", "身份证号码校验位错误"),
        ("1101051949123100AX", "身份证号码应为18位，前17位为数字，末位为数字或X"),
    ],
)
def test_bad_id_numbers_get_a_chinese_reason(raw: str, message: str) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_resident_id(raw, today=TODAY)
    assert str(info.value) == message


def test_impossible_and_future_birth_dates_are_refused() -> None:
    feb30 = "32050819900230001"
    with pytest.raises(IdentifierError, match="出生日期不存在"):
        parse_resident_id(feb30 + id_check_char(feb30), today=TODAY)
    future = "32050820300101001"
    with pytest.raises(IdentifierError, match="出生日期不合理"):
        parse_resident_id(future + id_check_char(future), today=TODAY)


@given(
    birth=st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2008, 12, 31)),
    seq=st.integers(min_value=0, max_value=499),
    sex=st.sampled_from(["M", "F"]),
)
def test_generated_numbers_round_trip(birth: dt.date, seq: int, sex: str) -> None:
    resident = parse_resident_id(make_resident_id("320508", birth, seq, sex), today=TODAY)
    assert (resident.birth_date, resident.sex) == (birth, sex)


@given(
    birth=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2000, 12, 31)),
    seq=st.integers(min_value=0, max_value=499),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_every_single_digit_error_is_caught_by_the_check_digit(
    birth: dt.date, seq: int, position: int, delta: int
) -> None:
    number = make_resident_id("320508", birth, seq, "M")
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert id_check_char("".join(digits[:17])) != number[17]


def test_phone_numbers_are_normalised_or_refused() -> None:
    assert validate_phone("+86 139-1234-5678") == "13912345678"
    with pytest.raises(IdentifierError, match="11位"):
        validate_phone("12912345678")


def test_unified_social_credit_code_check_character() -> None:
    body = "91320508MA1MXXXX0"
    code = body + uscc_check_char(body)
    assert validate_uscc(code.lower()) == code
    wrong = body + ("0" if code[-1] != "0" else "1")
    with pytest.raises(IdentifierError, match="校验位错误"):
        validate_uscc(wrong)
    with pytest.raises(IdentifierError, match="18位"):
        validate_uscc("91320508MA1MXXXXO1")  # the letter O is not in the code alphabet


def test_full_width_digits_are_normalised_not_reported_as_a_bad_check_digit() -> None:
    number = make_resident_id("320508", dt.date(1990, 3, 7), 12, "M")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # ３２０５… as a Chinese IME types it
    resident = parse_resident_id(" %s " % full_width)
    assert (resident.number, resident.birth_date, resident.sex) == (number, dt.date(1990, 3, 7), "M")
