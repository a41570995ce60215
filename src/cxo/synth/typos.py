"""Vectorised typos for names, e-mail addresses and postal addresses.

The strings to change are turned into a 2-D array of code points (one row per string), every
operation is a numpy gather or assignment on that array, and the rows are turned back into Arrow
strings: no Python per record. Each typo takes three uniforms per record (``r[:, 0..2]``), so the
number of random draws never depends on the data.

Kinds of typo:

* **keyboard** (Latin script): one of the eligible characters is replaced by a QWERTY neighbour,
  swapped with the next character, or deleted; strings with fewer than two eligible characters
  get their last character doubled.
* **homophone** (Chinese script): a character is replaced by one that sounds the same — the
  input-method slip (伟 → 玮 in names, 路 → 陆 in addresses).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxo.synth import names

# QWERTY neighbours (letters and the number row) for keyboard typos.
_ROWS: Final = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for c, ch in enumerate(row):
            near = [row[i] for i in (c - 1, c + 1) if 0 <= i < len(row)]
            if r > 0:  # letters: the keys diagonally above and below as well
                for rr in (r - 1, r + 1):
                    if 1 <= rr < len(_ROWS):
                        near += [_ROWS[rr][i] for i in (c - 1, c) if 0 <= i < len(_ROWS[rr])]
            out[ch] = "".join(near)
    return out


ADJACENT: Final = _neighbours()
# Code point → neighbours, as a ragged table: _NB[_NB_START[c] : _NB_START[c] + _NB_COUNT[c]].
_NB_START = np.zeros(128, np.int64)
_NB_COUNT = np.zeros(128, np.int64)
_nb: list[int] = []
for _ch, _near in ADJACENT.items():
    for _case in {_ch, _ch.upper()}:
        _NB_START[ord(_case)] = len(_nb)
        _NB_COUNT[ord(_case)] = len(_near)
        _nb += [ord(x.upper() if _case.isupper() else x) for x in _near]
_NB: Final = np.array(_nb, dtype=np.uint32)

# Homophones, as a sorted table of code points with ragged alternatives.
ADDRESS_HOMOPHONES: Final[dict[str, str]] = {
    "路": "陆录",
    "号": "好",
    "栋": "东冻",
    "室": "是市",
    "区": "去曲",
    "街": "接",
    "道": "到",
    "城": "成",
    "园": "元圆",
    "花": "华",
}


def _ragged(table: dict[str, tuple[str, ...] | str]) -> tuple[np.ndarray, ...]:
    keys = sorted(table, key=ord)
    codes = np.array([ord(k) for k in keys], dtype=np.uint32)
    counts = np.array([len(table[k]) for k in keys], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = np.array([ord(x) for k in keys for x in table[k]], dtype=np.uint32)
    return codes, starts, counts, flat


_NAME_H = _ragged(dict(names.HOMOPHONES))
_ADDR_H = _ragged(dict(ADDRESS_HOMOPHONES))
_GIVEN_CODES: Final = np.array([ord(c) for c in names.ALL_GIVEN_CHARS], dtype=np.uint32)
_GIVEN_ORDER: Final = np.argsort(_GIVEN_CODES)
_GIVEN_SORTED: Final = _GIVEN_CODES[_GIVEN_ORDER]


def _codes(values: pa.Array) -> np.ndarray:
    """Rows of code points (uint32), zero-padded, with one spare column for a doubled letter."""
    s = np.asarray(values.to_numpy(zero_copy_only=False).astype(str))
    width = max(1, s.dtype.itemsize // 4)
    c = np.zeros((s.size, width + 1), dtype=np.uint32)
    if s.size:
        c[:, :width] = s.view(np.uint32).reshape(s.size, width)
    return c


def _strings(c: np.ndarray) -> pa.Array:
    u = np.ascontiguousarray(c).view(f"U{c.shape[1]}").ravel()
    return pa.array(u, pa.string())


def _cjk(c: np.ndarray) -> np.ndarray:
    """Rows that contain a CJK character (Chinese script)."""
    return np.asarray(((c >= 0x4E00) & (c <= 0x9FFF)).any(axis=1))


def _pick(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """An index below ``n`` (≥ 1) from a uniform."""
    return np.minimum((r * n).astype(np.int64), np.maximum(n - 1, 0))


def _nth_true(mask: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Column of the ``k``-th (0-based) true value in each row (rows must have more than ``k``)."""
    return np.argmax(np.cumsum(mask, axis=1) > k[:, None], axis=1)


def _keyboard(c: np.ndarray, eligible: np.ndarray, r: np.ndarray) -> np.ndarray:
    """One keyboard typo per row among the ``eligible`` characters (see the module doc)."""
    k, width = c.shape
    rows = np.arange(k)
    length = (c != 0).sum(axis=1)
    n_el = eligible.sum(axis=1)
    short = n_el < 2
    pos = _nth_true(eligible | short[:, None], _pick(r[:, 0], np.maximum(n_el, 1)))
    ch = c[rows, pos]
    op = (r[:, 2] * 3).astype(np.int64)
    ascii_ch = np.where(ch < 128, ch, 0).astype(np.int64)
    nb_n = _NB_COUNT[ascii_ch]
    sub = ~short & (op == 0) & (nb_n > 0)
    nxt = c[rows, np.minimum(pos + 1, width - 1)]
    nxt_ok = eligible[rows, np.minimum(pos + 1, width - 1)] & (pos + 1 < length)
    swap = ~short & (op == 1) & nxt_ok & (nxt != ch)
    delete = ~short & ~sub & ~swap
    out = c.copy()
    new = _NB[_NB_START[ascii_ch] + _pick(r[:, 1], np.maximum(nb_n, 1))]
    out[rows[sub], pos[sub]] = new[sub]
    out[rows[swap], pos[swap]] = nxt[swap]
    out[rows[swap], pos[swap] + 1] = ch[swap]
    cols = np.arange(width)
    shifted = np.minimum(cols[None, :] + (cols[None, :] >= pos[:, None]), width - 1)
    gathered = np.take_along_axis(c, shifted, axis=1)
    gathered[:, -1] = 0
    out[delete] = gathered[delete]
    last = np.maximum(length - 1, 0)
    out[rows[short], np.minimum(length, width - 1)[short]] = c[rows, last][short]
    return out


