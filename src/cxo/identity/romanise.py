"""Canonical forms of personal names across scripts, romanisations, name orders and nicknames.

One person's name reaches cxo as 陈大文, "Chen Dawen" (Mandarin pinyin), "Chan Tai Man, Peter"
(Hong Kong government Cantonese romanisation with an English name), "Tai Man Chan" (given name
first) or, for Western names, "Bill Smith" for William Smith. :func:`parse_name` maps every such
rendering to

* ``key``: ``"<family> <given>"`` in pinyin where the name is in characters, else as written
  (lower case, given-name syllables joined: ``"chen dawen"``, ``"chan taiman"``,
  ``"smith william"``), with nicknames mapped to their full name;
* ``alts``: every key the name could have in another rendering, order-free: the pinyin and
  Cantonese readings of characters, and for Cantonese-looking Latin names the pinyin candidates
  of each syllable (Wong → wang or huang). Two records whose ``alts`` intersect name the same
  person's name in some rendering;
* ``surname``/``surname_alts``, ``given``, ``english`` and ``hk_key`` (the Cantonese reading).

The romanisation tables come from :mod:`cxo.synth.names` (139 surnames and 243 given-name
characters with both romanisations, 105 English names with nicknames) plus surname readings that
differ from a character's everyday reading (曾 Zeng, 单 Shan, 区 Ou). Characters outside the
tables are read with pypinyin's offline dictionary (first reading, no tones).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from pypinyin.pinyin_dict import pinyin_dict

from cxo.synth import names as _data

# Surname readings that differ from the character's first dictionary reading, and compound
# (two-character) surnames. Sources: the census surname list and standard surname readings.
_SURNAME_READINGS: Final[dict[str, str]] = {
    "单": "shan",
    "解": "xie",
    "查": "zha",
    "仇": "qiu",
    "朴": "piao",
    "盖": "ge",
    "乐": "yue",
    "黑": "he",
    "宿": "su",
    "繁": "po",
    "秘": "bi",
    "种": "chong",
    "员": "yun",
    "召": "shao",
    "缪": "miao",
    "过": "guo",
    "句": "gou",
    "阚": "kan",
    "隗": "wei",
    "贲": "ben",
    "区": "ou",
    "曾": "zeng",
    "覃": "qin",
    "翟": "zhai",
    "吕": "lv",
    "能": "nai",
    "都": "du",
    "薄": "bo",
    "柏": "bai",
    "那": "na",
    "燕": "yan",
    "纪": "ji",
    "冼": "xian",
    "洗": "xian",
    "莘": "shen",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "单于": "chanyu",
    "令狐": "linghu",
    "澹台": "tantai",
}
_COMPOUND: Final[frozenset[str]] = frozenset(
    [
        "欧阳",
        "司徒",
        "上官",
        "诸葛",
        "司马",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "令狐",
        "夏侯",
        "宇文",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "万俟",
        "闻人",
        "澹台",
        "公冶",
        "宗政",
        "濮阳",
        "太史",
        "申屠",
        "钟离",
        "百里",
        "东郭",
        "西门",
        "呼延",
        "赫连",
        "单于",
    ]
)
# Older romanisations met outside Hong Kong (Wade-Giles, Macau, Taiwan passports).
_EXTRA_LATIN_SURNAMES: Final[dict[str, tuple[str, ...]]] = {
    "chang": ("zhang", "chang"),
    "hsu": ("xu",),
    "tsai": ("cai",),
    "kuo": ("guo",),
    "chou": ("zhou",),
    "hsieh": ("xie",),
    "chiang": ("jiang",),
    "tsao": ("cao",),
    "hsiao": ("xiao",),
    "teo": ("zhang",),
    "tan": ("chen", "tan"),
    "lim": ("lin",),
    "goh": ("wu",),
    "ong": ("wang",),
    "koh": ("xu",),
    "tay": ("zheng",),
    "yeo": ("yang",),
}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_LATIN = re.compile(r"[^a-z\s,\-]")
_SPACES = re.compile(r"[\s\-]+")


_ASCII_DROP: Final = str.maketrans({"'": None, "`": None, ".": " "})


def _fold(s: str) -> str:
    """Lower case ASCII: accents and tone marks dropped, ü as v (lü → lv), apostrophes gone."""
    if s.isascii():
        return _NOT_LATIN.sub(" ", s.lower().replace("u:", "v").translate(_ASCII_DROP))
    s = s.lower().replace("ü", "v").replace("u:", "v")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("'", "").replace("’", "").replace("`", "").replace(".", " ")
    return _NOT_LATIN.sub(" ", s)


def _tone_less(reading: str) -> str:
    return _fold(reading.replace("ü", "v")).strip()


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str | None:
    """The first dictionary reading of one character, without tones (None if unknown)."""
    readings = pinyin_dict.get(ord(ch))
    if not readings:
        return None
    return _tone_less(readings.split(",")[0]) or None


def _key(text: str) -> str:
    return text.lower().replace(" ", "").replace("-", "")


def _build_tables() -> tuple[
    dict[str, str],
    dict[str, str],
    dict[str, str],
    dict[str, tuple[str, ...]],
    dict[str, tuple[str, ...]],
    frozenset[str],
]:
    """Character readings and Latin lookups from the demo world's name data."""
    sur_py: dict[str, str] = {}
    sur_hk: dict[str, str] = {}
    hk_to_py: dict[str, list[tuple[float, str]]] = {}
    for zh, py, hk, share in zip(
        _data.FAMILY_ZH, _data.FAMILY_PINYIN, _data.FAMILY_HK, _data.FAMILY_P_HK, strict=True
    ):
        sur_py[str(zh)] = _key(str(py))
        sur_hk[str(zh)] = _key(str(hk))
        hk_to_py.setdefault(_key(str(hk)), []).append((-float(share), _key(str(py))))
    for zh, reading in _SURNAME_READINGS.items():
        sur_py[zh] = reading
    given_hk: dict[str, str] = {}
    given_hk_to_py: dict[str, list[str]] = {}
    for zh, py, hk in zip(_data.GIVEN_ZH, _data.GIVEN_PINYIN, _data.GIVEN_HK, strict=True):
        given_hk.setdefault(str(zh), str(hk))
        options = given_hk_to_py.setdefault(str(hk), [])
        if str(py) not in options:
            options.append(str(py))
    surname_candidates = {
        hk: tuple(dict.fromkeys(py for _, py in sorted(v))) for hk, v in hk_to_py.items()
    }
    for latin, extra in _EXTRA_LATIN_SURNAMES.items():
        surname_candidates.setdefault(latin, extra)
    pinyin_surnames = frozenset(sur_py.values())
    return (
        sur_py,
        sur_hk,
        given_hk,
        surname_candidates,
        {k: tuple(v) for k, v in given_hk_to_py.items()},
        pinyin_surnames,
    )


