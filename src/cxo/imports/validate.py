"""Apply a mapping plan to a batch of source rows and check every field (pure; no I/O).

:func:`check_batch` turns a batch of source columns (all strings) into typed cxo fields and a list
of problems per field. Each problem is a reason code (see ``REASONS`` in :mod:`cxo.imports.fields`)
and the rows it applies to; a row with any problem is quarantined with its first one, in field
order (``country`` first: a phone number without a region of its own takes the row's country). Details are English text naming the field and the value; the reason code is what programs
and translations key on.

Per field, in order: the rule's source (column, split name part or constant); trimmed (unless
``strip: false``), empty → null, then ``default``; ``map``; ``lower``; required check; type parsing
(``enum`` case-insensitive, ``email`` lower-cased, ``phone`` to E.164, dates, timestamps, numbers);
length check. ``country`` and ``currency`` are upper-cased (ISO codes).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxo.imports.arrowtext import (
    as_array,
    clean,
    const_strings,
    iso_timestamps,
    json_member,
    json_objects,
    mask_to_numpy,
    null_where,
)
from cxo.imports.fields import Field
from cxo.imports.mapping import Plan, Rule
from cxo.imports.names import split_name
from cxo.imports.parsing import DATE, TIMESTAMP, parse_dates, parse_numbers, parse_timestamps
from cxo.imports.phones import normalise_phones

EMAIL_SHAPE: Final = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
UPPER_CASE_FIELDS: Final = frozenset({"country", "currency"})
_SHOW: Final = 60  # characters of a value shown in a detail


@dataclass
class Problem:
    """One kind of problem with one field, on the rows where ``rows`` is true."""

    field: str
    reason: str
    rows: np.ndarray
    shown: pa.Array | None = None
    """The value each row had, for the detail text."""
    note: str = ""
    column: str | None = None


@dataclass
class Checked:
    """A checked batch: typed values per mapped field and the problems found."""

    n: int
    values: dict[str, pa.Array]
    problems: list[Problem] = field(default_factory=list)

    @property
    def bad(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for p in self.problems:
            out |= p.rows
        return out

    def first_problems(self) -> tuple[list[int], list[str], list[str]]:
        """(row indices, reason codes, details) of the rows with problems, first problem each."""
        taken = np.zeros(self.n, dtype=bool)
        found: dict[int, tuple[str, str]] = {}
        for p in self.problems:
            fresh = np.flatnonzero(p.rows & ~taken)
            if len(fresh) == 0:
                continue
            taken[fresh] = True
            shown = None if p.shown is None else p.shown.take(pa.array(fresh)).to_pylist()
            for j, i in enumerate(fresh.tolist()):
                found[i] = (p.reason, detail(p, None if shown is None else shown[j]))
        rows = sorted(found)
        return rows, [found[i][0] for i in rows], [found[i][1] for i in rows]

    def problems_of(self, i: int) -> list[tuple[str, str, str]]:
        """Every problem of row ``i`` as (field, reason, detail)."""
        out = []
        for p in self.problems:
            if p.rows[i]:
                shown = None if p.shown is None else p.shown[i].as_py()
                out.append((p.field, p.reason, detail(p, shown)))
        return out


def detail(p: Problem, value: Any) -> str:
    """The detail text of one problem on one row."""
    where = f" (column {p.column})" if p.column else ""
    if p.reason == "missing_required":
        return f"{p.field} is empty{where}"
    text = "" if value is None else str(value)
    if len(text) > _SHOW:
        text = text[:_SHOW] + "…"
    return f"{p.field}: {text!r} {p.note}{where}".rstrip()


def check_batch(
    data: pa.RecordBatch | pa.Table, plan: Plan, *, implicit: MappingABC[str, str] | None = None
) -> Checked:
    """Map and check one batch of source rows (string columns named as in the file).

    ``implicit`` gives values for fields left empty or unmapped (the import's source name for
    ``source_system`` and a survey's code).
    """
    n = data.num_rows
    checked = Checked(n=n, values={})
    splits: dict[tuple[str, str], tuple[pa.Array, pa.Array, pa.Array]] = {}
    implicit = dict(implicit or {})
    by_name = {f.name: f for f in plan.fields}
    # country first: phone numbers without a region of their own use the row's country.
    order = sorted(plan.rules, key=lambda name: name != "country")
    problems: dict[str, list[Problem]] = {}
    for name in order:
        rule = plan.rules[name]
        values, found = _field(
            data, by_name[name], rule, splits, checked.values, implicit.get(name)
        )
        checked.values[name] = values
        problems[name] = found
    for name, value in implicit.items():
        if name in by_name and name not in plan.rules:
            checked.values[name] = const_strings(value, n)
    # Problems in field order, the country first: a phone number may fail only for want of it.
    for name in sorted((f.name for f in plan.fields), key=lambda name: name != "country"):
        checked.problems.extend(problems.get(name, []))
    return checked


def _source(
    data: pa.RecordBatch | pa.Table,
    rule: Rule,
    splits: dict[tuple[str, str], tuple[pa.Array, pa.Array, pa.Array]],
) -> pa.Array:
    n = data.num_rows
    if rule.value is not None:
        return const_strings(rule.value, n)
    if rule.split is not None:
        key = (rule.split, rule.order)
        if key not in splits:
            splits[key] = _split(as_array(data.column(rule.split)), rule.order)
        family, given, english = splits[key]
        return {"family": family, "given": given, "english": english}[str(rule.part)]
    return as_array(data.column(str(rule.column)))


def _split(values: pa.Array, order: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    encoded = as_array(pc.dictionary_encode(clean(values)))
    parts = [split_name(text, order) for text in encoded.dictionary.to_pylist()]
    columns = []
    for k in range(3):
        table = pa.array([p[k] for p in parts], pa.string())
        columns.append(as_array(table.take(encoded.indices)))
    return columns[0], columns[1], columns[2]


def _field(
    data: pa.RecordBatch | pa.Table,
    f: Field,
    rule: Rule,
    splits: dict[tuple[str, str], tuple[pa.Array, pa.Array, pa.Array]],
    done: dict[str, pa.Array],
    implicit: str | None,
) -> tuple[pa.Array, list[Problem]]:
    column = rule.source_column
    values = clean(_source(data, rule, splits), strip=rule.strip)
    found: list[Problem] = []
    if rule.default is not None:
        values = as_array(pc.fill_null(values, rule.default))
    if rule.map is not None:
        values, unmapped = _apply_map(values, rule.map, rule.default)
        if unmapped is not None:
            found.append(
                Problem(
                    f.name,
                    "bad_value",
                    unmapped[0],
                    unmapped[1],
                    "is not in the mapping's map",
                    column,
                )
            )
    if implicit is not None:
        values = as_array(pc.fill_null(values, implicit))
    if rule.lower or f.type in ("email", "enum"):
        values = as_array(pc.utf8_lower(values))
    if f.name in UPPER_CASE_FIELDS:
        values = as_array(pc.utf8_upper(values))
    if f.required:
        missing = ~mask_to_numpy(values.is_valid())
        for p in found:
            missing &= ~p.rows
        if missing.any():
            found.append(Problem(f.name, "missing_required", missing, column=column))
    typed, problem = _typed(f, rule, values, done)
    if problem is not None:
        problem.column = column
        found.append(problem)
    if f.type in ("string", "enum", "email", "phone"):
        # Bytes bound characters from above: count characters only when some value may be long.
        long = mask_to_numpy(pc.greater(pc.binary_length(typed), f.max_length))
        if long.any():
            long = mask_to_numpy(pc.greater(pc.utf8_length(typed), f.max_length))
        if long.any():
            found.append(
                Problem(
                    f.name,
                    "too_long",
                    long,
                    typed,
                    f"is longer than {f.max_length} characters",
                    column,
                )
            )
            typed = null_where(long, typed)
    return typed, found


def _apply_map(
    values: pa.Array, table: dict[str, str], default: str | None
) -> tuple[pa.Array, tuple[np.ndarray, pa.Array] | None]:
    keys = pa.array(list(table), pa.string())
    index = pc.index_in(values, value_set=keys)
    mapped = as_array(pa.array(list(table.values()), pa.string()).take(index))
    unmapped = mask_to_numpy(values.is_valid()) & ~mask_to_numpy(index.is_valid())
    if not unmapped.any():
        return mapped, None
    if default is not None:
        return as_array(pc.fill_null(mapped, default)), None
    return mapped, (unmapped, values)


def _typed(
    f: Field, rule: Rule, values: pa.Array, done: dict[str, pa.Array]
) -> tuple[pa.Array, Problem | None]:
    if f.type == "enum" and f.choices:
        known = mask_to_numpy(pc.is_in(values, value_set=pa.array(f.choices)))
        wrong = mask_to_numpy(values.is_valid()) & ~known
        note = "is not one of " + ", ".join(f.choices)
        return _result(f, values, null_where(wrong, values), wrong, note)
    if f.type == "email":
        ok = mask_to_numpy(pc.match_substring_regex(values, EMAIL_SHAPE))
        wrong = mask_to_numpy(values.is_valid()) & ~ok
        return _result(f, values, null_where(wrong, values), wrong, "is not an e-mail address")
    if f.type == "phone":
        regions: pa.Array | str | None = rule.region or done.get("country")
        result = normalise_phones(values, regions)
        note = "is not a valid phone number"
        if result.letters.any() and result.letters[result.bad].all():
            note = "has letters; a phone number has digits only"
        return _result(f, values, result.e164, result.bad, note, reason="bad_phone")
    if f.type == "date":
        parsed, wrong = parse_dates(values, rule.format)
        note = f"is not a date in the format {rule.format or 'YYYY-MM-DD'}"
        return _result(f, values, parsed, wrong, note, reason="bad_date")
    if f.type == "timestamp":
        parsed, wrong = parse_timestamps(values, rule.format)
        note = f"is not a timestamp in the format {rule.format or 'ISO 8601'}"
        return _result(f, values, parsed, wrong, note, reason="bad_timestamp")
    if f.type == "number":
        parsed, wrong = parse_numbers(values, f.max_abs)
        return _result(f, values, parsed, wrong, "is not a number", reason="bad_number")
    return values, None


_REASON_BY_TYPE: Final = {"enum": "bad_value", "email": "bad_email"}


def _result(
    f: Field,
    shown: pa.Array,
    typed: pa.Array,
    wrong: np.ndarray,
    note: str,
    *,
    reason: str | None = None,
) -> tuple[pa.Array, Problem | None]:
    if not wrong.any():
        return typed, None
    code = reason or _REASON_BY_TYPE[f.type]
    return typed, Problem(f.name, code, wrong, shown, note)


# -- JSON text of rows --------------------------------------------------------------------------


def json_member_text(name: str, values: pa.Array, *, keep_nulls: bool = False) -> pa.Array:
    """``"name":value,`` of typed values: strings, dates and timestamps as JSON strings.

    Dates are ``YYYY-MM-DD``; timestamps ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, with ``.ffffff`` only when
    the time has a fraction of a second; numbers as JSON numbers.
    """
    t = values.type
    if t == DATE:
        text, quote = values.cast(pa.string()), True
    elif t == TIMESTAMP:
        text, quote = iso_timestamps(values), True
    elif pa.types.is_floating(t) or pa.types.is_integer(t):
        text, quote = values.cast(pa.string()), False
    else:
        text, quote = values, True
    return json_member(name, text, quote=quote, keep_nulls=keep_nulls)


def canonical_json(values: MappingABC[str, pa.Array], n: int) -> pa.Array:
    """Canonical JSON per row: keys sorted, nulls left out, compact, non-ASCII as is.

    Equal to ``json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of
    the row's non-null values, dates and timestamps written as ISO 8601 text.
    """
    return json_objects([json_member_text(k, values[k]) for k in sorted(values)], n)


def raw_json(data: pa.RecordBatch | pa.Table) -> pa.Array:
    """Each source row as a JSON object of its columns in file order (empty cells as null)."""
    members = [
        json_member(name, as_array(data.column(i)), quote=True, keep_nulls=True)
        for i, name in enumerate(data.column_names)
    ]
    return json_objects(members, data.num_rows)