def _homophone(
    c: np.ndarray, pos: np.ndarray, r: np.ndarray, table: tuple[np.ndarray, ...]
) -> np.ndarray:
    """The character at ``pos`` replaced by a homophone from ``table`` (else a given-name char)."""
    codes, starts, counts, flat = table
    rows = np.arange(c.shape[0])
    ch = c[rows, pos]
    at = np.minimum(np.searchsorted(codes, ch), max(codes.size - 1, 0))
    known = np.asarray(codes[at] == ch)
    n_alt = np.where(known, counts[at], _GIVEN_CODES.size)
    pick = _pick(r, n_alt)
    new = np.where(
        known,
        flat[np.minimum(starts[at] + pick, flat.size - 1)],
        _GIVEN_CODES[np.minimum(pick, _GIVEN_CODES.size - 1)],
    )
    # Never "replace" a character by itself: take the next given-name character instead.
    same = new == ch
    at_given = _GIVEN_ORDER[np.minimum(np.searchsorted(_GIVEN_SORTED, new), _GIVEN_SORTED.size - 1)]
    new = np.where(same, _GIVEN_CODES[(at_given + 1) % _GIVEN_CODES.size], new)
    out = c.copy()
    out[rows, pos] = new
    return out


def name_typos(values: pa.Array, r: np.ndarray) -> pa.Array:
    """One typo per name: a homophone in Chinese script (one of the last two characters), a
    keyboard typo among the letters otherwise."""
    c = _codes(values)
    if c.shape[0] == 0:
        return values
    length = (c != 0).sum(axis=1)
    chinese = _cjk(c)
    letters = ((c | 32) >= ord("a")) & ((c | 32) <= ord("z"))
    out = _keyboard(c, letters, r)
    pos = np.where(length > 1, length - 1 - (r[:, 0] * np.minimum(2, length - 1)).astype(int), 0)
    zh = _homophone(c, pos, r[:, 1], _NAME_H)
    return _strings(np.where(chinese[:, None], zh, out))


def _alnum(c: np.ndarray) -> np.ndarray:
    low = c | 32
    return ((low >= ord("a")) & (low <= ord("z"))) | ((c >= ord("0")) & (c <= ord("9")))


def email_typos(values: pa.Array, r: np.ndarray) -> pa.Array:
    """One keyboard typo per e-mail address, on a letter or digit of the local part or domain
    (``@`` and dots stay, so the address still looks valid: ``wang.wei@163.com`` →
    ``wang.wie@163.com``, ``wnag.wei@163.com``, ``wang.wei@163.cmo``)."""
    c = _codes(values)
    if c.shape[0] == 0:
        return values
    return _strings(_keyboard(c, _alnum(c), r))


def address_typos(values: pa.Array, r: np.ndarray) -> pa.Array:
    """One typo per postal address; ``r`` has four uniforms per row.

    Chinese addresses: half the time a homophone slip on 路, 号, 栋, 室, 区 … (上海市徐汇区文化陆820号),
    otherwise a keyboard typo on the house, building or flat number (820号 → 802号). Latin-script
    addresses: a keyboard typo on any letter or digit.
    """
    c = _codes(values)
    if c.shape[0] == 0:
        return values
    chinese = _cjk(c)
    digits = (c >= ord("0")) & (c <= ord("9"))
    out = _keyboard(c, np.where(chinese[:, None], digits, _alnum(c)), r[:, :3])
    has_h = np.isin(c, _ADDR_H[0])
    n_h = has_h.sum(axis=1)
    slip = chinese & (n_h > 0) & (r[:, 3] < 0.5)
    pos = _nth_true(has_h | (n_h == 0)[:, None], _pick(r[:, 0], np.maximum(n_h, 1)))
    zh = _homophone(c, pos, r[:, 1], _ADDR_H)
    return _strings(np.where(slip[:, None], zh, out))


def apply(kind: str, values: pa.Array, mask: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """``values`` with a typo of ``kind`` (``name``, ``email``, ``address``) where ``mask`` is true.

    Null values stay null. Draws ``mask.sum()`` × 4 uniforms whatever the values are.
    """
    idx = np.flatnonzero(mask)
    r = rng.random((idx.size, 4))
    sub = values.take(pa.array(idx, pa.int64()))
    valid = sub.is_valid().to_numpy(zero_copy_only=False)
    filled = pc.fill_null(sub, "")
    fn = {"name": name_typos, "email": email_typos, "address": address_typos}[kind]
    new = fn(filled, r if kind == "address" else r[:, :3])
    new = pc.if_else(pa.array(valid, pa.bool_()), new, pa.scalar(None, pa.string()))
    return pc.replace_with_mask(values, pa.array(mask, pa.bool_()), new)