SURNAME_PINYIN, SURNAME_HK, GIVEN_CHAR_HK, HK_SURNAME_TO_PINYIN, HK_SYLLABLE_TO_PINYIN, _PY_SUR = (
    _build_tables()
)
WESTERN_SURNAMES: Final[frozenset[str]] = frozenset(_key(str(s)) for s in _data.WESTERN_FAMILY)
CHINESE_LATIN_SURNAMES: Final[frozenset[str]] = frozenset(_PY_SUR) | frozenset(HK_SURNAME_TO_PINYIN)
# Compound Cantonese surnames written as two words ("Sheung Kwun" for 上官, "Au Yeung").
_HK_COMPOUND: Final[frozenset[str]] = frozenset(
    k for k in HK_SURNAME_TO_PINYIN if len(k) > 4 and k in {"auyeung", "sheungkwun", "chukot"}
)


def _nickname_classes() -> dict[str, str]:
    """Every English given name and nickname → one canonical full name.

    Names that share a nickname fall into one class (Christopher, Christine and Chris; Alexander
    and Alexandra), so a nickname never picks the wrong one; the class is named by its first
    full name in the table.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rank: dict[str, int] = {}
    for name, nicks in zip(_data.ENGLISH, _data.NICKNAMES, strict=True):
        full = _key(str(name))
        rank.setdefault(full, len(rank))
        for nick in (full, *(_key(n) for n in nicks)):
            parent[find(nick)] = find(full)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    out: dict[str, str] = {}
    for group in groups.values():
        canon = min((n for n in group if n in rank), key=rank.__getitem__)
        out.update(dict.fromkeys(group, canon))
    return out


NICKNAME_CANON: Final[dict[str, str]] = _nickname_classes()
ENGLISH_NAMES: Final[frozenset[str]] = frozenset(NICKNAME_CANON)
HK_GIVEN_SYLLABLES: Final[frozenset[str]] = frozenset(HK_SYLLABLE_TO_PINYIN)
MAX_ALTS: Final = 12


def canon_token(token: str) -> str:
    """A Latin name token with a nickname replaced by its full name (bill → william)."""
    return NICKNAME_CANON.get(token, token)


def canon_english(name: str | None) -> str | None:
    """The canonical English given name (Pete → peter), or None."""
    if not name:
        return None
    tokens = _fold(name).split()
    return canon_token(tokens[0]) if tokens else None


@dataclass(frozen=True, slots=True)
class ParsedName:
    """The canonical forms of one name; see the module docstring."""

    key: str | None = None
    surname: str | None = None
    given: str | None = None
    english: str | None = None
    hk_key: str | None = None
    alts: tuple[str, ...] = ()
    surname_alts: tuple[str, ...] = ()
    script: str = ""


EMPTY: Final = ParsedName()


def _pair(surname: str, given: str) -> str:
    return f"{surname} {given}".strip()


def _unordered(*tokens: str) -> str:
    return " ".join(sorted(t for t in tokens if t))


@lru_cache(maxsize=8192)
def _han_surname(family: str) -> tuple[str, str | None]:
    """(pinyin, Cantonese) of a family name in characters (surname readings first)."""
    py = SURNAME_PINYIN.get(family) or "".join(char_pinyin(c) or c for c in family)
    return py, SURNAME_HK.get(family)


@lru_cache(maxsize=262144)
def _han_given(given: str) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
    """(joined pinyin, pinyin syllables, joined Cantonese or None, Cantonese syllables)."""
    syllables = tuple(canon_token(char_pinyin(c) or c) for c in given)
    hk = tuple(GIVEN_CHAR_HK.get(c) or "" for c in given)
    joined_hk = canon_token("".join(hk)) if hk and all(hk) else None
    return canon_token("".join(syllables)), syllables, joined_hk, hk if joined_hk else ()


def _han_name(family: str, given: str) -> ParsedName:
    """Characters: pinyin (surname readings) and the Cantonese reading where the table has it."""
    if not family:
        family = given[:2] if given[:2] in _COMPOUND else given[:1]
        given = given[len(family) :]
    sur_py, sur_hk = _han_surname(family)
    g_py, py_syllables, g_hk, hk_syllables = _han_given(given)
    alts = {_unordered(sur_py, g_py), _unordered(sur_py, *py_syllables)}
    hk_key = None
    surname_alts: tuple[str, ...] = (sur_py,)
    if sur_hk and (g_hk or not given):
        hk_key = _pair(sur_hk, g_hk or "")
        alts.add(_unordered(sur_hk, g_hk or ""))
        alts.add(_unordered(sur_hk, *hk_syllables))
        surname_alts = (sur_py, sur_hk) if sur_py < sur_hk else (sur_hk, sur_py)
    return ParsedName(
        key=_pair(sur_py, g_py),
        surname=sur_py,
        given=g_py or None,
        hk_key=hk_key,
        alts=tuple(sorted(alts)),
        surname_alts=surname_alts if len(set(surname_alts)) == len(surname_alts) else (sur_py,),
        script="han",
    )


def _surname_score(tokens: list[str]) -> int:
    joined = "".join(tokens)
    if joined in CHINESE_LATIN_SURNAMES or joined in WESTERN_SURNAMES:
        return 2
    return 0


def _given_score(tokens: list[str]) -> int:
    if not tokens:
        return -1
    ok = all(t in HK_GIVEN_SYLLABLES or t in ENGLISH_NAMES for t in tokens)
    return 1 if ok and "".join(tokens) not in CHINESE_LATIN_SURNAMES else 0


def split_latin(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(family tokens, given tokens) of a Latin name whose order is unknown.

    Tries the family name at either end (one word, or two for Cantonese compounds such as
    "Au Yeung"), scoring a known surname (2) and known given syllables or names (1); ties go to
    family-first for Chinese-looking surnames and given-first for the rest (Western order).
    """
    if len(tokens) == 1:
        return tokens, []
    options: list[tuple[int, int, int, list[str], list[str]]] = []
    for k in (1, 2):
        if len(tokens) <= k:
            break
        for front in (True, False):
            fam = tokens[:k] if front else tokens[-k:]
            rest = tokens[k:] if front else tokens[:-k]
            joined = "".join(fam)
            if k == 2 and joined not in _HK_COMPOUND:
                continue
            chinese = joined in CHINESE_LATIN_SURNAMES and joined not in WESTERN_SURNAMES
            score = 2 * _surname_score(fam) + _given_score(rest)
            options.append((score, int(front == chinese), k, fam, rest))
    best = max(options, key=lambda o: (o[0], o[1], o[2]))
    return best[3], best[4]


