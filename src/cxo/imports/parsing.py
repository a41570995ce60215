"""Parse Arrow string arrays into dates, timestamps and numbers (pure; no I/O).

Each parser returns the typed array (null where a value did not parse) and a NumPy mask of the
values that were given but did not parse.

Default formats are ISO 8601: ``2025-02-24`` for dates; ``2025-02-24``, ``2025-02-24 08:14``,
``2025-02-24T08:14:31.5``, each optionally followed by ``Z`` or an offset such as ``+08:00``, for
timestamps. A timestamp without a zone is UTC; digits beyond microseconds are cut. With a
``format`` (strftime codes) a value must match it exactly, as Python's ``strptime`` decides
(``31/02/2001`` is not a date, ``1/2/2003`` is); ISO 8601 values are accepted too, since they cannot
be mistaken for anything else.

Speed: a column of good ISO values costs one Arrow cast. When the cast fails (Arrow then spends
far longer than on success), the values at fault are found with vectorised shape and calendar
checks, so a batch with one bad date costs a few passes, not one Python call per value. Values
with a ``format`` are parsed once per distinct value, in Python, and cached.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxo.imports.arrowtext import as_array, mask_to_numpy

DATE: Final = pa.date32()
TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
NAIVE: Final = pa.timestamp("us")

DATE_SHAPE: Final = r"^\d{4}-\d{2}-\d{2}$"
_TIME: Final = r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?)?)"
_ZONE: Final = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
TIMESTAMP_SHAPE: Final = rf"^\d{{4}}-\d{{2}}-\d{{2}}(?:{_TIME}{_ZONE}?)?$"
ZONED_SHAPE: Final = rf"{_TIME}{_ZONE}$"
NUMBER_SHAPE: Final = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_ERRORS: Final = (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError)
_LEAF: Final = 32
_DAYS: Final = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _try_cast(values: pa.Array, target: pa.DataType) -> pa.Array | None:
    try:
        return as_array(values.cast(target))
    except _ERRORS:
        return None


def cast_or_null(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast ``values``; values that do not cast become null and are flagged (found by halves).

    For arrays with few bad values; callers filter values of the wrong shape first.
    """
    values = as_array(values)
    bad = np.zeros(len(values), dtype=bool)
    done = _try_cast(values, target)
    if done is not None:
        return done, bad
    pieces: list[pa.Array] = []
    _narrow(values, target, 0, pieces, bad)
    return as_array(pa.concat_arrays(pieces)), bad


def _narrow(
    values: pa.Array, target: pa.DataType, start: int, out: list[pa.Array], bad: np.ndarray
) -> None:
    done = _try_cast(values, target)
    if done is not None:
        out.append(done)
        return
    if len(values) <= _LEAF:
        items = []
        for i, value in enumerate(values.to_pylist()):
            one = _try_cast(pa.array([value], values.type), target)
            items.append(None if one is None else one[0].as_py())
            bad[start + i] |= one is None
        out.append(pa.array(items, target))
        return
    half = len(values) // 2
    _narrow(values.slice(0, half), target, start, out, bad)
    _narrow(values.slice(half), target, start + half, out, bad)


