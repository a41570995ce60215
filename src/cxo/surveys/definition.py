"""Survey definitions: the authoring form (YAML/JSON) and the compiled form respondents answer.

A survey is a list of pages; a page holds questions. A question is either a custom question
(single or multiple choice, rating, matrix, slider, free text) or a *library block*
(``use: servqual``) that expands into the instrument's items. Compiling expands the blocks, so the
stored definition of each version says exactly what respondents saw.

How answers are stored (one row per value in ``answers``):

=============  =================================================================
question type  answer rows
=============  =================================================================
single         ``item_code = code``, ``value_num`` = the chosen option's value
multiple       one row per option, ``item_code = code.value``, ``value_num`` 1 or 0
rating/slider  ``item_code = code``, ``value_num``
matrix         one row per row, ``item_code`` = the row's code, ``value_num``
text           ``item_code = code``, ``value_text``
=============  =================================================================

``scale`` is the matrix/rating scale's name (importance, performance, expectation for SERVQUAL;
``single`` otherwise), so the same item asked on two scales gives two answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from cxo.vocabulary import N_

LOCALES = ("en", "zh_CN")
Locale = Literal["en", "zh_CN"]
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
ROW_CODE = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,45}$")]
MAX_TEXT = 2000
QUESTION_TYPES = (
    N_("single"),
    N_("multiple"),
    N_("rating"),
    N_("matrix"),
    N_("slider"),
    N_("text"),
)
SCALE_NAMES = (N_("importance"), N_("performance"), N_("expectation"), N_("single"))
SURVEY_STATES = (N_("draft"), N_("live"), N_("closed"))
# survey codes that are page addresses under /surveys/
RESERVED_CODES = frozenset({"new", "check", "deliverability"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """Wording per locale; the survey's locales must all be present."""

    en: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    zh_CN: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _some(self) -> Text:
        if self.en is None and self.zh_CN is None:
            raise ValueError(N_("give the wording in en, zh_CN or both"))
        return self

    def get(self, locale: str) -> str:
        """The wording in ``locale``, falling back to the other language."""
        value = self.zh_CN if locale == "zh_CN" else self.en
        return value or self.en or self.zh_CN or ""

    def missing(self, locales: Sequence[str]) -> list[str]:
        return [loc for loc in locales if getattr(self, loc) is None]


class Option(Strict):
    value: int = Field(ge=-1_000_000, le=1_000_000_000)
    label: Text


class Row(Strict):
    """One row of a matrix: an item with its own code."""

    code: ROW_CODE
    text: Text
    dimension: str | None = Field(default=None, max_length=50)
    reverse: bool = False


class Condition(Strict):
    """Show a question only if an earlier answer satisfies this (``show_if``)."""

    question: str = Field(min_length=1, max_length=50, description="question or matrix-row code")
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "answered", "not_answered"] = (
        "eq"
    )
    value: float | str | list[float | str] | None = None

    @model_validator(mode="after")
    def _value_fits(self) -> Condition:
        needs_list = self.op in ("in", "not_in")
        needs_none = self.op in ("answered", "not_answered")
        if needs_none and self.value is not None:
            raise ValueError(N_("answered / not_answered take no value"))
        if needs_list and not isinstance(self.value, list):
            raise ValueError(N_("in / not_in need a list of values"))
        if (
            not needs_list
            and not needs_none
            and (self.value is None or isinstance(self.value, list))
        ):
            raise ValueError(N_("this operator needs one value"))
        return self


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1, max_length=20)


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1, max_length=20)


def _show_if_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "AnyOf" if "any" in value else "AllOf" if "all" in value else "Condition"
    return (
        "AnyOf"
        if isinstance(value, AnyOf)
        else "AllOf"
        if isinstance(value, AllOf)
        else "Condition"
    )


ShowIf = Annotated[
    Annotated[Condition, Tag("Condition")]
    | Annotated[AnyOf, Tag("AnyOf")]
    | Annotated[AllOf, Tag("AllOf")],
    Discriminator(_show_if_tag),
]


