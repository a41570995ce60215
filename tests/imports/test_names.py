"""Splitting whole names into family, given and English names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.imports.names import SplitName, split_name


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("陈大文", "auto", SplitName("陈", "大文")),
        ("欧阳娜娜", "auto", SplitName("欧阳", "娜娜")),
        ("司徒 志明", "auto", SplitName("司徒", "志明")),
        ("欧阳", "auto", SplitName("欧", "阳")),  # two characters: one family, one given
        ("陈", "auto", SplitName("陈", None)),
        ("Chan Tai Man, Peter", "auto", SplitName("Chan", "Tai Man", "Peter")),
        ("Chan Tai Man", "auto", SplitName("Chan", "Tai Man")),
        ("Tai Man Chan", "auto", SplitName("Chan", "Tai Man")),
        ("William Smith", "auto", SplitName("Smith", "William")),
        ("Smith, William", "auto", SplitName("Smith", "William")),
        ("陈大文, Peter", "auto", SplitName("陈", "大文", "Peter")),
        ("Yang Xianglang", "auto", SplitName("Xianglang", "Yang")),
        ("Yang Xianglang", "family_first", SplitName("Yang", "Xianglang")),
        ("Chan Tai Man", "given_first", SplitName("Man", "Chan Tai")),
        ("Madonna", "auto", SplitName("Madonna", None)),
        ("Ching Ching Wong, Veronica", "auto", SplitName("Wong", "Ching Ching", "Veronica")),
        ("Wong Ka Wing", "auto", SplitName("Wong", "Ka Wing")),
        ("Mary Ann Lee", "auto", SplitName("Lee", "Mary Ann")),
        (",,", "auto", SplitName(None, None)),
        ("  ", "auto", SplitName(None, None)),
        ("Wong，Ka Wing", "auto", SplitName("Wong", "Ka Wing")),  # full-width comma
    ],
)
def test_split_name(text: str, order: str, expected: SplitName) -> None:
    assert split_name(text, order) == expected  # type: ignore[arg-type]


@settings(deadline=None)
@given(st.text(alphabet="陈李王欧阳司徒大文小明 ,abcXYZ", max_size=12))
def test_split_never_loses_letters(text: str) -> None:
    def letters(s: str) -> list[str]:
        return sorted(s.replace(" ", "").replace(",", "").replace("，", ""))

    parts = split_name(text, "auto")
    assert letters("".join(p for p in parts if p)) == letters(text)
