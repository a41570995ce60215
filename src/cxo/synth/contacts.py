"""Contact details of the ground-truth persons: e-mails, phone numbers, addresses, national ids.

Used by :func:`cxo.synth.identity.add_identity`, which draws them in a fixed order from the
identity stream. Also holds the small vectorised Arrow helpers shared with the source-record code
in :mod:`cxo.synth.identity`.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxo.synth.names import equal

# --- contact data -------------------------------------------------------------------------------

_DOMAINS: Final = {
    "CN": ("163.com", "qq.com", "126.com", "sina.com", "foxmail.com", "139.com"),
    "HK": ("gmail.com", "yahoo.com.hk", "netvigator.com", "hotmail.com", "outlook.com"),
    "EN": ("gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.com", "icloud.com", "bigpond.com"),
}
_CN_CITY: Final = {
    "Shanghai": ("上海市", "21", ("浦东新区", "徐汇区", "静安区", "黄浦区", "长宁区", "闵行区")),
    "Beijing": ("北京市", "10", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区")),
    "Shenzhen": ("深圳市", "755", ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区")),
    "Guangzhou": ("广州市", "20", ("天河区", "越秀区", "海珠区", "荔湾区", "白云区")),
    "Hangzhou": ("杭州市", "571", ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区")),
    "Chengdu": ("成都市", "28", ("锦江区", "青羊区", "武侯区", "成华区", "金牛区")),
}
_CN_REGION: Final = {
    "Shanghai": "310115",
    "Beijing": "110105",
    "Shenzhen": "440305",
    "Guangzhou": "440106",
    "Hangzhou": "330106",
    "Chengdu": "510107",
}
_CN_ROADS: Final = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "南京西路",
    "长安街",
    "幸福路",
    "新华路",
    "文化路",
    "青年路",
    "胜利路",
    "光明路",
    "滨江大道",
    "科技园路",
    "学院路",
    "花园路",
    "东风路",
    "延安路",
    "复兴路",
]
_HK_STREETS: Final = (
    ("Nathan Road", "Mong Kok, Kowloon"),
    ("King's Road", "North Point"),
    ("Hennessy Road", "Wan Chai"),
    ("Castle Peak Road", "Tsuen Wan, New Territories"),
    ("Shau Kei Wan Road", "Shau Kei Wan"),
    ("Tai Po Road", "Sham Shui Po, Kowloon"),
    ("Sha Tin Centre Street", "Sha Tin, New Territories"),
    ("Tat Chee Avenue", "Kowloon Tong, Kowloon"),
    ("Queen's Road Central", "Central"),
    ("Tuen Mun Heung Sze Wui Road", "Tuen Mun, New Territories"),
)
_HK_BUILDINGS: Final = (
    "Kam Fung Court",
    "Wah Fu Estate",
    "Tai Hing Gardens",
    "City One",
    "Taikoo Shing",
    "Lok Fu Estate",
    "Mei Foo Sun Chuen",
    "Kornhill",
    "Heng Fa Chuen",
    "Laguna City",
)
_LONDON: Final = (
    ("Baker Street", "NW1"),
    ("Camden Road", "N7"),
    ("Clapham High Street", "SW4"),
    ("Mare Street", "E8"),
    ("Holloway Road", "N19"),
    ("Brixton Road", "SW9"),
    ("Finchley Road", "NW3"),
    ("Old Kent Road", "SE1"),
    ("Uxbridge Road", "W12"),
    ("Romford Road", "E7"),
)
_SINGAPORE: Final = (
    "Ang Mo Kio Ave 3",
    "Tampines St 21",
    "Bedok North Rd",
    "Jurong West St 52",
    "Toa Payoh Lor 1",
    "Yishun Ring Rd",
    "Clementi Ave 2",
    "Hougang Ave 8",
)
_SYDNEY: Final = (
    ("George St", "Sydney", "2000"),
    ("Crown St", "Surry Hills", "2010"),
    ("King St", "Newtown", "2042"),
    ("Military Rd", "Mosman", "2088"),
    ("Church St", "Parramatta", "2150"),
    ("Anzac Pde", "Kensington", "2033"),
    ("Victoria Rd", "Ryde", "2112"),
)
_MOBILE: Final = {  # city → (prefixes, random digits after the prefix)
    "Hong Kong": (("+8525", "+8526", "+8529"), 7),
    "London": (("+447",), 9),
    "Singapore": (("+658", "+659"), 7),
    "Sydney": (("+614",), 8),
}
_CN_MOBILE: Final = ("+8613", "+8615", "+8618", "+8617", "+8619", "+8614", "+8616")
_LANDLINE: Final = {
    "Hong Kong": (("+8522", "+8523"), 7),
    "London": (("+44203", "+44207", "+44208"), 7),
    "Singapore": (("+656",), 7),
    "Sydney": (("+6128", "+6129"), 7),
}


# --- small vectorised helpers (Arrow compute: no Python object per value) -----------------------


_NULL: Final = pa.scalar(None, pa.string())


def _mask(mask: np.ndarray) -> pa.Array:
    return pa.array(mask, pa.bool_())


def _null_where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(_mask(mask), pa.scalar(None, values.type), values)


def _select(conds: list[np.ndarray], values: list[pa.Array], default: pa.Array) -> pa.Array:
    """Like ``np.select`` on Arrow arrays: the first true condition picks the value."""
    arrays = [default, *values]
    if len(conds) < 2 or not all(
        isinstance(a, pa.Array) and a.type == default.type and len(a) == len(default)
        for a in arrays
    ):
        out = default
        for cond, value in zip(reversed(conds), reversed(values), strict=True):
            out = pc.if_else(_mask(cond), value, out)
        return out
    # Several choices: one take from the candidates laid end to end (each if_else would copy
    # every string again).
    n = len(default)
    which = np.select([np.asarray(c, dtype=bool) for c in conds], np.arange(1, len(arrays)), 0)
    return pa.concat_arrays(arrays).take(pa.array(which * n + np.arange(n)))


def _flat(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _slice(a: pa.Array, start: int, stop: int | None = None) -> pa.Array:
    return pc.utf8_slice_codeunits(a, start, stop if stop is not None else 2**31 - 1)


def _fixed(a: np.ndarray) -> pa.Array:
    """Arrow strings from a fixed-width bytes array."""
    return fixed_width_strings(a)


def fixed_width_strings(a: np.ndarray) -> pa.Array:
    """Arrow strings from a 1-d fixed-width bytes array (``S<k>``), without copying its bytes.

    The array's buffer becomes the strings' data buffer as it is (offsets ``0, k, 2k, …``). Only
    for ASCII without NUL bytes, where that equals ``pa.array(a).cast(pa.string())`` (numpy would
    strip trailing NULs; non-ASCII bytes would need UTF-8 validation); otherwise that path.
    """
    a = np.ascontiguousarray(a)
    width = a.dtype.itemsize
    raw = a.view(np.uint8)
    if a.dtype.kind != "S" or a.ndim != 1 or width == 0 or a.size * width >= 2**31:
        return pa.array(a).cast(pa.string())
    if raw.size and (raw.min() == 0 or raw.max() >= 128):
        return pa.array(a).cast(pa.string())
    offsets = np.arange(0, (a.size + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(a.size, pa.py_buffer(offsets), pa.py_buffer(raw))


def _digits(rng: np.random.Generator, n: int, k: int) -> pa.Array:
    """``n`` strings of ``k`` random decimal digits."""
    return _fixed(rng.integers(48, 58, size=(n, k), dtype=np.uint8).view(f"S{k}").ravel())


def _num(a: np.ndarray, width: int = 0) -> pa.Array:
    out = pa.array(a).cast(pa.string())
    return pc.utf8_lpad(out, width, "0") if width else out


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str] | str, n: int) -> pa.Array:
    return pa.array(list(options), pa.string()).take(pa.array(rng.integers(0, len(options), n)))


def _str_np(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


_CITY_LIST: Final = (*_CN_CITY, "Hong Kong", "London", "Singapore", "Sydney")


def _city_code(city: np.ndarray | pa.Array | pa.ChunkedArray) -> np.ndarray:
    if not isinstance(city, pa.Array | pa.ChunkedArray):
        city = pa.array(city, pa.string())
    code = pc.index_in(_flat(city), value_set=pa.array(_CITY_LIST))
    return np.asarray(pc.fill_null(code, 0).to_numpy(), dtype=np.int64)


class _ByCity:
    """Rows grouped by city: build each city's values for its own rows, then restore row order."""

    def __init__(self, city: np.ndarray | pa.Array | pa.ChunkedArray) -> None:
        self.code = _city_code(city)
        order = np.argsort(self.code, kind="stable")
        self.counts = np.bincount(self.code, minlength=len(_CITY_LIST))
        self.inverse = pa.array(np.argsort(order))

    def build(self, make: Callable[[str, int], pa.Array]) -> pa.Array:
        parts = [make(c, int(k)) for c, k in zip(_CITY_LIST, self.counts, strict=True) if k]
        return pa.concat_arrays(parts).take(self.inverse)


