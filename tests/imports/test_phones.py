"""Phone numbers to E.164: the vectorised fast path, and phonenumbers for the rest."""

from __future__ import annotations

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.imports.phones import normalise_phones


def one(value: str | None, region: str | None = None) -> tuple[str | None, bool, bool]:
    result = normalise_phones(pa.array([value], pa.string()), region)
    return result.e164[0].as_py(), bool(result.bad[0]), bool(result.letters[0])


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("+8613812345678", None, "+8613812345678"),
        ("+86 138-1234-5678", None, "+8613812345678"),
        ("0086 138 1234 5678", None, "+8613812345678"),
        ("13812345678", "CN", "+8613812345678"),
        ("8613812345678", None, "+8613812345678"),  # a CTI's digits with the country code
        ("85262562838", None, "+85262562838"),
        ("447678770552", None, "+447678770552"),
        ("6562345678", None, "+6562345678"),
        ("61412345678", None, "+61412345678"),
        ("9123 4567", "HK", "+85291234567"),
        ("(852) 9123-4567", None, "+85291234567"),
        ("07700 900123", "GB", "+447700900123"),
        ("9123.4567", "SG", "+6591234567"),
        ("0412 345 678", "AU", "+61412345678"),
        ("0412 345 678", "au", "+61412345678"),
        ("020 7946 0018 ext 12", "GB", "+442079460018"),
        ("0755 7653 6918", "CN", "+8675576536918"),  # a landline: phonenumbers settles it
        ("12345", "US", None),
        ("2125550123", "US", "+12125550123"),
        (None, "CN", None),
    ],
)
def test_normalise(value: str | None, region: str | None, expected: str | None) -> None:
    e164, bad, _ = one(value, region)
    assert e164 == expected
    assert bad == (value is not None and expected is None)


@pytest.mark.parametrize("value", ["138-CALL-NOW", "abc", "+86 138 1234 567X", "tel:13812345678"])
def test_letters_are_bad_and_flagged(value: str) -> None:
    e164, bad, letters = one(value, "CN")
    assert e164 is None and bad and letters


@pytest.mark.parametrize("value", ["+12", "12345", "+1234567890123456789", "1381234567"])
def test_too_short_or_long_is_bad(value: str) -> None:
    e164, bad, _ = one(value, "CN")
    assert e164 is None and bad


def test_per_row_regions() -> None:
    values = pa.array(["91234567", "13812345678", "07700900123", "91234567"])
    regions = pa.array(["HK", "CN", "GB", None])
    result = normalise_phones(values, regions)
    assert result.e164.to_pylist() == ["+85291234567", "+8613812345678", "+447700900123", None]
    assert result.bad.tolist() == [False, False, False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["CN", "HK", "GB", "SG", "AU"]),
    st.integers(min_value=0, max_value=10**9),
)
def test_fast_path_agrees_with_phonenumbers(region: str, seed: int) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    national = phonenumbers.national_significant_number(example)
    # Vary the digits after the first two; keep only numbers phonenumbers calls valid.
    digits = national[:2] + str(seed).zfill(len(national) - 2)[-(len(national) - 2) :]
    number = phonenumbers.parse(digits, region)
    if not phonenumbers.is_valid_number(number):
        return
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert one(formatted, region)[0] == expected
    assert one(expected.lstrip("+"), None)[0] == expected
