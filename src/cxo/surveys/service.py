"""Surveys: create, edit (new version when live), publish, close, read and export.

Keyword-only functions taking a connection; the caller owns the transaction. Every write is
audited. The stored ``definition`` of a version holds both the authoring ``spec`` and the
``compiled`` survey, so a later library or code change never alters what respondents saw.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.errors import Conflict, NotFound
from cxo.governance import audit
from cxo.store.metadata import utcnow
from cxo.surveys import library
from cxo.surveys.definition import CompiledSurvey, SurveySpec
from cxo.surveys.models import responses, surveys
from cxo.surveys.schemas import InstrumentRead, SurveyDetail, SurveyRead
from cxo.surveys.states import plan_transition
from cxo.surveys.yamlio import dump, parse_and_compile, spec_dict

MAX_LIST = 500


def _read(
    row: sa.Row[Any], *, versions: int = 1, started: int = 0, completed: int = 0
) -> SurveyRead:
    return SurveyRead(
        id=row.id,
        code=row.code,
        version=row.version,
        state=row.state,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        closed_at=row.closed_at,
        created_by=row.created_by,
        versions=versions,
        started=started,
        completed=completed,
    )


def _counts(conn: Connection, survey_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not survey_ids:
        return {}
    done = sa.func.count().filter(sa.func.coalesce(responses.c.state, "completed") == "completed")
    rows = conn.execute(
        sa.select(responses.c.survey_id, sa.func.count(), done)
        .where(responses.c.survey_id.in_(survey_ids))
        .group_by(responses.c.survey_id)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def list_surveys(conn: Connection) -> list[SurveyRead]:
    """The latest version of every survey code, newest first, with response counts."""
    latest = (
        sa.select(
            surveys.c.code, sa.func.max(surveys.c.version).label("v"), sa.func.count().label("n")
        )
        .group_by(surveys.c.code)
        .subquery()
    )
    rows = conn.execute(
        sa.select(surveys, latest.c.n)
        .join(latest, sa.and_(latest.c.code == surveys.c.code, latest.c.v == surveys.c.version))
        .order_by(surveys.c.updated_at.desc(), surveys.c.code)
        .limit(MAX_LIST)
    ).all()
    # counts over every version of each code
    ids = conn.execute(
        sa.select(surveys.c.id, surveys.c.code).where(surveys.c.code.in_([r.code for r in rows]))
    ).all()
    counts = _counts(conn, [i.id for i in ids])
    per_code: dict[str, list[int]] = {}
    for i in ids:
        got = counts.get(i.id, (0, 0))
        acc = per_code.setdefault(i.code, [0, 0])
        acc[0] += got[0]
        acc[1] += got[1]
    return [
        _read(
            r,
            versions=int(r.n),
            started=per_code.get(r.code, [0, 0])[0],
            completed=per_code.get(r.code, [0, 0])[1],
        )
        for r in rows
    ]


def _row(conn: Connection, code: str, version: int | None = None) -> sa.Row[Any]:
    query = sa.select(surveys).where(surveys.c.code == code)
    query = (
        query.where(surveys.c.version == version)
        if version is not None
        else query.order_by(surveys.c.version.desc()).limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(
            f"No survey {code!r}" + (f" version {version}" if version is not None else "") + ".",
            hint="`cxo survey list` shows the surveys.",
        )
    return row


def get_survey(conn: Connection, code: str, version: int | None = None) -> SurveyDetail:
    """One version of a survey (the latest unless ``version`` is given) with its definition."""
    row = _row(conn, code, version)
    n = conn.execute(sa.select(sa.func.count()).where(surveys.c.code == code)).scalar_one()
    started, completed = _counts(conn, [row.id]).get(row.id, (0, 0))
    base = _read(row, versions=int(n), started=started, completed=completed)
    definition = row.definition or {}
    return SurveyDetail(
        **base.model_dump(),
        spec=definition.get("spec", {}),
        compiled=definition.get("compiled", {}),
    )


def compiled(detail: SurveyDetail) -> CompiledSurvey:
    """The compiled survey of a stored version."""
    if not detail.compiled:
        raise Conflict(
            f"Survey {detail.code!r} version {detail.version} has no definition "
            "(it was created by a response import).",
            hint="Create it from a definition with `cxo survey update FILE`.",
        )
    return CompiledSurvey.model_validate(detail.compiled)


def live_version(conn: Connection, code: str) -> tuple[int, CompiledSurvey]:
    """The id and compiled definition of the version of ``code`` that takes answers."""
    row = conn.execute(
        sa.select(surveys).where(surveys.c.code == code, surveys.c.state == "live")
    ).first()
    if row is None:
        raise NotFound(f"Survey {code!r} is not taking answers.")
    return int(row.id), CompiledSurvey.model_validate(row.definition["compiled"])


def _definition(spec: SurveySpec, comp: CompiledSurvey) -> dict[str, Any]:
    return {"spec": spec_dict(spec), "compiled": comp.model_dump(mode="json", exclude_none=True)}


def create_survey(
    conn: Connection, *, text: str | bytes, actor: str, now: dt.datetime | None = None
) -> SurveyDetail:
    """Create version 1 of a survey, as a draft, from YAML or JSON text."""
    now = now or utcnow()
    spec, comp = parse_and_compile(text)
    exists = conn.execute(sa.select(surveys.c.id).where(surveys.c.code == spec.code)).first()
    if exists is not None:
        raise Conflict(
            f"Survey {spec.code!r} exists already.",
            hint="Edit it with `cxo survey update FILE` (a live survey gets a new version).",
        )
    values = {
        "code": spec.code,
        "version": 1,
        "title": spec.title.model_dump(),
        "definition": _definition(spec, comp),
        "state": "draft",
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
    }
    new_id = conn.execute(surveys.insert().values(**values).returning(surveys.c.id)).scalar_one()
    audit.record(
        conn,
        actor=actor,
        action="survey.create",
        object_type="survey",
        object_id=new_id,
        after={"code": spec.code, "version": 1},
        now=now,
    )
    return get_survey(conn, spec.code, 1)


def update_survey(
    conn: Connection, *, text: str | bytes, actor: str, now: dt.datetime | None = None
) -> SurveyDetail:
    """Replace the draft, or add a new draft version when the latest version is live or closed."""
    now = now or utcnow()
    spec, comp = parse_and_compile(text)
    row = _row(conn, spec.code)
    definition = _definition(spec, comp)
    if row.state == "draft":
        conn.execute(
            surveys.update()
            .where(surveys.c.id == row.id)
            .values(title=spec.title.model_dump(), definition=definition, updated_at=now)
        )
        version, action = int(row.version), "survey.edit_draft"
    else:
        version, action = int(row.version) + 1, "survey.new_version"
        conn.execute(
            surveys.insert().values(
                code=spec.code,
                version=version,
                title=spec.title.model_dump(),
                definition=definition,
                state="draft",
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
        )
    audit.record(
        conn,
        actor=actor,
        action=action,
        object_type="survey",
        object_id=spec.code,
        before={"version": int(row.version), "state": row.state},
        after={"version": version, "state": "draft"},
        now=now,
    )
    return get_survey(conn, spec.code, version)


def set_state(
    conn: Connection,
    *,
    code: str,
    state: str,
    actor: str,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> SurveyDetail:
    """Publish (``live``) or close a survey version, as the life cycle allows."""
    now = now or utcnow()
    row = _row(conn, code, version)
    actions = plan_transition(row.state, state)
    if row.definition is None or not row.definition.get("compiled"):
        raise Conflict(
            f"Survey {code!r} version {row.version} has no definition to publish.",
            hint="Give it one with `cxo survey update FILE`.",
        )
    values: dict[str, Any] = {"state": state, "updated_at": now}
    closed_others: list[int] = []
    for action in actions:
        if action == "require_latest":
            latest = conn.execute(
                sa.select(sa.func.max(surveys.c.version)).where(surveys.c.code == code)
            ).scalar_one()
            if latest != row.version:
                raise Conflict(
                    f"Version {row.version} of {code!r} has been replaced by version {latest}.",
                    hint="Publish the latest version instead.",
                )
        elif action == "close_other_live":
            others = conn.execute(
                sa.select(surveys.c.id, surveys.c.version).where(
                    surveys.c.code == code, surveys.c.state == "live", surveys.c.id != row.id
                )
            ).all()
            for other in others:
                conn.execute(
                    surveys.update()
                    .where(surveys.c.id == other.id)
                    .values(state="closed", closed_at=now, updated_at=now)
                )
                closed_others.append(int(other.version))
        elif action == "stamp_published":
            values["published_at"] = now
        elif action == "stamp_closed":
            values["closed_at"] = now
    conn.execute(surveys.update().where(surveys.c.id == row.id).values(**values))
    audit.record(
        conn,
        actor=actor,
        action=f"survey.{'publish' if state == 'live' else 'close'}",
        object_type="survey",
        object_id=code,
        before={"version": int(row.version), "state": row.state},
        after={"version": int(row.version), "state": state, "closed_versions": closed_others},
        now=now,
    )
    return get_survey(conn, code, int(row.version))


def export_survey(
    conn: Connection,
    code: str,
    *,
    version: int | None = None,
    fmt: str = "yaml",
    compiled_form: bool = False,
) -> str:
    """The survey as YAML or JSON: the authoring spec (re-importable) or the compiled form."""
    detail = get_survey(conn, code, version)
    data = detail.compiled if compiled_form else detail.spec
    if not data:
        raise Conflict(f"Survey {code!r} has no definition to export.")
    return dump(data, fmt)


def list_instruments() -> list[InstrumentRead]:
    """The newest version of every library instrument."""
    return [
        InstrumentRead(
            code=i.code,
            version=i.version,
            kind=i.kind,
            title=i.title.model_dump(),
            citation=i.citation,
            scales=list(i.scales),
            variants=i.variants,
            dimensions={k: v.model_dump() for k, v in i.dimensions.items()},
            items=len(i.items),
        )
        for i in library.latest()
    ]