def _mobiles(rng: np.random.Generator, groups: _ByCity) -> pa.Array:
    w = np.array([0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])

    def make(city: str, k: int) -> pa.Array:
        if city in _CN_CITY:
            pre = pa.array(list(_CN_MOBILE)).take(pa.array(rng.choice(len(w), k, p=w)))
            return _join(pre, _digits(rng, k, 9))
        prefixes, width = _MOBILE[city]
        return _join(_pick(rng, prefixes, k), _digits(rng, k, width))

    return groups.build(make)


def _landlines(rng: np.random.Generator, groups: _ByCity) -> pa.Array:
    def make(city: str, k: int) -> pa.Array:
        if city in _CN_CITY:
            # A mainland local number never starts with 0 or 1 (those are trunk and mobile).
            local = _join(_pick(rng, "23456789", k), _digits(rng, k, 7))
            return _join(f"+86{_CN_CITY[city][1]}", local)
        prefixes, width = _LANDLINE[city]
        return _join(_pick(rng, prefixes, k), _digits(rng, k, width))

    return groups.build(make)


def _emails(
    rng: np.random.Generator,
    market: np.ndarray | pa.Array | pa.ChunkedArray,
    fam: pa.Array,
    giv: pa.Array,
    eng: pa.Array,
    birth_year: np.ndarray,
) -> pa.Array:
    """E-mail addresses in the local styles: name patterns, numeric QQ mail for the mainland."""
    n = len(market)
    pattern = rng.integers(0, 5, n)
    d2, d3 = _digits(rng, n, 2), _digits(rng, n, 3)
    has_eng = _str_np(pc.not_equal(eng, "")).astype(bool)
    qq = equal(market, "CN") & (pattern == 4)
    qq_number = rng.integers(10_000_000, 3_000_000_000, n)
    # Each row's pattern is rendered for that row only (not every pattern for every row).
    which = np.select(
        [qq, pattern == 0, pattern == 1, pattern == 2, (pattern == 3) & has_eng],
        [1, 2, 3, 4, 5],
        0,
    )
    rows = [np.flatnonzero(which == k) for k in range(6)]
    parts: list[pa.Array] = []
    for k, r in enumerate(rows):
        at = pa.array(r)
        if k == 0:
            year = _num(birth_year[r] % 100, 2)
            parts.append(_join(fam.take(at), _join(giv.take(at), year), sep="_"))
        elif k == 1:
            parts.append(_num(qq_number[r]))
        elif k == 2:
            parts.append(_join(giv.take(at), fam.take(at), sep="."))
        elif k == 3:
            parts.append(_join(fam.take(at), giv.take(at), d2.take(at)))
        elif k == 4:
            parts.append(_join(_slice(giv.take(at), 0, 1), fam.take(at), d3.take(at)))
        else:
            parts.append(_join(eng.take(at), _join(fam.take(at), d2.take(at)), sep="."))
    order = np.concatenate(rows)
    inverse = np.empty(n, np.int64)
    inverse[order] = np.arange(n)
    local = pa.concat_arrays([_flat(x) for x in parts]).take(pa.array(inverse))
    domains = [d for m in ("CN", "HK", "EN") for d in _DOMAINS[m]]
    offset = {"CN": 0, "HK": len(_DOMAINS["CN"]), "EN": len(_DOMAINS["CN"]) + len(_DOMAINS["HK"])}
    u = rng.random(n)
    idx = np.zeros(n, np.int64)
    for m, options in _DOMAINS.items():
        sel = equal(market, m)
        idx[sel] = offset[m] + (u[sel] * len(options)).astype(np.int64)
    idx[qq] = domains.index("qq.com")
    return _join(local, pa.array(domains).take(pa.array(idx)), sep="@")


