from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui.benefits import codes

bodies = st.text(alphabet="0123456789", min_size=codes.BODY_DIGITS, max_size=codes.BODY_DIGITS)


@given(bodies)
def test_every_single_digit_substitution_is_detected(body: str) -> None:
    code = body + codes.damm_check_digit(body)
    assert codes.is_valid(code)
    for position in range(len(code)):
        for digit in "0123456789":
            if digit == code[position]:
                continue
            typo = code[:position] + digit + code[position + 1 :]
            assert not codes.is_valid(typo), (code, typo)


@given(bodies)
def test_every_adjacent_transposition_is_detected(body: str) -> None:
    code = body + codes.damm_check_digit(body)
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        assert not codes.is_valid(swapped), (code, swapped)


def test_generated_codes_are_fourteen_digits_with_a_valid_check_digit() -> None:
    generated = {codes.generate() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert len(code) == 14
        assert code.isdigit()
        assert codes.is_valid(code)
    # 13 random digits: leading digits spread over 0-9 (zero-padded, not dropped).
    assert {code[0] for code in generated} == set("0123456789")


def test_entropy_is_at_least_forty_bits() -> None:
    import math

    assert math.log2(10**codes.BODY_DIGITS) >= 40


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1234 5678 9012 34", "12345678901234"), ("1234-5678-9012-34", "12345678901234"), (" 12 ", "12")],
)
def test_normalize_strips_separators(raw: str, expected: str) -> None:
    assert codes.normalize(raw) == expected


def test_non_digits_and_wrong_lengths_are_invalid() -> None:
    code = codes.generate()
    assert not codes.is_valid(code[:-1])
    assert not codes.is_valid(code + "0")
    assert not codes.is_valid("a" + code[1:])
    assert not codes.is_valid("١" + code[1:])  # a non-ASCII digit


def test_display_and_masked_forms() -> None:
    assert codes.display("12345678901234") == "1234 5678 9012 34"
    assert codes.masked("12345678901234") == "1234 **** **** 34"


def test_qr_is_a_data_uri_of_a_standalone_svg() -> None:
    """An SVG loaded through `<img>` renders only if it declares the SVG namespace."""
    uri = codes.qr_data_uri(codes.generate())
    assert uri.startswith("data:image/svg+xml;charset=utf-8,")
    svg = unquote(uri.split(",", 1)[1])
    assert svg.startswith("<svg xmlns='http://www.w3.org/2000/svg' ")
