"""Phone numbers to E.164, a whole Arrow array at a time (pure; no I/O).

A fast path settles most numbers with Arrow compute: separators (spaces, dashes, dots, brackets,
slashes) removed, a trailing extension (``ext 12``, ``x12``) dropped, ``00`` read as ``+``, ``+``
followed by 8-15 digits kept as it is, national numbers of the row's region (CN mobiles, HK, GB,
SG, AU) given their country code, and digits that already start with one of those country codes
(a CTI's ``8613812345678``) given their ``+``. What is left goes to the ``phonenumbers`` library,
once per distinct value: first as a national number of the row's region, then as ``+digits``;
whatever it does not call valid is a bad phone.
"""

from __future__ import annotations

import functools
from typing import Final, NamedTuple

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from cxo.imports.arrowtext import as_array, const_strings, mask_to_numpy

_EXTENSION: Final = r"(?i)\s*(?:ext\.?|extension|x)\s*\d{1,6}$"
_SEPARATORS: Final = r"[\s\-./()\[\]]"

# region -> (pattern of a national number, characters to drop from its start, country prefix)
NATIONAL: Final[dict[str, tuple[str, int, str]]] = {
    "CN": (r"^1[3-9]\d{9}$", 0, "+86"),
    "HK": (r"^[2-9]\d{7}$", 0, "+852"),
    "GB": (r"^0\d{9,10}$", 1, "+44"),
    "SG": (r"^[3689]\d{7}$", 0, "+65"),
    "AU": (r"^0\d{9}$", 1, "+61"),
}
# Digits that already carry one of those country codes, without the "+".
WITH_COUNTRY_CODE: Final[str] = (
    r"^(?:861[3-9]\d{9}|852[2-9]\d{7}|44[1-9]\d{8,9}|65[3689]\d{7}|61[2-478]\d{8})$"
)


class PhoneResult(NamedTuple):
    e164: pa.Array
    """E.164 numbers; null where the input was null or bad."""
    bad: np.ndarray
    """True where a value was given but is not a usable phone number."""
    letters: np.ndarray
    """Of the bad: true where the value had letters (for the message)."""


def normalise_phones(values: pa.Array, regions: pa.Array | str | None) -> PhoneResult:
    """Normalise trimmed phone strings (nulls allowed) to E.164; ``regions`` per row or one."""
    values = as_array(values)
    n = len(values)
    given = mask_to_numpy(values.is_valid())
    # Most columns are already E.164 or all national: settle those without the full pass.
    e164 = mask_to_numpy(pc.match_substring_regex(values, r"^\+\d{8,15}$"))
    if not (given & ~e164).any():
        return PhoneResult(values, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    cleaned = as_array(pc.replace_substring_regex(values, _EXTENSION, ""))
    cleaned = as_array(pc.replace_substring_regex(cleaned, _SEPARATORS, ""))
    cleaned = as_array(pc.replace_substring_regex(cleaned, r"^00", "+"))
    shape_ok = mask_to_numpy(pc.match_substring_regex(cleaned, r"^\+?\d+$"))
    letters = given & ~shape_ok & mask_to_numpy(pc.match_substring_regex(values, r"[A-Za-z]"))
    bad = given & ~shape_ok
    out: list[tuple[np.ndarray, pa.Array]] = []
    done = ~given | bad

    plus = ~done & mask_to_numpy(pc.starts_with(cleaned, "+"))
    if plus.any():
        ok = plus & mask_to_numpy(pc.match_substring_regex(cleaned, r"^\+\d{8,15}$"))
        out.append((ok, cleaned))
        bad |= plus & ~ok
        done |= plus

    region_arr = _regions(regions, n)
    if region_arr is not None and (~done).any():
        for region, (pattern, drop, prefix) in NATIONAL.items():
            in_region = ~done & mask_to_numpy(pc.equal(region_arr, region))
            if not in_region.any():
                continue
            hit = in_region & mask_to_numpy(pc.match_substring_regex(cleaned, pattern))
            if hit.any():
                fixed = pc.binary_replace_slice(cleaned, start=0, stop=drop, replacement=prefix)
                out.append((hit, as_array(fixed)))
                done |= hit

    if (~done).any():
        hit = ~done & mask_to_numpy(pc.match_substring_regex(cleaned, WITH_COUNTRY_CODE))
        if hit.any():
            out.append((hit, as_array(pc.binary_replace_slice(cleaned, 0, 0, "+"))))
            done |= hit

    result = pa.nulls(n, pa.string())
    for mask, source in out:
        result = as_array(pc.if_else(pa.array(mask), source, result))

    rest = np.flatnonzero(~done)
    if len(rest):
        digits = cleaned.take(pa.array(rest)).to_pylist()
        rs = [None] * len(rest) if region_arr is None else region_arr.take(pa.array(rest))
        region_list = rs if isinstance(rs, list) else rs.to_pylist()
        slow = [_slow(d, r) for d, r in zip(digits, region_list, strict=True)]
        fixed_list = result.to_pylist()
        for i, value in zip(rest.tolist(), slow, strict=True):
            if value is None:
                bad[i] = True
            fixed_list[i] = value
        result = pa.array(fixed_list, pa.string())
    return PhoneResult(result, bad, letters)


def _regions(regions: pa.Array | str | None, n: int) -> pa.Array | None:
    if regions is None:
        return None
    if isinstance(regions, str):
        return const_strings(regions.upper(), n)
    return as_array(pc.utf8_upper(regions))


@functools.lru_cache(maxsize=100_000)
def _slow(digits: str, region: str | None) -> str | None:
    """E.164 for what the fast path could not settle, or None when it is not a valid number."""
    candidates: list[tuple[str, str | None]] = []
    if region:
        candidates.append((digits, region))
    candidates.append(("+" + digits.lstrip("+"), None))
    for text, reg in candidates:
        try:
            number = phonenumbers.parse(text, reg)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None