def _address(rng: np.random.Generator, city: str, n: int) -> pa.Array:
    """``n`` postal addresses in ``city``'s own style."""
    no = _num(rng.integers(1, 900, n))
    floor = _num(rng.integers(1, 40, n))
    unit = rng.integers(1, 12, n)
    if city in _CN_CITY:
        name, _, districts = _CN_CITY[city]
        return _join(
            name,
            _pick(rng, districts, n),
            _pick(rng, _CN_ROADS, n),
            no,
            "号",
            _num(rng.integers(1, 30, n)),
            "栋",
            floor,
            _num(unit, 2),
            "室",
        )
    if city == "Hong Kong":
        s = pa.array(rng.integers(0, len(_HK_STREETS), n))
        return _join(
            _join("Flat", pa.array(list("ABCDEFGH")).take(pa.array(unit % 8)), sep=" "),
            _join(floor, "/F"),
            _pick(rng, _HK_BUILDINGS, n),
            _join(no, pa.array([x[0] for x in _HK_STREETS]).take(s), sep=" "),
            pa.array([x[1] for x in _HK_STREETS]).take(s),
            sep=", ",
        )
    if city == "London":
        s = pa.array(rng.integers(0, len(_LONDON), n))
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        inward = _join(_num(rng.integers(1, 10, n)), _pick(rng, letters, n), _pick(rng, letters, n))
        return _join(
            _join("Flat", _num(unit), sep=" "),
            _join(no, pa.array([x[0] for x in _LONDON]).take(s), sep=" "),
            _join("London", pa.array([x[1] for x in _LONDON]).take(s), inward, sep=" "),
            sep=", ",
        )
    if city == "Singapore":
        unit_no = _join("#", _num(rng.integers(1, 40, n), 2), "-", _num(rng.integers(100, 999, n)))
        return _join(
            _join("Blk", no, _pick(rng, _SINGAPORE, n), unit_no, sep=" "),
            _join("Singapore", _num(rng.integers(100_000, 830_000, n)), sep=" "),
            sep=", ",
        )
    s = pa.array(rng.integers(0, len(_SYDNEY), n))
    return _join(
        _join(_join(_num(unit), no, sep="/"), pa.array([x[0] for x in _SYDNEY]).take(s), sep=" "),
        _join(
            pa.array([x[1] for x in _SYDNEY]).take(s),
            "NSW",
            pa.array([x[2] for x in _SYDNEY]).take(s),
            sep=" ",
        ),
        sep=", ",
    )


