"""Data-quality flags of survey responses: pure functions, no I/O.

A response is flagged, never deleted. ``responses.quality_flags`` holds a JSON object naming each
flag raised with its evidence (``{}`` = checked and clean, NULL = not checked yet); analysis leaves
flagged responses out unless asked to include them, and an analyst's ``include_override`` decides
over the flags (true: include anyway; false: exclude even when clean). See docs/voc-data.md.

Flags and their thresholds (all in :class:`Thresholds`):

``straight_lining``
    Non-differentiation in rating grids (Kim, Dykema, Stevenson, Black & Moberg 2019,
    "Straightlining: Overview of measurement, comparison of indicators, and effects in mail–web
    mixed-mode surveys", *Social Science Computer Review* 37(2): 214–233, compare indicators of
    this kind, from "all answers identical" to the within-grid standard deviation). A grid
    (matrix) counts when at least ``min_grid_rows`` (5) rows are answered; it is straight-lined
    when its answers are identical or their standard deviation is below ``max_grid_sd`` (0.25
    scale points: at most one answer one point off in a grid of 16 rows or more). The response is
    flagged when *more than half* of its countable grids are straight-lined (one grid of one,
    both of two, two of three), or when a grid that mixes reverse-keyed and regular rows is
    answered identically away from the scale's midpoint: agreeing equally with a statement and its
    opposite is a contradiction, not an opinion.
``speeding``
    Too fast to have read the questions: the duration is below ``seconds_per_item`` (2 s) times
    the closed items answered — the per-item floor of Huang, Curran, Keeney, Poposki & DeShon
    (2012), "Detecting and deterring insufficient effort responding to surveys", *Journal of
    Business and Psychology* 27: 99–114 — or below ``median_share`` (40 %) of the survey's median
    duration of completed responses (needs ``min_median_n`` durations). Relative-to-median
    definitions follow Greszki, Meyer & Schoen (2015), "Exploring the effects of removing 'too
    fast' responses and respondents from web surveys", *Public Opinion Quarterly* 79(2): 471–503;
    the 40 % cut-off is cxo's choice (Leiner 2019, *Survey Research Methods* 13(3): 229–248,
    discusses a relative speed index of 2, i.e. 50 %). Responses without both times are not
    judged.
``inconsistent``
    Answers that contradict each other: within a grid, a reverse-keyed dimension (RQ affective
    conflict, loyalty switching intention) rated *high* together with a regular dimension of the
    same grid rated high (e.g. high ``rq_conflict_*`` with high ``rq_sat_*``; high ``loy_switch``
    with high ``loy_repurchase``), "high" meaning the top sixth of the scale (6–7 on 1–7); and the
    NPS question against the loyalty *recommend* item when their positions on their scales lie
    ``nps_gap`` (0.7) or more apart (e.g. NPS 9 and "I will say positive things" 2 of 7).
``duplicate``
    A second response of the same respondent: the same invitation, the same customer (unless
    both came through different invitations: separate waves), or identical answers from the same
    client (keyed hash of address and agent). The first response (earliest start) is kept clean;
    later ones are flagged with the id of the first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cxo.surveys.definition import CompiledSurvey

FLAGS: Final = ("straight_lining", "speeding", "inconsistent", "duplicate")

AnswerKey = tuple[str, str]
"""(item code, scale)."""
Answers = Mapping[AnswerKey, float | str | None]


@dataclass(frozen=True)
class Thresholds:
    min_grid_rows: int = 5
    max_grid_sd: float = 0.25
    seconds_per_item: float = 2.0
    median_share: float = 0.40
    min_median_n: int = 20
    high_share: float = 5 / 6
    nps_gap: float = 0.7


DEFAULT: Final = Thresholds()


# -- reading flags ------------------------------------------------------------------------------


def parse_flags(value: Any) -> Any:
    """Stored flags as Python data: the JSON column may come back as text on some drivers."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def flag_names(flags: Any) -> list[str]:
    """The flags raised, in a stable order (``flags`` as stored: a dict, a list or None)."""
    if not flags:
        return []
    names = list(flags) if isinstance(flags, dict | list | tuple) else []
    return sorted(str(n) for n in names)