def _latin_name(
    family_tokens: list[str], given_tokens: list[str], english: str | None
) -> ParsedName:
    surname = "".join(family_tokens)
    given_canon = [canon_token(t) for t in given_tokens]
    given = canon_token("".join(given_canon)) if given_canon else ""
    alts = {_unordered(surname, given), _unordered(*family_tokens, *given_canon)}
    surname_alts = {surname}
    hk_key = None
    sur_py = HK_SURNAME_TO_PINYIN.get(surname)
    hk_given = bool(given_tokens) and all(t in HK_GIVEN_SYLLABLES for t in given_tokens)
    if sur_py:
        surname_alts.update(sur_py)
        # Cantonese given names have one or two syllables; a single one after a surname that is
        # also pinyin ("Ma Li") is read as pinyin.
        if (
            hk_given
            and len(given_tokens) <= 2
            and (len(given_tokens) > 1 or surname not in _PY_SUR)
        ):
            hk_key = _pair(surname, given)
            per_syllable = [HK_SYLLABLE_TO_PINYIN[t] for t in given_tokens]
            for combo in itertools.islice(itertools.product(sur_py, *per_syllable), MAX_ALTS):
                alts.add(_unordered(combo[0], canon_token("".join(combo[1:]))))
    return ParsedName(
        key=_pair(surname, given),
        surname=surname or None,
        given=given or None,
        english=english,
        hk_key=hk_key,
        alts=tuple(sorted(alts)),
        surname_alts=tuple(sorted(surname_alts)),
        script="latin",
    )


