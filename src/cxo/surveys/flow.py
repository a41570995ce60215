"""The respondent's path through a survey: order, skip logic and server-side validation.

Pure functions over a :class:`CompiledSurvey` and the answers given so far; no I/O. Randomised
orders come from the response's own seed, so a respondent who comes back sees the same order.

Answers are keyed ``(item_code, scale)``; a value is a number or a text. Form fields are named by
question code (single, multiple, rating, slider, text) or ``<question>.<row>`` for matrix rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cxo.surveys.definition import (
    AllOf,
    AnyOf,
    CompiledSurvey,
    Condition,
    Question,
    Row,
    ShowIf,
)
from cxo.vocabulary import N_

AnswerKey = tuple[str, str]
Value = float | str
Answers = Mapping[AnswerKey, Value]


@dataclass(frozen=True)
class ShownQuestion:
    """A question as one respondent sees it: rows in their order."""

    question: Question
    rows: tuple[Row, ...] = ()

    @property
    def code(self) -> str:
        return self.question.code


@dataclass
class PageResult:
    """Values parsed from one submitted page, and the problems found (field → message)."""

    values: dict[AnswerKey, Value] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _rng(seed: int, page: int, salt: str = "") -> random.Random:
    # String seeds hash deterministically (not with the per-process hash seed).
    return random.Random(f"{seed}:{page}:{salt}")  # noqa: S311 - ordering, not security


def _lookup(answers: Answers, code: str) -> set[Value] | Value | None:
    """The value of an item code on any scale, or the selected options of a multiple question."""
    for (item, _scale), value in answers.items():
        if item == code:
            return value
    prefix = f"{code}."
    chosen = {
        float(item[len(prefix) :])
        for (item, _scale), value in answers.items()
        if item.startswith(prefix) and value == 1
    }
    if chosen or any(item.startswith(prefix) for item, _ in answers):
        return set(chosen)
    return None


def _compare(op: str, got: Value, want: float | str) -> bool:
    if isinstance(got, str) or isinstance(want, str):
        a, b = str(got), str(want)
        return {"eq": a == b, "ne": a != b}.get(op, False)
    g, w = float(got), float(want)
    return {
        "eq": g == w,
        "ne": g != w,
        "lt": g < w,
        "le": g <= w,
        "gt": g > w,
        "ge": g >= w,
    }[op]


def _holds(cond: Condition, answers: Answers) -> bool:
    got = _lookup(answers, cond.question)
    if cond.op == "answered":
        return got is not None and got != set()
    if cond.op == "not_answered":
        return got is None or got == set()
    if got is None or got == set():
        return False
    wanted = cond.value if isinstance(cond.value, list) else [cond.value]
    if isinstance(got, set):
        hits = {float(w) for w in wanted if w is not None and not isinstance(w, str)} & got
        if cond.op in ("eq", "in"):
            return bool(hits)
        if cond.op in ("ne", "not_in"):
            return not hits
        return False
    if cond.op == "in":
        return any(_compare("eq", got, w) for w in wanted if w is not None)
    if cond.op == "not_in":
        return not any(_compare("eq", got, w) for w in wanted if w is not None)
    assert cond.value is not None and not isinstance(cond.value, list)
    return _compare(cond.op, got, cond.value)


def shows(show_if: ShowIf | None, answers: Answers) -> bool:
    """Whether a question with this condition is shown, given the answers so far."""
    if show_if is None:
        return True
    if isinstance(show_if, AnyOf):
        return any(_holds(c, answers) for c in show_if.any)
    if isinstance(show_if, AllOf):
        return all(_holds(c, answers) for c in show_if.all)
    return _holds(show_if, answers)


def page_questions(
    survey: CompiledSurvey, page: int, *, seed: int, answers: Answers
) -> list[ShownQuestion]:
    """The questions shown on ``page`` in this respondent's order (hidden ones left out)."""
    spec = survey.pages[page]
    questions = list(spec.questions)
    if spec.randomize:
        _rng(seed, page).shuffle(questions)
    shown: list[ShownQuestion] = []
    for q in questions:
        if not shows(q.show_if, answers):
            continue
        rows = list(q.rows)
        if q.randomize_rows:
            _rng(seed, page, q.code).shuffle(rows)
        shown.append(ShownQuestion(q, tuple(rows)))
    return shown


def next_page(survey: CompiledSurvey, after: int, *, seed: int, answers: Answers) -> int | None:
    """The first page after ``after`` with a question to show, or None at the end."""
    for page in range(after + 1, len(survey.pages)):
        if page_questions(survey, page, seed=seed, answers=answers):
            return page
    return None


def previous_page(survey: CompiledSurvey, before: int, *, seed: int, answers: Answers) -> int:
    """The last page before ``before`` with a question to show (or the first page)."""
    for page in range(before - 1, -1, -1):
        if page_questions(survey, page, seed=seed, answers=answers):
            return page
    return 0


