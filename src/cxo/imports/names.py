"""Split a whole name into family name, given name and English name (pure functions).

Rules, kept simple on purpose (a mapping can force the order with ``order:``):

- Chinese characters (陈大文, 欧阳娜娜): always family first; the family name is the first character,
  or the first two when they are a compound surname (欧阳 司徒 诸葛 …). Spaces and a middle dot
  between the parts are ignored.
- A comma: ``Chan Tai Man, Peter`` (Hong Kong style: at least two words before the comma, the first
  or the last a known romanised Chinese surname) → family ``Chan``, given ``Tai Man``, English
  name ``Peter``; the words before the comma are split as below. Otherwise ``Smith, William`` →
  family ``Smith``, given ``William``.
- Latin letters without a comma, ``order: auto``: family first when the name has at least three
  words and its first word is a more likely Chinese surname than its last (``Chan Tai Man``, but
  ``Tai Man Chan``: a very common surname such as Chan, Wong or Zhang outranks a rarer one such
  as Tai or Man, which are also given names); otherwise given first (``William Smith``, and also
  ``Yang Xianglang``: use ``order: family_first`` for a source that writes mainland pinyin names
  family first).
- A single word is a family name.
"""

from __future__ import annotations

import functools
import re
from typing import Final, Literal, NamedTuple

NameOrder = Literal["auto", "family_first", "given_first"]
NAME_ORDERS: Final[tuple[str, ...]] = ("auto", "family_first", "given_first")
NAME_PARTS: Final[tuple[str, ...]] = ("family", "given", "english")

COMPOUND_SURNAMES: Final[frozenset[str]] = frozenset(
    "欧阳 司徒 诸葛 上官 司马 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 夏侯 轩辕 令狐 钟离".split()  # noqa: SIM905
)

# Common Chinese surnames as written in pinyin, Hong Kong (Cantonese) and Wade-Giles romanisation.
# Lower case; only used to recognise "Chan Tai Man"-style names.
CHINESE_SURNAMES_LATIN: Final[frozenset[str]] = frozenset(
    """
    ai an ang au bai bao bei bi bian bo bu cai cao cen chai chan chang chao chau che chen cheng
    cheong cheuk cheung chi chiang chiu cho choi chong chou chow choy chu chuang chuk chun chung
    cui dai deng di diao ding dong dou du duan fan fang fei feng fok fong fu fung gan gao ge geng
    gong gu guan guo hai han hang hao he heung ho hon hong hou hsu hu hua huang hui hung huo
    ip jia jian jiang jin jing kam kan kang ko kong ku kuan kung kwan kwok kwong lai lam lan lang
    lau law lee lei leong leung li lian liang liao lim lin ling liu lo lok long loo lou lu lui
    luk lun luo lui lung ma mai mak man mao mei meng miao min ming mo mok mui mung ng ngai ni
    ning niu ou pan pang pei peng poon pun qi qian qiao qin qiu qu ren shao shek shen sheng shi
    shih shum shu shui si sin sit siu so song su sui sun sung szeto tai tam tan tang tao tian
    tin ting to tong tsai tsang tsao tse tsoi tsui tung wan wang wei wen wo wong woo wu xi xia
    xiang xiao xie xin xiong xu xue yan yang yao ye yee yeung yi yim yin yip yiu yu yuan yue
    yuen yung zeng zhai zhan zhang zhao zhen zheng zhong zhou zhu zhuang zou
    """.split()  # noqa: SIM905 - easier to read and extend as text
)

# The most common of them (Hong Kong and mainland); they outrank the others above.
COMMON_SURNAMES_LATIN: Final[frozenset[str]] = frozenset(
    """
    au cai cao chan chau chen cheng cheung chiu choi chow chu chung dai deng ding dong du fan
    feng fong fu fung gao guo han ho hu huang hui jiang jin ko kwan kwok lai lam lau law lee
    leung li liang lin liu lo lu lui luo ma mak mok ng pan pang peng poon qian ren shen siu so
    song su sun tam tang tian tsang tse tsui wang wei wong wu xiao xie xu xue yan yang yao ye
    yeung yip yu yuan yuen zeng zhang zhao zheng zhong zhou zhu
    """.split()  # noqa: SIM905 - easier to read and extend as text
)

_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SEPARATORS: Final = re.compile(r"[\s·・•.]+")


class SplitName(NamedTuple):
    family: str | None
    given: str | None
    english: str | None = None


def _is_han(text: str) -> bool:
    return _HAN.search(text) is not None


def _split_han(text: str) -> SplitName:
    compact = _SEPARATORS.sub("", text)
    if len(compact) <= 1:
        return SplitName(compact or None, None)
    cut = 2 if compact[:2] in COMPOUND_SURNAMES and len(compact) > 2 else 1
    return SplitName(compact[:cut], compact[cut:] or None)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if w]


def _family_first(words: list[str]) -> SplitName:
    return SplitName(words[0], " ".join(words[1:]) or None)


def _given_first(words: list[str]) -> SplitName:
    return SplitName(words[-1], " ".join(words[:-1]) or None)


@functools.lru_cache(maxsize=200_000)
def split_name(text: str, order: NameOrder = "auto") -> SplitName:
    """Split one whole name (see the module docstring for the rules)."""
    text = text.strip()
    if not text:
        return SplitName(None, None)
    if "," in text or "，" in text:
        left, right = (p.strip(" ,，") for p in re.split(r"[,，]", text, maxsplit=1))
        left_words = _words(left)
        if _is_han(left):
            family, given, _ = _split_han(left)
            return SplitName(family, given, right or None)
        chinese_style = len(left_words) >= 2 and (
            _surname_score(left_words[0]) or _surname_score(left_words[-1])
        )
        if order == "family_first" and len(left_words) >= 2:
            family, given, _ = _family_first(left_words)
            return SplitName(family, given, right or None)
        if order == "given_first" and len(left_words) >= 2:
            family, given, _ = _given_first(left_words)
            return SplitName(family, given, right or None)
        if order == "auto" and chinese_style:
            split = _family_first if _surname_first(left_words) else _given_first
            family, given, _ = split(left_words)
            return SplitName(family, given, right or None)
        # "Smith, William": family name, comma, given names.
        return SplitName(left or None, right or None)
    if _is_han(text):
        return _split_han(text)
    words = _words(text)
    if len(words) == 1:
        return SplitName(words[0], None)
    if order == "family_first":
        return _family_first(words)
    if order == "given_first":
        return _given_first(words)
    if len(words) >= 3 and _surname_first(words):
        return _family_first(words)
    return _given_first(words)


def _surname_score(word: str) -> int:
    w = word.lower()
    return 2 if w in COMMON_SURNAMES_LATIN else 1 if w in CHINESE_SURNAMES_LATIN else 0


def _surname_first(words: list[str]) -> bool:
    """Whether the first word is a likelier Chinese surname than the last (a tie of two common
    surnames counts as family first, as Hong Kong writes them)."""
    first, last = _surname_score(words[0]), _surname_score(words[-1])
    return first > last or first == last == 2
