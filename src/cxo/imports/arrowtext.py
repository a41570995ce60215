"""Vectorised text helpers on Arrow string arrays (pure; no I/O).

Building a million JSON objects or E.164 numbers one Python string at a time costs seconds; these
helpers work on whole arrays with Arrow compute and NumPy, and fall back to Python only for the
rare values that need it (JSON escapes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# binary_replace_slice clamps ``start`` to the string's length, so this start appends a suffix.
_END: Final = 1 << 40


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (Arrow compute may hand back chunked arrays)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def const_strings(value: str, n: int) -> pa.Array:
    """An array of ``n`` copies of ``value``, built from buffers (pa.repeat is slow for strings)."""
    data = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    if offsets[-1] >= 2**31:
        return pa.array([value] * n, pa.large_string()).cast(pa.string())
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data * n)
    )


def affix(values: pa.Array, prefix: str = "", suffix: str = "") -> pa.Array:
    """``prefix + value + suffix`` for every non-null value."""
    out = values
    if prefix:
        out = pc.binary_replace_slice(out, start=0, stop=0, replacement=prefix)
    if suffix:
        out = pc.binary_replace_slice(out, start=_END, stop=_END, replacement=suffix)
    return as_array(out)


def clean(values: pa.Array, *, strip: bool = True) -> pa.Array:
    """Trim surrounding whitespace (when ``strip``) and turn empty strings into nulls."""
    out = as_array(pc.utf8_trim_whitespace(values)) if strip else values
    empty = pc.equal(pc.binary_length(out), 0)
    if pc.any(empty).as_py():
        out = as_array(pc.if_else(empty, pa.scalar(None, pa.string()), out))
    return out


def rows_with_bytes(values: pa.Array, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Indices of the values containing a byte for which ``test`` (on a uint8 array) is true."""
    arr = as_array(values)
    if len(arr) == 0 or arr.null_count == len(arr):
        return np.empty(0, dtype=np.int64)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    if buffers[2] is None:
        return np.empty(0, dtype=np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero(test(data))
    if len(hits) == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return rows[valid[rows]]


def _needs_json_escape(data: np.ndarray) -> np.ndarray:
    return (data < 0x20) | (data == 0x22) | (data == 0x5C)


def json_strings(values: pa.Array) -> pa.Array:
    """Each non-null value as a JSON string literal, exactly as ``json.dumps(ensure_ascii=False)``."""
    return json_members(values, prefix="", suffix="", quote=True)


def json_members(
    values: pa.Array, *, prefix: str, suffix: str, quote: bool, null: str | None = None
) -> pa.Array:
    """``prefix + JSON(value) + suffix`` per value; ``null`` (or null) where the value is null.

    With ``quote`` the text values become JSON strings (escaped like ``json.dumps`` with
    ``ensure_ascii=False``); without, the values are JSON already (numbers, ``true``).
    """
    arr = as_array(values)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    out = affix(arr, prefix + ('"' if quote else ""), ('"' if quote else "") + suffix)
    if quote:
        rows = rows_with_bytes(arr, _needs_json_escape)
        if len(rows):
            fixed = out.to_pylist()
            for i in rows.tolist():
                fixed[i] = prefix + json.dumps(arr[i].as_py(), ensure_ascii=False) + suffix
            out = pa.array(fixed, pa.string())
    if null is not None and out.null_count:
        out = as_array(pc.fill_null(out, null))
    return out


def json_member(key: str, values: pa.Array, *, quote: bool, keep_nulls: bool) -> pa.Array:
    """``"key":value,`` per row (the member of a JSON object), or ``""`` / ``"key":null,``."""
    name = json.dumps(key, ensure_ascii=False) + ":"
    return json_members(
        values, prefix=name, suffix=",", quote=quote, null=name + "null," if keep_nulls else ""
    )


def json_objects(members: Sequence[pa.Array], n: int) -> pa.Array:
    """JSON objects from :func:`json_member` columns, in the order given.

    Compact separators, like ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``.
    Every member ends in a comma and a missing one is ``""``: no null-skipping join is needed
    (pyarrow 26's ``binary_join_element_wise`` drops rows that are null in every input).
    """
    if not members:
        return const_strings("{}", n)
    body = members[0] if len(members) == 1 else pc.binary_join_element_wise(*members, "")
    body = pc.binary_replace_slice(body, start=-1, stop=_END, replacement="}")  # the last comma
    return affix(as_array(body), "{")


def iso_timestamps(values: pa.Array) -> pa.Array:
    """UTC timestamps as ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` only for a fraction of a second.

    Arrow's own timestamp-to-text cast takes ten times longer; this builds the text from integers.
    """
    arr = as_array(values)
    micros = np.asarray(pc.fill_null(arr.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))
    day = as_array(pc.cast(arr.cast(pa.timestamp("us")), pa.date32(), safe=False))
    seconds, fraction = np.divmod(np.mod(micros, 86_400_000_000), 1_000_000)
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    clock = pa.array(1_000_000 + hours * 10_000 + minutes * 100 + secs).cast(pa.string())
    clock = pc.binary_replace_slice(clock, 0, 1, "T")  # "1HHMMSS" -> "THHMMSS"
    clock = pc.binary_replace_slice(pc.binary_replace_slice(clock, 3, 3, ":"), 6, 6, ":")
    frac = pc.binary_replace_slice(pa.array(1_000_000 + fraction).cast(pa.string()), 0, 1, ".")
    frac = pc.if_else(pa.array(fraction == 0), "", frac)
    text = pc.binary_join_element_wise(day.cast(pa.string()), clock, frac, "")
    return affix(as_array(text), suffix="Z")


def mask_to_numpy(mask: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """A boolean Arrow array (nulls count as false) as a NumPy bool array."""
    if isinstance(mask, np.ndarray):
        return mask.astype(bool, copy=False)
    arr = as_array(mask)
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def where(mask: np.ndarray, values: pa.Array, other: pa.Array | Any) -> pa.Array:
    """``values`` where ``mask`` is true, else ``other`` (array or scalar)."""
    return as_array(pc.if_else(pa.array(mask, pa.bool_()), values, other))


def null_where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` with nulls where ``mask`` is true."""
    if not mask.any():
        return values
    return where(mask, pa.scalar(None, values.type), values)