def excluded(flags: Any, include_override: bool | None) -> bool:
    """True when analysis leaves the response out: flagged and not overridden, or overridden
    to be excluded."""
    if include_override is not None:
        return not include_override
    return bool(flag_names(flags))


# -- helpers ------------------------------------------------------------------------------------


def _num(value: float | str | None) -> float | None:
    if value is None or isinstance(value, str):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _sd(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


@dataclass(frozen=True)
class Grid:
    code: str
    scale: str
    min: float
    max: float
    rows: tuple[tuple[str, bool, str], ...]
    """(row code, reverse-keyed, dimension) of each row."""


@dataclass(frozen=True)
class Layout:
    """What the checks need of a compiled survey, worked out once per survey."""

    grids: tuple[Grid, ...]
    nps: tuple[AnswerKey, float, float] | None
    recommend: tuple[AnswerKey, float, float] | None


def layout(survey: CompiledSurvey | Layout) -> Layout:
    if isinstance(survey, Layout):
        return survey
    grids = tuple(
        Grid(
            q.code,
            q.scale,
            q.min,
            q.max,
            tuple((r.code, r.reverse, r.dimension or "") for r in q.rows),
        )
        for q in survey.questions()
        if q.type == "matrix" and q.min is not None and q.max is not None
    )
    nps = next(
        (
            ((q.code, q.scale), q.min, q.max)
            for q in survey.questions()
            if q.kind == "nps" and q.type == "rating" and q.min is not None and q.max is not None
        ),
        None,
    )
    return Layout(grids, nps, _recommend_item(survey))


def _grid_answers(g: Grid, answers: Answers) -> list[tuple[str, float, bool, str]]:
    """(row code, value, reverse, dimension) of a grid's answered rows."""
    out = []
    for code, reverse, dimension in g.rows:
        x = _num(answers.get((code, g.scale)))
        if x is not None:
            out.append((code, x, reverse, dimension))
    return out


def _round(x: float) -> float:
    return round(x, 3)


# -- straight-lining ----------------------------------------------------------------------------


def straight_lining(
    survey: CompiledSurvey | Layout, answers: Answers, t: Thresholds = DEFAULT
) -> dict[str, Any] | None:
    """The straight-lined grids as evidence, or None."""
    countable = 0
    lined: list[dict[str, Any]] = []
    contradictory: list[str] = []
    for q in layout(survey).grids:
        got = _grid_answers(q, answers)
        if len(got) < t.min_grid_rows:
            continue
        countable += 1
        values = [v for _, v, _, _ in got]
        sd = _sd(values)
        if sd < t.max_grid_sd:
            lined.append({"grid": q.code, "rows": len(values), "sd": _round(sd)})
        midpoint = (q.min + q.max) / 2
        mixed = {rev for _, _, rev, _ in got} == {True, False}
        if mixed and sd == 0 and values[0] != midpoint:
            contradictory.append(q.code)
    if countable and (2 * len(lined) > countable or contradictory):
        out: dict[str, Any] = {"grids": lined, "countable": countable}
        if contradictory:
            out["reverse_keyed"] = contradictory
        return out
    return None


# -- speeding -----------------------------------------------------------------------------------


def closed_items(answers: Answers) -> int:
    return sum(1 for v in answers.values() if _num(v) is not None)


def speeding(
    seconds: float | None,
    items: int,
    median: float | None,
    t: Thresholds = DEFAULT,
) -> dict[str, Any] | None:
    """Evidence that ``seconds`` is too fast for ``items`` closed answers, or None."""
    if seconds is None or items <= 0:
        return None
    floor = t.seconds_per_item * items
    relative = t.median_share * median if median else None
    if seconds < floor or (relative is not None and seconds < relative):
        out: dict[str, Any] = {"seconds": _round(seconds), "floor": _round(floor)}
        if median:
            out["median"] = _round(median)
            out["share_of_median"] = _round(seconds / median)
        return out
    return None


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(v for v in values if v is not None and math.isfinite(v) and v >= 0)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- inconsistency ------------------------------------------------------------------------------


def _position(x: float, low: float, high: float) -> float:
    return (x - low) / (high - low)


def inconsistency(
    survey: CompiledSurvey | Layout, answers: Answers, t: Thresholds = DEFAULT
) -> dict[str, Any] | None:
    """The contradictions found, or None."""
    found: list[dict[str, Any]] = []
    lay = layout(survey)
    for q in lay.grids:
        high = q.min + t.high_share * (q.max - q.min)
        by_dim: dict[tuple[str, bool], list[float]] = {}
        for _, value, rev, dim in _grid_answers(q, answers):
            by_dim.setdefault((dim, rev), []).append(value)
        means = {k: sum(v) / len(v) for k, v in by_dim.items()}
        for (rdim, rev), rmean in means.items():
            if not rev or rmean < high:
                continue
            for (dim, other_rev), mean in means.items():
                if not other_rev and mean >= high:
                    found.append(
                        {
                            "grid": q.code,
                            "reverse": rdim or "reverse-keyed rows",
                            "reverse_mean": _round(rmean),
                            "regular": dim or "regular rows",
                            "regular_mean": _round(mean),
                        }
                    )
    if lay.nps is not None and lay.recommend is not None:
        nps_key, nps_low, nps_top = lay.nps
        (code, scale), low, top = lay.recommend
        x = _num(answers.get(nps_key))
        y = _num(answers.get((code, scale)))
        if x is not None and y is not None:
            gap = abs(_position(x, nps_low, nps_top) - _position(y, low, top))
            if gap >= t.nps_gap:
                found.append({"nps": x, code: y, "gap": _round(gap)})
    return {"contradictions": found} if found else None


def _recommend_item(survey: CompiledSurvey) -> tuple[AnswerKey, float, float] | None:
    """The loyalty instrument's *recommend* item (its key, scale min and max), if asked."""
    for q in survey.questions():
        if q.kind != "loyalty" or q.min is None or q.max is None:
            continue
        if q.type == "matrix":
            for row in q.rows:
                if row.dimension == "recommend" and not row.reverse:
                    return (row.code, q.scale), q.min, q.max
        elif q.type == "rating" and q.code == "loy_recommend":
            return (q.code, q.scale), q.min, q.max
    return None


# -- one response -------------------------------------------------------------------------------


def response_flags(
    survey: CompiledSurvey | Layout,
    answers: Answers,
    *,
    seconds: float | None,
    survey_median: float | None,
    t: Thresholds = DEFAULT,
) -> dict[str, Any]:
    """Every per-response flag (all but ``duplicate``) with its evidence; ``{}`` when clean."""
    survey = layout(survey)
    out: dict[str, Any] = {}
    if (found := straight_lining(survey, answers, t)) is not None:
        out["straight_lining"] = found
    if (found := speeding(seconds, closed_items(answers), survey_median, t)) is not None:
        out["speeding"] = found
    if (found := inconsistency(survey, answers, t)) is not None:
        out["inconsistent"] = found
    return out


# -- duplicates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What duplicate detection needs to know of one response."""

    id: int
    order: tuple[Any, ...]
    """Sort key: earliest first (started time, then id)."""
    customer: str | None = None
    invitation: int | None = None
    client: str | None = None
    signature: str | None = None
    """A digest of the answers (None when there are none)."""


def duplicates(facts: Iterable[Facts]) -> dict[int, dict[str, Any]]:
    """Response id → ``{"of": first response id, "by": invitation|customer|client}`` for every
    response that repeats an earlier one."""
    out: dict[int, dict[str, Any]] = {}
    by_invitation: dict[int, int] = {}
    by_customer: dict[str, list[Facts]] = {}
    by_client: dict[tuple[str, str], int] = {}
    for f in sorted(facts, key=lambda f: f.order):
        if f.invitation is not None:
            first = by_invitation.setdefault(f.invitation, f.id)
            if first != f.id:
                out[f.id] = {"of": first, "by": "invitation"}
                continue
        if f.customer is not None:
            earlier = by_customer.setdefault(f.customer, [])
            same = next(
                (
                    e
                    for e in earlier
                    if e.invitation is None or f.invitation is None or e.invitation == f.invitation
                ),
                None,
            )
            earlier.append(f)
            if same is not None:
                out[f.id] = {"of": same.id, "by": "customer"}
                continue
        if f.client is not None and f.signature is not None:
            first = by_client.setdefault((f.client, f.signature), f.id)
            if first != f.id:
                out[f.id] = {"of": first, "by": "client"}
    return out