def first_page(survey: CompiledSurvey, *, seed: int, answers: Answers) -> int | None:
    return next_page(survey, -1, seed=seed, answers=answers)


def progress(survey: CompiledSurvey, page: int) -> tuple[int, int]:
    """(this page's number, number of pages) for the progress indicator."""
    return page + 1, len(survey.pages)


MAX_FIELD = 10_000


def _clean_text(raw: str) -> str:
    # Control characters other than newline and tab have no place in an answer.
    return "".join(ch for ch in raw if ch in "\n\t" or ord(ch) >= 32).strip()


def _number(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _scalar(q: Question, raw: str, result: PageResult, field_name: str, key: AnswerKey) -> None:
    if q.type == "text":
        text = _clean_text(raw)
        if len(text) > q.max_length:
            result.errors[field_name] = (
                N_("Please keep this to %(n)s characters or fewer."),
                {"n": q.max_length},
            )
            return
        if text:
            result.values[key] = text
        return
    value = _number(raw)
    if value is None:
        result.errors[field_name] = (N_("Please choose one of the answers."), {})
        return
    if q.type == "single":
        if value not in {o.value for o in q.options}:
            result.errors[field_name] = (N_("Please choose one of the answers."), {})
            return
    else:
        lo, hi = q.min, q.max
        assert lo is not None and hi is not None
        if not lo <= value <= hi:
            result.errors[field_name] = (
                N_("Please answer between %(low)s and %(high)s."),
                {"low": _fmt(lo), "high": _fmt(hi)},
            )
            return
        if q.type != "slider" and value != int(value):
            result.errors[field_name] = (N_("Please choose one of the answers."), {})
            return
        if q.type == "slider" and q.step:
            steps = (value - lo) / q.step
            if abs(steps - round(steps)) > 1e-9:
                result.errors[field_name] = (
                    N_("Please move the slider to one of its steps."),
                    {},
                )
                return
    result.values[key] = value


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


def parse_page(
    shown: Sequence[ShownQuestion],
    form: Mapping[str, Sequence[str]],
    *,
    enforce_required: bool = True,
) -> PageResult:
    """Validate one submitted page. Unknown fields are ignored; blank means not answered."""
    result = PageResult()
    for sq in shown:
        q = sq.question
        if q.type == "matrix":
            missing = 0
            for row in sq.rows or q.rows:
                name = f"{q.code}.{row.code}"
                raw = (form.get(name) or [""])[0][:MAX_FIELD]
                if raw.strip() == "":
                    missing += 1
                    continue
                _scalar(q, raw, result, name, (row.code, q.scale))
            if missing and q.required and enforce_required:
                result.errors.setdefault(
                    q.code, (N_("Please answer every row (%(n)s left)."), {"n": missing})
                )
            continue
        if q.type == "multiple":
            raws = [r[:MAX_FIELD] for r in form.get(q.code, []) if r.strip()]
            chosen: set[float] = set()
            valid = {float(o.value) for o in q.options}
            for raw in raws:
                value = _number(raw)
                if value is None or value not in valid:
                    result.errors[q.code] = (N_("Please choose from the answers given."), {})
                    break
                chosen.add(value)
            if q.code in result.errors:
                continue
            if not chosen:
                if q.required and enforce_required:
                    result.errors[q.code] = (N_("Please answer this question."), {})
                continue
            if q.min_choices and len(chosen) < q.min_choices:
                result.errors[q.code] = (
                    N_("Please choose at least %(n)s."),
                    {"n": q.min_choices},
                )
                continue
            if q.max_choices and len(chosen) > q.max_choices:
                result.errors[q.code] = (N_("Please choose at most %(n)s."), {"n": q.max_choices})
                continue
            for o in q.options:
                result.values[(f"{q.code}.{o.value}", q.scale)] = 1.0 if o.value in chosen else 0.0
            continue
        raw = (form.get(q.code) or [""])[0]
        if raw.strip() == "":
            if q.required and enforce_required:
                result.errors[q.code] = (N_("Please answer this question."), {})
            continue
        _scalar(q, raw, result, q.code, (q.code, q.scale))
    return result


def page_keys(survey: CompiledSurvey, page: int) -> list[AnswerKey]:
    """Every answer key the questions of ``page`` can write (to replace them on save)."""
    keys: list[AnswerKey] = []
    for q in survey.pages[page].questions:
        keys += [(code, q.scale) for code in q.item_codes()]
    return keys


def visible_keys(survey: CompiledSurvey, *, seed: int, answers: Answers) -> set[AnswerKey]:
    """Answer keys of questions still shown given the final answers (others are dropped)."""
    keys: set[AnswerKey] = set()
    for page in range(len(survey.pages)):
        for sq in page_questions(survey, page, seed=seed, answers=answers):
            keys |= {(code, sq.question.scale) for code in sq.question.item_codes()}
    return keys
