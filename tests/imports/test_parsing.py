"""Dates, timestamps and numbers from text: strict, fast on good columns, exact on bad rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.imports.parsing import parse_dates, parse_numbers, parse_timestamps

UTC = dt.UTC


def test_iso_dates_and_bad_ones() -> None:
    values, bad = parse_dates(pa.array(["2000-10-26", "2000-02-30", "2000-1-5", None, "x"]))
    assert values.to_pylist() == [dt.date(2000, 10, 26), None, None, None, None]
    assert bad.tolist() == [False, True, True, False, True]


def test_dates_with_a_format_are_strict_and_accept_iso() -> None:
    values, bad = parse_dates(
        pa.array(["26/10/2000", "31/02/2001", "1/2/2003", "26/10/2000 x", "2001-02-03", None]),
        "%d/%m/%Y",
    )
    assert values.to_pylist() == [
        dt.date(2000, 10, 26),
        None,
        dt.date(2003, 2, 1),
        None,
        dt.date(2001, 2, 3),
        None,
    ]
    assert bad.tolist() == [False, True, False, True, False, False]


def test_timestamps_naive_are_utc_and_zones_convert() -> None:
    values, bad = parse_timestamps(
        pa.array(
            [
                "2025-02-24 08:14:31.895395Z",
                "2025-02-24T08:14:31+08:00",
                "2025-02-24 08:14:31",
                "2025-02-24",
                "2025-02-24T08:14:31.123456789Z",
                "2025-02-30 10:00",
                "2025-02-24 25:00",
                "yesterday",
                None,
            ]
        )
    )
    assert values.to_pylist() == [
        dt.datetime(2025, 2, 24, 8, 14, 31, 895395, tzinfo=UTC),
        dt.datetime(2025, 2, 24, 0, 14, 31, tzinfo=UTC),
        dt.datetime(2025, 2, 24, 8, 14, 31, tzinfo=UTC),
        dt.datetime(2025, 2, 24, tzinfo=UTC),
        dt.datetime(2025, 2, 24, 8, 14, 31, 123456, tzinfo=UTC),
        None,
        None,
        None,
        None,
    ]
    assert bad.tolist() == [False] * 5 + [True] * 3 + [False]


def test_timestamps_with_a_format() -> None:
    values, bad = parse_timestamps(
        pa.array(["26/10/2000 10:11", "31/02/2001 10:00", "2001-02-03T04:05:06+08:00"]),
        "%d/%m/%Y %H:%M",
    )
    assert values.to_pylist() == [
        dt.datetime(2000, 10, 26, 10, 11, tzinfo=UTC),
        None,
        dt.datetime(2001, 2, 2, 20, 5, 6, tzinfo=UTC),
    ]
    assert bad.tolist() == [False, True, False]


def test_numbers() -> None:
    values, bad = parse_numbers(
        pa.array(["1.5", "-2", "1e3", "nan", "inf", "+3", "1,000", None, "1e17"]), max_abs=1e16
    )
    assert values.to_pylist() == [1.5, -2.0, 1000.0, None, None, 3.0, None, None, None]
    assert bad.tolist() == [False, False, False, True, True, False, True, False, True]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)).map(str),
            st.text(alphabet="0123456789-/ T:", max_size=12),
            st.none(),
        ),
        max_size=80,
    )
)
def test_dates_agree_with_python(texts: list[str | None]) -> None:
    values, bad = parse_dates(pa.array(texts, pa.string()))
    for text, value, flagged in zip(texts, values.to_pylist(), bad.tolist(), strict=True):
        if text is None:
            assert value is None and not flagged
            continue
        try:
            expected: dt.date | None = dt.datetime.strptime(text, "%Y-%m-%d").date()
            expected = expected if len(text) == 10 else None
        except ValueError:
            expected = None
        assert value == expected
        assert flagged == (expected is None)


@pytest.mark.parametrize("size", [1, 100, 5000])
def test_one_bad_value_among_many_is_found(size: int) -> None:
    texts = ["2024-01-01 10:00:00"] * size
    texts[size // 2] = "2024-13-01 10:00:00"
    values, bad = parse_timestamps(pa.array(texts))
    assert bad.sum() == 1 and bad[size // 2]
    assert values.null_count == 1