FLAG_CHINESE_SURNAME: Final = 1
FLAG_WESTERN_SURNAME: Final = 2
FLAG_HK_GIVEN: Final = 4
FLAG_ENGLISH: Final = 8
FLAG_PINYIN_SURNAME: Final = 16


def latin_lookup() -> dict[str, tuple[int, str, tuple[str, ...], tuple[str, ...]]]:
    """Per Latin token (or joined surname): flags, canonical form, pinyin candidates as a
    Cantonese surname, pinyin candidates as a Cantonese given-name syllable.

    The vectorised normaliser joins this table instead of calling :func:`parse_name` per row.
    """
    words = CHINESE_LATIN_SURNAMES | WESTERN_SURNAMES | HK_GIVEN_SYLLABLES | ENGLISH_NAMES | _PY_SUR
    out = {}
    for w in sorted(words):
        flags = (
            FLAG_CHINESE_SURNAME * (w in CHINESE_LATIN_SURNAMES)
            | FLAG_WESTERN_SURNAME * (w in WESTERN_SURNAMES)
            | FLAG_HK_GIVEN * (w in HK_GIVEN_SYLLABLES)
            | FLAG_ENGLISH * (w in ENGLISH_NAMES)
            | FLAG_PINYIN_SURNAME * (w in _PY_SUR)
        )
        out[w] = (
            flags,
            canon_token(w),
            HK_SURNAME_TO_PINYIN.get(w, ()),
            HK_SYLLABLE_TO_PINYIN.get(w, ()),
        )
    return out