class Question(Strict):
    """A custom question, or (after compiling) one expanded from a library instrument."""

    code: Code
    type: Literal["single", "multiple", "rating", "matrix", "slider", "text"]
    text: Text
    help: Text | None = None
    required: bool = False
    show_if: ShowIf | None = None
    options: list[Option] = Field(default_factory=list, max_length=100)
    min_choices: int | None = Field(default=None, ge=0, le=100)
    max_choices: int | None = Field(default=None, ge=1, le=100)
    min: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    max: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    step: float | None = Field(default=None, gt=0, le=1_000_000)
    labels: dict[int, Text] = Field(default_factory=dict)
    rows: list[Row] = Field(default_factory=list, max_length=100)
    randomize_rows: bool = False
    max_length: int = Field(default=2000, ge=1, le=10_000)
    scale: Literal["importance", "performance", "expectation", "single"] = "single"
    instrument: str | None = Field(
        default=None, max_length=60, description="code@version of the library instrument"
    )
    kind: str | None = Field(default=None, max_length=30, description="the instrument's kind")

    @model_validator(mode="after")
    def _shape(self) -> Question:
        t = self.type
        if t in ("single", "multiple"):
            if len(self.options) < 2:
                raise ValueError(N_("a choice question needs at least two options"))
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(N_("option values must be unique"))
        elif self.options:
            raise ValueError(N_("only single and multiple choice questions have options"))
        if t in ("rating", "matrix", "slider"):
            if self.min is None or self.max is None:
                raise ValueError(N_("give min and max"))
            if self.min >= self.max:
                raise ValueError(N_("min must be below max"))
            if t != "slider" and (self.min != int(self.min) or self.max != int(self.max)):
                raise ValueError(N_("rating and matrix scales run between whole numbers"))
            if t != "slider" and self.max - self.min > 20:
                raise ValueError(N_("a rating scale has at most 21 points; use a slider"))
            bad = [k for k in self.labels if not self.min <= k <= self.max]
            if bad:
                raise ValueError(N_("a scale label lies outside min..max"))
        if t == "matrix":
            if not self.rows:
                raise ValueError(N_("a matrix needs rows"))
            codes = [r.code for r in self.rows]
            if len(set(codes)) != len(codes):
                raise ValueError(N_("matrix row codes must be unique"))
        elif self.rows:
            raise ValueError(N_("only a matrix has rows"))
        if (
            t == "multiple"
            and self.min_choices
            and self.max_choices
            and self.min_choices > self.max_choices
        ):
            raise ValueError(N_("min_choices is above max_choices"))
        return self

    def item_codes(self) -> list[str]:
        """The ``answers.item_code`` values this question can write."""
        if self.type == "matrix":
            return [r.code for r in self.rows]
        if self.type == "multiple":
            return [f"{self.code}.{o.value}" for o in self.options]
        return [self.code]

    def texts(self) -> list[Text]:
        out = [self.text, *self.labels.values(), *(o.label for o in self.options)]
        out += [r.text for r in self.rows]
        return out + ([self.help] if self.help else [])


class LibraryBlock(Strict):
    """``use: servqual`` — the items of a library instrument, on the chosen scales."""

    use: Code
    version: int | None = Field(default=None, ge=1)
    variant: str | None = Field(default=None, max_length=40)
    scales: list[Literal["importance", "performance", "expectation", "single", "text"]] | None = (
        Field(default=None, min_length=1, max_length=3)
    )
    items: list[str] | None = Field(default=None, min_length=1, max_length=100)
    required: bool = False
    randomize_rows: bool = False
    show_if: ShowIf | None = None


def _entry_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "LibraryBlock" if "use" in value else "Question"
    return "LibraryBlock" if isinstance(value, LibraryBlock) else "Question"


Entry = Annotated[
    Annotated[Question, Tag("Question")] | Annotated[LibraryBlock, Tag("LibraryBlock")],
    Discriminator(_entry_tag),
]


class Page(Strict):
    title: Text | None = None
    randomize: bool = Field(default=False, description="shuffle the questions for each respondent")
    questions: list[Entry] = Field(min_length=1, max_length=100)


class CompiledPage(Strict):
    title: Text | None = None
    randomize: bool = False
    questions: list[Question] = Field(min_length=1)


def _both_locales() -> list[Locale]:
    return ["en", "zh_CN"]


class SurveySpec(Strict):
    """The authoring form of a survey (what ``cxo survey create FILE`` reads)."""

    code: Code
    title: Text
    intro: Text | None = None
    thanks: Text | None = None
    locales: list[Locale] = Field(default_factory=_both_locales, min_length=1)
    pages: list[Page] = Field(min_length=1, max_length=50)

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED_CODES:
            raise ValueError(N_("this code is reserved; choose another"))
        return v

    @field_validator("locales")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(N_("locales must be unique"))
        return v


class CompiledSurvey(Strict):
    """What respondents answer: library blocks expanded, every item code known."""

    code: Code
    title: Text
    intro: Text | None = None
    thanks: Text | None = None
    locales: list[Locale]
    pages: list[CompiledPage]

    def questions(self) -> list[Question]:
        return [q for p in self.pages for q in p.questions]

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions() if q.code == code), None)

    def item_index(self) -> dict[str, Question]:
        """Every answer item code → its question."""
        return {c: q for q in self.questions() for c in q.item_codes()}
