"""Compute and store the data-quality flags of a survey's responses; pick the responses analysis
uses. Keyword-only functions taking a connection; the caller owns the transaction.

:func:`flag_responses` reads the responses of every version of a survey that has a definition in
batches, computes :mod:`cxo.surveys.quality` flags for each (duplicates across all of them), and
writes ``responses.quality_flags`` where it changed (so a second run changes nothing). It is
audited (``survey.quality``).

:func:`analysis_filter` / :func:`analysis_response_ids` give the responses analysis should use:
completed, and not flagged unless ``include_flagged`` — with an analyst's ``include_override``
deciding over the flags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.governance import audit
from cxo.store.bulk import append_rows, is_duckdb
from cxo.surveys.exchange import survey_versions
from cxo.surveys.models import answers, responses, surveys
from cxo.surveys.quality import (
    DEFAULT,
    FLAGS,
    Facts,
    Layout,
    Thresholds,
    duplicates,
    flag_names,
    layout,
    median,
    parse_flags,
    response_flags,
)

BATCH = 2000


@dataclass
class QualityCounts:
    """The outcome of :func:`flag_responses`."""

    code: str
    responses: int = 0
    checked: int = 0
    """Responses of versions with a definition (the others cannot be judged)."""
    flagged: int = 0
    changed: int = 0
    per_flag: dict[str, int] = field(default_factory=dict)
    median_seconds: float | None = None
    overridden: int = 0
    """Flagged responses an analyst decided to include anyway."""


def _seconds(started: Any, completed: Any) -> float | None:
    if started is None or completed is None:
        return None
    if isinstance(started, str):
        started, completed = (
            dt.datetime.fromisoformat(started),
            dt.datetime.fromisoformat(completed),
        )
    if (started.tzinfo is None) != (completed.tzinfo is None):
        started, completed = started.replace(tzinfo=None), completed.replace(tzinfo=None)
    return (completed - started).total_seconds()


def _iter_responses(
    conn: Connection, survey_ids: list[int], batch: int
) -> Iterator[tuple[Any, dict[tuple[str, str], Any]]]:
    """Every response of ``survey_ids`` with its answers, in id order, ``batch`` at a time."""
    r, a = responses.c, answers.c
    last = 0
    while True:
        rows = conn.execute(
            sa.select(
                r.id,
                r.survey_id,
                r.invitation_id,
                r.customer_id,
                r.customer_record_id,
                r.client_hash,
                r.state,
                r.started_at,
                r.completed_at,
                r.quality_flags,
                r.include_override,
            )
            .where(r.survey_id.in_(survey_ids), r.id > last)
            .order_by(r.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = int(rows[-1].id)
        got: dict[int, dict[tuple[str, str], Any]] = {int(x.id): {} for x in rows}
        found = conn.execute(
            sa.select(a.response_id, a.item_code, a.scale, a.value_num, a.value_text).where(
                a.response_id.in_(list(got))
            )
        ).all()
        for rid, item, scale, num, text in found:
            got[rid][(item, scale or "single")] = num if num is not None else text
        for row in rows:
            yield row, got[int(row.id)]


def _signature(given: dict[tuple[str, str], Any]) -> str | None:
    if not given:
        return None
    text = json.dumps(sorted((k[0], k[1], str(v)) for k, v in given.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _customer_key(row: Any) -> str | None:
    if row.customer_id is not None:
        return f"id:{int(row.customer_id)}"
    if row.customer_record_id:
        return f"ref:{row.customer_record_id}"
    return None


def survey_median(conn: Connection, survey_ids: list[int]) -> tuple[float | None, int]:
    """The median duration (seconds) of the completed responses of ``survey_ids``, and how many."""
    r = responses.c
    rows = conn.execute(
        sa.select(r.started_at, r.completed_at).where(
            r.survey_id.in_(survey_ids),
            sa.func.coalesce(r.state, "completed") == "completed",
            r.started_at.is_not(None),
            r.completed_at.is_not(None),
        )
    )
    seconds = [s for s in (_seconds(x.started_at, x.completed_at) for x in rows) if s is not None]
    return median(seconds), len(seconds)


def flag_responses(
    conn: Connection,
    *,
    survey_code: str,
    actor: str = "system",
    thresholds: Thresholds = DEFAULT,
    batch: int = BATCH,
    now: dt.datetime | None = None,
) -> QualityCounts:
    """(Re)compute the quality flags of every response of ``survey_code``; store the changes."""
    versions = survey_versions(conn, survey_code)
    compiled: dict[int, Layout] = {sid: layout(c) for sid, _, c in versions}
    all_ids = [
        int(i)
        for i in conn.execute(
            sa.select(surveys.c.id).where(surveys.c.code == survey_code)
        ).scalars()
    ]
    counts = QualityCounts(code=survey_code)
    counts.responses = int(
        conn.execute(
            sa.select(sa.func.count()).where(responses.c.survey_id.in_(all_ids))
        ).scalar_one()
    )
    mid, n = survey_median(conn, list(compiled))
    usable_median = mid if n >= thresholds.min_median_n else None
    counts.median_seconds = usable_median
    computed: dict[int, dict[str, Any]] = {}
    stored: dict[int, Any] = {}
    override: dict[int, bool | None] = {}
    facts: list[Facts] = []
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    for row, given in _iter_responses(conn, list(compiled), batch):
        rid = int(row.id)
        seconds = (
            _seconds(row.started_at, row.completed_at)
            if (row.state or "completed") == "completed"
            else None
        )
        computed[rid] = response_flags(
            compiled[int(row.survey_id)],
            given,
            seconds=seconds,
            survey_median=usable_median,
            t=thresholds,
        )
        stored[rid] = parse_flags(row.quality_flags)
        override[rid] = row.include_override
        started = row.started_at
        if isinstance(started, dt.datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=dt.UTC)
        facts.append(
            Facts(
                id=rid,
                order=(started or far_future, rid),
                customer=_customer_key(row),
                invitation=None if row.invitation_id is None else int(row.invitation_id),
                client=row.client_hash,
                signature=_signature(given),
            )
        )
    for rid, evidence in duplicates(facts).items():
        computed[rid]["duplicate"] = evidence
    per_flag: Counter[str] = Counter()
    changes: list[dict[str, Any]] = []
    for rid, flags in computed.items():
        names = flag_names(flags)
        per_flag.update(names)
        if names:
            counts.flagged += 1
            if override[rid]:
                counts.overridden += 1
        if stored[rid] != flags:
            changes.append({"rid": rid, "flags": flags})
    counts.checked = len(computed)
    counts.per_flag = {name: per_flag.get(name, 0) for name in FLAGS}
    counts.changed = len(changes)
    if changes:
        _write_flags(conn, changes)
    audit.record(
        conn,
        actor=actor,
        action="survey.quality",
        object_type="survey",
        object_id=survey_code,
        after={
            "checked": counts.checked,
            "flagged": counts.flagged,
            "changed": counts.changed,
            **counts.per_flag,
        },
        now=now,
    )
    return counts


def _write_flags(conn: Connection, changes: list[dict[str, Any]]) -> None:
    """Set ``quality_flags`` of many responses at once (through a temporary table)."""
    name = f"cxo_quality_{uuid.uuid4().hex[:10]}"
    duck = is_duckdb(conn)
    text = "VARCHAR" if duck else "TEXT"
    suffix = "" if duck else " ON COMMIT DROP"
    conn.execute(sa.text(f"CREATE TEMP TABLE {name} (id BIGINT, flags {text}){suffix}"))
    data = pa.table(
        {
            "id": pa.array([c["rid"] for c in changes], pa.int64()),
            "flags": pa.array(
                [json.dumps(c["flags"], ensure_ascii=False, sort_keys=True) for c in changes],
                pa.string(),
            ),
        }
    )
    append_rows(conn, name, data)
    conn.execute(
        sa.text(
            f"UPDATE responses SET quality_flags = CAST(t.flags AS JSON) FROM {name} t "  # noqa: S608
            "WHERE responses.id = t.id"
        )
    )
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def flag_counts(conn: Connection, *, survey_code: str) -> QualityCounts:
    """Counts of the flags stored now (nothing recomputed); ``checked`` = responses with flags."""
    ids = list(conn.execute(sa.select(surveys.c.id).where(surveys.c.code == survey_code)).scalars())
    if not ids:
        from cxo.surveys.service import get_survey

        get_survey(conn, survey_code)  # raises NotFound
    counts = QualityCounts(code=survey_code)
    per_flag: Counter[str] = Counter()
    r = responses.c
    rows = conn.execute(
        sa.select(r.quality_flags, r.include_override).where(r.survey_id.in_(ids))
    ).all()
    for flags_value, override in rows:
        counts.responses += 1
        flags = parse_flags(flags_value)
        if flags is None:
            continue
        counts.checked += 1
        names = flag_names(flags)
        per_flag.update(names)
        if names:
            counts.flagged += 1
            counts.overridden += int(bool(override))
    counts.per_flag = {name: per_flag.get(name, 0) for name in FLAGS}
    return counts


# -- what analysis uses -------------------------------------------------------------------------


def analysis_filter(
    *, include_flagged: bool = False, include_partial: bool = False
) -> sa.ColumnElement[bool]:
    """A condition on ``responses`` selecting what analysis uses (see the module docstring).

    ``include_flagged`` takes every response whatever its flags and overrides. Otherwise clean
    ones are taken (``quality_flags`` NULL or JSON null: never checked; or ``{}``), with the
    analyst's ``include_override`` deciding over the flags: true includes, false excludes.
    """
    r = responses.c
    parts: list[sa.ColumnElement[bool]] = []
    if not include_partial:
        parts.append(sa.func.coalesce(r.state, "completed") == "completed")
    if not include_flagged:
        text = sa.func.replace(sa.cast(r.quality_flags, sa.Text), " ", "")
        clean = sa.or_(r.quality_flags.is_(None), text.in_(["{}", "null"]))
        parts.append(
            sa.or_(
                r.include_override.is_(True),
                sa.and_(r.include_override.is_(None), clean),
            )
        )
    return sa.and_(*parts)


def analysis_select(
    survey_code: str,
    *,
    version: int | None = None,
    include_flagged: bool = False,
    include_partial: bool = False,
) -> sa.Select[Any]:
    """``SELECT responses.id`` of the responses of ``survey_code`` analysis should use."""
    query = (
        sa.select(responses.c.id)
        .join(surveys, surveys.c.id == responses.c.survey_id)
        .where(
            surveys.c.code == survey_code,
            analysis_filter(include_flagged=include_flagged, include_partial=include_partial),
        )
        .order_by(responses.c.id)
    )
    if version is not None:
        query = query.where(surveys.c.version == version)
    return query


def analysis_response_ids(
    conn: Connection,
    *,
    survey_code: str,
    version: int | None = None,
    include_flagged: bool = False,
    include_partial: bool = False,
) -> list[int]:
    """The ids of the responses analysis should use, in id order."""
    query = analysis_select(
        survey_code,
        version=version,
        include_flagged=include_flagged,
        include_partial=include_partial,
    )
    return [int(i) for i in conn.execute(query).scalars()]
