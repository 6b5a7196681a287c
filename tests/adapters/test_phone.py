# SPDX-License-Identifier: MIT
"""Phone numbers: E.164, national digits, extensions, and search candidates for exact-text CRMs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import phone


@pytest.mark.parametrize(
    "raw",
    [
        "+14155550123",
        "(415) 555-0123",
        "415-555-0123",
        "415.555.0123",
        "4155550123",
        "14155550123",
        "1-415-555-0123",
        "+1 (415) 555-0123",
        "+1 415-555-0123",
        "011 1 415 555 0123",
        "tel:+14155550123",
        " +1 415 555 0123 ",
    ],
)
def test_us_notations_normalise_to_e164(raw: str) -> None:
    assert phone.to_e164(raw, "US") == "+14155550123"


def test_default_region_reads_numbers_without_country_code() -> None:
    assert phone.to_e164("020 7946 0000", "GB") == "+442079460000"
    assert phone.to_e164("020 7946 0000", "US") is None
    assert phone.to_e164("+44 20 7946 0000", "US") == "+442079460000"


def test_national_digits_drop_country_code_and_trunk_prefix() -> None:
    assert phone.national_digits("+14155550123") == "4155550123"
    assert phone.national_digits("020 7946 0000", "GB") == "2079460000"


def test_italian_leading_zero_is_kept_in_national_digits() -> None:
    assert phone.national_digits("+39 06 1234 5678") == "0612345678"
    assert phone.to_e164("+39 06 1234 5678") == "+390612345678"


@pytest.mark.parametrize("raw", ["", "   ", "garbage", "12", "+1", "call me", "555-0123", "123456789012345"])
def test_unreadable_input_gives_none(raw: str) -> None:
    assert phone.to_e164(raw) is None
    assert phone.national_digits(raw) is None


@pytest.mark.parametrize(
    ("raw", "number", "ext"),
    [
        ("+13334445555#134", "+13334445555", "134"),
        ("(415) 555-0123 x12", "(415) 555-0123", "12"),
        ("415-555-0123 ext. 7", "415-555-0123", "7"),
        ("415-555-0123 extension 2001", "415-555-0123", "2001"),
        ("tel:+14155550123;ext=55", "tel:+14155550123", "55"),
        ("+14155550123", "+14155550123", None),
    ],
)
def test_split_extension_separates_a_trailing_extension(raw: str, number: str, ext: str | None) -> None:
    assert phone.split_extension(raw) == (number, ext)


def test_parse_keeps_the_extension_apart_from_the_number() -> None:
    parsed = phone.parse("+1 415 555 0123 x 42")
    assert parsed is not None
    assert (parsed.e164, parsed.extension, parsed.region) == ("+14155550123", "42", "US")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("101", True), ("1234", True), (" 102 ", True), ("+101", False), ("4155550123", False), ("5550123", False),
     ("ext", False), ("", False)],
)  # fmt: skip
def test_short_digit_strings_are_extensions(raw: str, expected: bool) -> None:
    assert phone.is_extension_number(raw) is expected


def test_same_number_compares_across_notations() -> None:
    assert phone.same_number("(415) 555-0123", "+14155550123")
    assert not phone.same_number("(415) 555-0124", "+14155550123")
    assert phone.same_number("101", "101")
    assert not phone.same_number("", "")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("+1-###-###-####", "+1-415-555-0123"),
        ("(###) ###-####", "(415) 555-0123"),
        ("1##########", "14155550123"),
        ("***.***.****", "415.555.0123"),
        ("###-####", None),
    ],
)
def test_user_patterns_fill_digits_left_to_right(pattern: str, expected: str | None) -> None:
    parsed = phone.parse("+14155550123")
    assert parsed is not None
    assert phone.apply_pattern(pattern, parsed) == expected


def test_search_candidates_start_with_e164_then_national_digits() -> None:
    candidates = phone.search_candidates("+14155550123")
    assert candidates[:3] == ["+14155550123", "4155550123", "14155550123"]
    for stored in ("(415) 555-0123", "415-555-0123", "415.555.0123", "+1 415-555-0123", "1-415-555-0123"):
        assert stored in candidates
    assert len(candidates) == len(set(candidates))


def test_search_candidates_put_user_patterns_before_generic_formats() -> None:
    candidates = phone.search_candidates("+14155550123", patterns=["+1 ### ### ####", "#-#", "##########"])
    assert candidates[3] == "+1 415 555 0123"
    assert "#-#" not in candidates


def test_search_candidates_use_at_most_three_patterns() -> None:
    patterns = ["A##########", "B##########", "C##########", "D##########"]
    candidates = phone.search_candidates("+14155550123", patterns=patterns)
    assert "C4155550123" in candidates and "D4155550123" not in candidates


def test_search_candidates_for_a_uk_number_include_the_trunk_prefix_form() -> None:
    candidates = phone.search_candidates("+442079460000", region="GB")
    assert {"+442079460000", "2079460000", "020 7946 0000", "02079460000", "+44 20 7946 0000"} <= set(candidates)


def test_search_candidates_for_unreadable_text_fall_back_to_the_text() -> None:
    assert phone.search_candidates(" 12 ") == ["12"]
    assert phone.search_candidates("call (9)") == ["call (9)", "9"]


def test_search_candidates_without_formatted_variants_are_short() -> None:
    assert phone.search_candidates("+14155550123", include_formatted=False) == [
        "+14155550123",
        "4155550123",
        "14155550123",
    ]


@given(st.text(max_size=40))
def test_parsing_any_text_never_raises(text: str) -> None:
    phone.parse(text)
    phone.search_candidates(text)
    phone.split_extension(text)


@given(st.integers(min_value=2012000000, max_value=9899999999))
def test_every_us_format_of_a_number_normalises_back(n: int) -> None:
    e164 = f"+1{n}"
    parsed = phone.parse(e164)
    if parsed is None:
        return
    for variant in phone.formatted_variants(parsed):
        assert phone.to_e164(variant, "US") == parsed.e164, variant