def _drop(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return as_array(pc.if_else(pa.array(mask), pa.scalar(None, values.type), values))


def _digits(values: pa.Array, start: int, stop: int) -> np.ndarray:
    """Characters ``start:stop`` of each value as integers (0 where null or not digits)."""
    part = pc.utf8_slice_codeunits(values, start, stop)
    part = pc.if_else(pc.match_substring_regex(part, r"^\d+$"), part, None)
    return np.asarray(pc.fill_null(part.cast(pa.int32()), 0).to_numpy(zero_copy_only=False))


def _bad_calendar(values: pa.Array, checked: np.ndarray) -> np.ndarray:
    """Of the ``checked`` values (ISO-shaped), those with an impossible date or time of day."""
    year, month, day = _digits(values, 0, 4), _digits(values, 5, 7), _digits(values, 8, 10)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    limit = _DAYS[np.clip(month, 0, 12)] - ((month == 2) & ~leap)
    wrong = (month < 1) | (month > 12) | (day < 1) | (day > limit)
    long_enough = mask_to_numpy(pc.greater_equal(pc.utf8_length(values), 13))
    hour, minute = _digits(values, 11, 13), _digits(values, 14, 16)
    second = _digits(values, 17, 19)
    wrong |= long_enough & ((hour > 23) | (minute > 59) | (second > 59))
    return checked & wrong


def parse_dates(values: pa.Array, fmt: str | None = None) -> tuple[pa.Array, np.ndarray]:
    """Dates: ISO ``YYYY-MM-DD``, or ``fmt`` (strftime codes)."""
    if fmt is not None:
        stamps, bad = _parse_format(values, fmt)
        return as_array(pc.cast(stamps.cast(NAIVE), DATE, safe=False)), bad
    values = as_array(values)
    fast = _try_cast(values, DATE)
    if fast is not None:
        return fast, np.zeros(len(values), dtype=bool)
    given = mask_to_numpy(values.is_valid())
    bad = given & ~mask_to_numpy(pc.match_substring_regex(values, DATE_SHAPE))
    bad |= _bad_calendar(values, given & ~bad)
    result, rest = cast_or_null(_drop(values, bad), DATE)
    return result, bad | rest


def parse_timestamps(values: pa.Array, fmt: str | None = None) -> tuple[pa.Array, np.ndarray]:
    """Timestamps: ISO 8601 with or without a zone (without one: UTC), or ``fmt``."""
    if fmt is not None:
        return _parse_format(values, fmt)
    values = as_array(values)
    # Usually a whole column is zoned or naive: one cast, guessed from the first value.
    first = next((v for v in values.slice(0, 64).to_pylist() if v is not None), "") or ""
    zoned_first = first.endswith("Z") or "+" in first[10:] or "-" in first[10:]
    for target in (TIMESTAMP, NAIVE) if zoned_first else (NAIVE, TIMESTAMP):
        fast = _try_cast(values, target)
        if fast is not None:
            return as_array(fast.cast(TIMESTAMP)), np.zeros(len(values), dtype=bool)
    values = as_array(pc.replace_substring_regex(values, r"([.,]\d{6})\d+", r"\1"))
    given = mask_to_numpy(values.is_valid())
    bad = given & ~mask_to_numpy(pc.match_substring_regex(values, TIMESTAMP_SHAPE))
    bad |= _bad_calendar(values, given & ~bad)
    values = _drop(values, bad)
    zoned = mask_to_numpy(pc.match_substring_regex(values, ZONED_SHAPE))
    with_zone, zbad = cast_or_null(_drop(values, ~zoned), TIMESTAMP)
    naive, nbad = cast_or_null(_drop(values, zoned), NAIVE)
    result = pc.if_else(pa.array(zoned), with_zone, naive.cast(TIMESTAMP))
    return as_array(result), bad | zbad | nbad


def _parse_format(values: pa.Array, fmt: str) -> tuple[pa.Array, np.ndarray]:
    """Timestamps (UTC) in ``fmt`` by Python's strptime, once per distinct value; ISO accepted."""
    encoded = as_array(pc.dictionary_encode(as_array(values)))
    uniques = encoded.dictionary.to_pylist()
    parsed = [_strptime(text, fmt) for text in uniques]
    failed = [i for i, v in enumerate(parsed) if v is None]
    if failed:
        iso, _ = parse_timestamps(pa.array([uniques[i] for i in failed], pa.string()))
        for j, i in enumerate(failed):
            parsed[i] = iso[j].as_py()
    table = pa.array(parsed, TIMESTAMP)
    result = as_array(table.take(encoded.indices))
    bad = mask_to_numpy(encoded.is_valid()) & ~mask_to_numpy(result.is_valid())
    return result, bad


@functools.lru_cache(maxsize=200_000)
def _strptime(text: str, fmt: str) -> dt.datetime | None:
    try:
        value = dt.datetime.strptime(text, fmt)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_numbers(values: pa.Array, max_abs: float | None = None) -> tuple[pa.Array, np.ndarray]:
    """Decimal numbers (``-12.5``, ``1e3``); NaN, infinities and too-large values are bad."""
    values = as_array(values)
    parsed = _try_cast(values, pa.float64())
    bad = np.zeros(len(values), dtype=bool)
    if parsed is None:
        given = mask_to_numpy(values.is_valid())
        bad = given & ~mask_to_numpy(pc.match_substring_regex(values, NUMBER_SHAPE))
        parsed, rest = cast_or_null(_drop(values, bad), pa.float64())
        bad |= rest
    valid = mask_to_numpy(parsed.is_valid())
    wrong = valid & ~mask_to_numpy(pc.is_finite(parsed))
    if max_abs is not None:
        wrong |= valid & mask_to_numpy(pc.greater_equal(pc.abs(parsed), max_abs))
    if wrong.any():
        parsed = _drop(parsed, wrong)
        bad = bad | wrong
    return parsed, bad
