"""Vectorised JSON text equals json.dumps; ISO timestamps equal Python's."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.imports.arrowtext import iso_timestamps, json_strings
from cxo.imports.parsing import DATE, TIMESTAMP
from cxo.imports.validate import canonical_json, raw_json

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@settings(deadline=None)
@given(st.lists(st.one_of(texts, st.none()), max_size=30))
def test_json_strings_equal_json_dumps(values: list[str | None]) -> None:
    out = json_strings(pa.array(values, pa.string())).to_pylist()
    assert out == [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]


@settings(deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={"b": texts, "a": texts, 'c"q': texts, "d": st.none()},
        ),
        min_size=1,
        max_size=20,
    )
)
def test_canonical_json_equals_json_dumps(rows: list[dict[str, str | None]]) -> None:
    keys = ["a", "b", 'c"q', "d"]
    columns = {k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys}
    out = canonical_json(columns, len(rows)).to_pylist()
    expected = [
        json.dumps(
            {k: v for k, v in r.items() if v is not None},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for r in rows
    ]
    assert out == expected


def test_canonical_json_writes_dates_and_timestamps_as_iso_text() -> None:
    stamps = [dt.datetime(2023, 7, 1, 21, 11, 21, tzinfo=dt.UTC), None]
    stamps2 = [dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC), None]
    columns = {
        "birth_date": pa.array([dt.date(2000, 1, 2), None], DATE),
        "updated_at": pa.array(stamps, TIMESTAMP),
        "seen_at": pa.array(stamps2, TIMESTAMP),
    }
    assert canonical_json(columns, 2).to_pylist() == [
        '{"birth_date":"2000-01-02","seen_at":"1969-12-31T23:59:59.500000Z",'
        '"updated_at":"2023-07-01T21:11:21Z"}',
        "{}",
    ]


@settings(deadline=None)
@given(st.lists(st.datetimes(timezones=st.just(dt.UTC)), max_size=20))
def test_iso_timestamps(values: list[dt.datetime]) -> None:
    out = iso_timestamps(pa.array(values, TIMESTAMP)).to_pylist()
    for value, text in zip(values, out, strict=True):
        expected = value.strftime("%Y-%m-%dT%H:%M:%S")
        expected += f".{value.microsecond:06d}Z" if value.microsecond else "Z"
        if value.year < 1000:
            continue  # Arrow writes years before 1000 without leading zeros
        assert text == expected


def test_raw_json_keeps_columns_in_file_order_and_empty_cells_as_null() -> None:
    batch = pa.record_batch({"z": ["1", None], "名字": ['陈"大文', "x"]})
    assert raw_json(batch).to_pylist() == [
        '{"z":"1","名字":"陈\\"大文"}',
        '{"z":null,"名字":"x"}',
    ]