def _national_ids(
    rng: np.random.Generator, groups: _ByCity, birth: np.ndarray, female: np.ndarray
) -> pa.Array:
    """SHA-256 of synthetic national ids (valid check characters where the scheme has one)."""
    order = np.argsort(groups.code, kind="stable")
    birth, female = birth[order], female[order]
    start = np.concatenate([[0], np.cumsum(groups.counts)])
    w = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    ni_letters = "ABCEGHJKLMNPRSTWXYZ"

    def make(city: str, n: int) -> pa.Array:
        i = _CITY_LIST.index(city)
        b, f = birth[start[i] : start[i + 1]], female[start[i] : start[i + 1]]
        if city in _CN_REGION:
            # Resident id: region, birth date, sequence (odd for men), ISO 7064 MOD 11-2 check.
            seq = rng.integers(0, 500, n) * 2 + np.where(f, 0, 1)
            y = b.astype("datetime64[Y]").astype(np.int64) + 1970
            m = b.astype("datetime64[M]").astype(np.int64) % 12 + 1
            d = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
            region = np.broadcast_to(np.array([int(ch) for ch in _CN_REGION[city]]), (n, 6))
            tail = [y // 1000, y // 100 % 10, y // 10 % 10, y % 10, m // 10, m % 10, d // 10]
            tail += [d % 10, seq // 100, seq // 10 % 10, seq % 10]
            digits = np.concatenate([region, np.stack(tail, axis=1)], axis=1)
            check = pa.array(list("10X98765432")).take(pa.array((digits * w).sum(axis=1) % 11))
            return _join(_fixed((digits + 48).astype(np.uint8).view("S17").ravel()), check)
        if city == "Hong Kong":
            # HKID: a letter, six digits and a check character in brackets.
            letter = rng.integers(0, 26, n)
            six = rng.integers(0, 10, (n, 6))
            c = (11 - (8 * (letter + 10) + (six * np.arange(7, 1, -1)).sum(axis=1)) % 11) % 11
            return _join(
                pa.array([chr(65 + k) for k in range(26)]).take(pa.array(letter)),
                _fixed((six + 48).astype(np.uint8).view("S6").ravel()),
                "(",
                pa.array(list("0123456789A")).take(pa.array(c)),
                ")",
            )
        if city == "London":  # National Insurance number
            prefix = _join(_pick(rng, ni_letters, n), _pick(rng, ni_letters, n))
            return _join(prefix, _digits(rng, n, 6), _pick(rng, "ABCD", n))
        if city == "Singapore":  # NRIC
            return _join(_pick(rng, "ST", n), _digits(rng, n, 7), _pick(rng, "ABCDEFGHIZJ", n))
        return pa.nulls(n, pa.string())  # Sydney: no national id held

    raw = groups.build(make).cast(pa.binary()).to_pylist()
    # Binary digests joined and hexlified at once; null (no id held) stays null.
    sha, none = hashlib.sha256, bytes(32)
    hexed = binascii.hexlify(b"".join([sha(v).digest() if v else none for v in raw]))
    valid = np.fromiter(map(bool, raw), dtype=bool, count=len(raw))
    return pc.if_else(_mask(valid), fixed_width_strings(np.frombuffer(hexed, "S64")), _NULL)
