"""Safe CSV cells for spreadsheets."""

from __future__ import annotations

import re
from typing import Any

_NUMBERISH = re.compile(r"^[+-][\d\s().+-]*$")
_DANGEROUS_START = ("=", "@", "\t", "\r", "+", "-")


def csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) while leaving phone numbers intact.

    A text cell starting with ``=``, ``@``, a tab or a carriage return, or with ``+``/``-`` followed
    by anything but a number, gets a leading apostrophe so Excel shows it as text.
    """
    if value is None:
        return ""
    if not isinstance(value, str) or not value.startswith(_DANGEROUS_START):
        return value
    if value[0] in "+-" and _NUMBERISH.match(value):
        return value
    return "'" + value