def han_surname(family: str) -> tuple[str, str | None]:
    """(pinyin, Cantonese or None) of a family name in characters."""
    return _han_surname(family)


def han_given(given: str) -> tuple[str, tuple[str, ...], str | None, tuple[str, ...]]:
    """(joined pinyin, pinyin syllables, joined Cantonese or None, Cantonese syllables)."""
    return _han_given(given)


HAN_COMPOUND_SURNAMES: Final = _COMPOUND
HK_COMPOUND_SURNAMES: Final = _HK_COMPOUND


def _tokens(text: str) -> list[str]:
    return [t for t in _SPACES.split(text.strip()) if t]


def parse_name(full: str | None, family: str | None = None, given: str | None = None) -> ParsedName:
    """Canonical forms of a name given whole (``full``) or in family/given fields.

    The split fields win where present; a Latin ``"Chan Tai Man, Peter"`` gives the English name
    ``peter``; ``"Smith, John"`` (one word before the comma) is read as family, given.
    """
    family = (family or "").strip()
    given = (given or "").strip()
    if family or given:
        if _HAN.search(family + given):
            han_f = "".join(_HAN.findall(family))
            han_g = "".join(_HAN.findall(given))
            if han_f or han_g:
                return _han_name(han_f, han_g) if han_f else _han_name("", han_g)
        f_tokens, g_tokens = _tokens(_fold(family)), _tokens(_fold(given))
        if not f_tokens and not g_tokens:
            return EMPTY
        # Source systems swap the two fields now and then; trust them unless the family field
        # is not a known surname and the given field is.
        if g_tokens and not _surname_score(f_tokens) and _surname_score(g_tokens):
            f_tokens, g_tokens = g_tokens, f_tokens
        if not f_tokens:
            f_tokens, g_tokens = split_latin(g_tokens)
        return _latin_name(f_tokens, g_tokens, None)
    text = (full or "").strip()
    if not text:
        return EMPTY
    han = "".join(_HAN.findall(text))
    if han:
        rest = _tokens(_fold(_HAN.sub(" ", text)).replace(",", " "))
        return dataclasses.replace(
            _han_name("", han), english=canon_token(rest[0]) if rest else None
        )
    folded = _fold(text)
    english: str | None = None
    if "," in folded:
        main, _, after = folded.partition(",")
        after_tokens = _tokens(after.replace(",", " "))
        main_tokens = _tokens(main)
        if len(main_tokens) == 1 and after_tokens:
            return _latin_name(main_tokens, after_tokens, None)
        english = canon_token(after_tokens[0]) if after_tokens else None
        tokens = main_tokens
    else:
        tokens = _tokens(folded)
    if not tokens:
        return EMPTY
    fam, giv = split_latin(tokens)
    return _latin_name(fam, giv, english)


@lru_cache(maxsize=65536)
def search_name(name: str) -> str:
    """The Latin-script search form of a name: lower case, Chinese characters in toneless pinyin
    (phrase-aware, so polyphones read right), one space between syllables or words.

    Golden records store it (``customers.name_latin``); searches compare it without spaces, so
    "张伟", "zhang wei" and "ZhangWei" meet.
    """
    if _HAN.search(name):
        from pypinyin import lazy_pinyin

        name = " ".join(lazy_pinyin(name))
    return " ".join(name.lower().split())
