"""The variables of a survey's wide response file: names, labels, value labels, measure levels.

Pure (no I/O). One variable per answer the survey can store, in questionnaire order, after the
response's own fields (:data:`META`). Names are valid SPSS variable names and stable across
exports, so an export can be imported again with no mapping:

================  =====================================  ==================================
question type     variable(s)                            values
================  =====================================  ==================================
single            ``code``                               the option's value (nominal)
multiple          ``code_<value>`` per option            1 chosen, 0 not (``_m3`` for -3)
rating            ``code`` (+ ``_imp``/``_perf``/``_exp``)  min..max (ordinal)
matrix            row code (+ scale suffix) per row      min..max (ordinal)
slider            ``code``                               min..max (scale)
text              ``code``                               text (string)
================  =====================================  ==================================

Value labels are the options' labels and the scale's anchor labels; variable labels are the
wording (the row's wording for a matrix row, with the scale's name when it is not ``single``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from cxo.surveys.definition import CompiledSurvey, Question

Kind = Literal["number", "text", "datetime"]
Measure = Literal["nominal", "ordinal", "scale"]

SCALE_SUFFIX: Final = {"importance": "_imp", "performance": "_perf", "expectation": "_exp"}
SCALE_WORD: Final = {
    "en": {"importance": "importance", "performance": "performance", "expectation": "expectation"},
    "zh_CN": {"importance": "重要性", "performance": "表现", "expectation": "期望"},
}
CHOSEN: Final = {"en": ("not chosen", "chosen"), "zh_CN": ("未选", "已选")}
# SPSS reserved words cannot be variable names.
RESERVED: Final = frozenset(
    {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
)
MAX_NAME_BYTES: Final = 64
MAX_LABEL_BYTES: Final = 255


@dataclass(frozen=True)
class Variable:
    """One column of the wide file."""

    name: str
    label: str
    kind: Kind
    measure: Measure
    value_labels: dict[float, str] = field(default_factory=dict)
    item_code: str | None = None
    """``answers.item_code`` (None for the response's own fields)."""
    scale: str | None = None
    question: str | None = None
    qtype: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    allowed: frozenset[float] | None = None
    """The only values a choice variable may take (option values; 0/1 for a chosen option)."""
    option_labels: dict[str, float] = field(default_factory=dict)
    """Option wording (any locale, case-folded) → value, so a file may give labels for values."""
    max_length: int | None = None
    reverse: bool = False
    dimension: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        assert self.item_code is not None
        return (self.item_code, self.scale or "single")


# The response's own fields, before the answers. ``field`` names what each holds.
META: Final[tuple[tuple[str, Kind, Measure, str], ...]] = (
    ("response_id", "number", "nominal", "Response id (cxo)"),
    ("source_record_id", "text", "nominal", "Response id in its source system"),
    ("customer_id", "number", "nominal", "Customer id (cxo)"),
    ("customer_ref", "text", "nominal", "Customer record id in a source system"),
    ("survey_version", "number", "nominal", "Survey version"),
    ("locale", "text", "nominal", "Language the survey was answered in"),
    ("channel", "text", "nominal", "Channel (email, link, trigger, import)"),
    ("state", "text", "nominal", "completed or in_progress"),
    ("started_at", "datetime", "scale", "Started (UTC)"),
    ("completed_at", "datetime", "scale", "Completed (UTC)"),
    ("duration_s", "number", "scale", "Duration in seconds"),
    ("quality_flags", "text", "nominal", "Data-quality flags (comma-separated)"),
)
META_NAMES: Final = frozenset(m[0] for m in META)


def meta_variables() -> list[Variable]:
    return [Variable(name=n, label=label, kind=k, measure=m) for n, k, m, label in META]


def clip_bytes(text: str, limit: int = MAX_LABEL_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def spss_name(base: str, taken: set[str]) -> str:
    """A valid, unused SPSS variable name for ``base`` (itself when it already is one)."""
    name = "".join(c if c.isalnum() or c in "_.@#$" else "_" for c in base) or "v"
    if not name[0].isalpha():
        name = "v" + name
    name = name.rstrip(".") or "v"
    if name.upper() in RESERVED:
        name += "_"
    name = clip_bytes(name, MAX_NAME_BYTES)
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f"_{n}"
        candidate = clip_bytes(name, MAX_NAME_BYTES - len(suffix)) + suffix
    taken.add(candidate.casefold())
    return candidate


def _option_suffix(value: int) -> str:
    return f"m{-value}" if value < 0 else str(value)


def _number(x: float) -> float:
    return float(x)


def _label_map(q: Question, locale: str) -> dict[float, str]:
    return {_number(k): clip_bytes(t.get(locale)) for k, t in sorted(q.labels.items())}


def question_variables(q: Question, locale: str, taken: set[str]) -> list[Variable]:
    """The variables of one compiled question."""
    text = q.text.get(locale)
    common = {"question": q.code, "qtype": q.type, "scale": q.scale}
    scale_word = SCALE_WORD.get(locale, SCALE_WORD["en"]).get(q.scale)
    suffix = SCALE_SUFFIX.get(q.scale, "")
    if q.type == "single":
        labels = {_number(o.value): clip_bytes(o.label.get(locale)) for o in q.options}
        words = {
            (getattr(o.label, loc) or "").strip().casefold(): _number(o.value)
            for o in q.options
            for loc in ("en", "zh_CN")
            if getattr(o.label, loc)
        }
        return [
            Variable(
                name=spss_name(q.code + suffix, taken),
                label=clip_bytes(text),
                kind="number",
                measure="nominal",
                value_labels=labels,
                item_code=q.code,
                allowed=frozenset(labels),
                option_labels=words,
                **common,  # type: ignore[arg-type]
            )
        ]
    if q.type == "multiple":
        off, on = CHOSEN.get(locale, CHOSEN["en"])
        return [
            Variable(
                name=spss_name(f"{q.code}_{_option_suffix(o.value)}", taken),
                label=clip_bytes(f"{text}: {o.label.get(locale)}"),
                kind="number",
                measure="nominal",
                value_labels={0.0: off, 1.0: on},
                item_code=f"{q.code}.{o.value}",
                allowed=frozenset({0.0, 1.0}),
                **common,  # type: ignore[arg-type]
            )
            for o in q.options
        ]
    if q.type == "text":
        return [
            Variable(
                name=spss_name(q.code + suffix, taken),
                label=clip_bytes(text),
                kind="text",
                measure="nominal",
                item_code=q.code,
                max_length=q.max_length,
                **common,  # type: ignore[arg-type]
            )
        ]
    measure: Measure = "scale" if q.type == "slider" else "ordinal"
    bounds = {"min": q.min, "max": q.max, "step": q.step if q.type == "slider" else 1.0}
    if q.type == "matrix":
        out = []
        for row in q.rows:
            label = row.text.get(locale)
            if scale_word:
                label = f"{label} ({scale_word})"
            out.append(
                Variable(
                    name=spss_name(row.code + suffix, taken),
                    label=clip_bytes(label),
                    kind="number",
                    measure=measure,
                    value_labels=_label_map(q, locale),
                    item_code=row.code,
                    reverse=row.reverse,
                    dimension=row.dimension,
                    **bounds,  # type: ignore[arg-type]
                    **common,  # type: ignore[arg-type]
                )
            )
        return out
    label = f"{text} ({scale_word})" if scale_word else text
    return [
        Variable(
            name=spss_name(q.code + suffix, taken),
            label=clip_bytes(label),
            kind="number",
            measure=measure,
            value_labels=_label_map(q, locale),
            item_code=q.code,
            **bounds,  # type: ignore[arg-type]
            **common,  # type: ignore[arg-type]
        )
    ]


def item_variables(surveys: Iterable[CompiledSurvey], locale: str = "en") -> list[Variable]:
    """The answer variables of one or more versions of a survey (newest first): every
    (item, scale) once, wording from the first version that asks it."""
    taken = {n.casefold() for n in META_NAMES}
    seen: set[tuple[str, str]] = set()
    out: list[Variable] = []
    for survey in surveys:
        for q in survey.questions():
            for var in question_variables(q, locale, taken):
                if var.key in seen:
                    taken.discard(var.name.casefold())
                    continue
                seen.add(var.key)
                out.append(var)
    return out


def codebook(surveys: Iterable[CompiledSurvey], locale: str = "en") -> list[Variable]:
    """Every variable of the wide file: the response's fields, then the answers."""
    return meta_variables() + item_variables(surveys, locale)


def check_value(var: Variable, value: float) -> str | None:
    """Why ``value`` cannot be an answer to ``var`` (None when it can)."""
    if not math.isfinite(value):
        return "not a number"
    if var.allowed is not None:
        if value not in var.allowed:
            known = ", ".join(_fmt(v) for v in sorted(var.allowed))
            return f"{_fmt(value)} is not one of the options ({known})"
        return None
    if var.min is not None and var.max is not None and not var.min <= value <= var.max:
        return f"{_fmt(value)} is outside the scale {_fmt(var.min)}–{_fmt(var.max)}"
    if var.step and var.min is not None:
        k = (value - var.min) / var.step
        if abs(k - round(k)) > 1e-6:
            return f"{_fmt(value)} is not on the scale's steps of {_fmt(var.step)}"
    return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
