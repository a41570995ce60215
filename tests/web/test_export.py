from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cxo.web.export import csv_cell


def test_formulas_are_neutralised() -> None:
    for bad in ("=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3*cmd", "\tx"):
        assert csv_cell(bad).startswith("'")


def test_numbers_and_phones_are_left_alone() -> None:
    for ok in ("+8613800001234", "-12.5", "+1 (415) 555-0100", "陈小明", "", 12, None):
        assert csv_cell(ok) == ("" if ok is None else ok)


@given(st.text())
def test_no_cell_starts_a_formula(value: str) -> None:
    out = csv_cell(value)
    assert not out.startswith(("=", "@", "\t", "\r")) or out.startswith("'")
