"""Answering a survey: open a link, start or resume a response, save each page, complete.

Three ways in, one response flow:

* an **invitation token** (``/s/<token>``) — single-use and expiring, one response per token;
* a **public link** (``/s/l/<key>``) — anyone may start; the response gets its own resume token
  (``/s/r/<token>``, also kept in a cookie), so an anonymous respondent can come back;
* the resume token itself.

Tokens are random (192 bits) and stored only as SHA-256 hashes. Answers are saved page by page;
the response remembers its page, its randomisation seed and the survey version it started on, so a
new version published meanwhile never changes a started response. Respondent writes are the data
itself (timestamped rows), not audit-log entries; publishing, sending and settings are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.engines.backends import duckdb_connection
from cxo.errors import CxoError, NotFound
from cxo.store.metadata import utcnow
from cxo.surveys import flow, quality
from cxo.surveys.definition import CompiledSurvey
from cxo.surveys.models import responses, survey_links, surveys
from cxo.vocabulary import N_


class LinkGone(CxoError):
    """The link expired, was used, or its survey stopped taking answers."""

    http_status = 410


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _valid_token(token: str) -> bool:
    """The shape of our tokens and link keys (URL-safe base64), before any lookup."""
    return _TOKEN.fullmatch(token) is not None


@dataclass(frozen=True)
class Session:
    """One response in progress (or done), with the survey version it is on."""

    response_id: int
    survey_id: int
    survey_code: str
    survey_version: int
    survey: CompiledSurvey
    state: str
    page: int
    seed: int
    locale: str | None
    answers: dict[flow.AnswerKey, flow.Value]
    started_at: dt.datetime | None
    invitation_id: int | None = None
    customer_id: int | None = None
    channel: str | None = None

    @property
    def done(self) -> bool:
        return self.state == "completed"

    @property
    def stored(self) -> bool:
        """False for an invitation opened but not yet answered: no response row exists."""
        return self.response_id != 0


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _not_found() -> NotFound:
    return NotFound(
        N_("This survey link is not valid."), hint=N_("Check the link in your message.")
    )


def _expired() -> LinkGone:
    return LinkGone(N_("This survey link has expired."), hint=N_("Thank you for your interest."))


def _closed() -> LinkGone:
    return LinkGone(N_("This survey is closed."), hint=N_("Thank you for your interest."))


_COMPILED: dict[tuple[str, int], CompiledSurvey] = {}


def compiled_survey(conn: Connection, survey_id: int) -> CompiledSurvey:
    """A survey version's compiled definition, cached once the version has left draft (a
    published definition never changes)."""
    key = (str(conn.engine.url), survey_id)  # one process may serve several stores (tests)
    cached = _COMPILED.get(key)
    if cached is not None:
        return cached
    row = conn.execute(
        sa.select(surveys.c.definition, surveys.c.state).where(surveys.c.id == survey_id)
    ).one()
    survey = CompiledSurvey.model_validate(row.definition["compiled"])
    if row.state != "draft":
        if len(_COMPILED) > 1000:
            _COMPILED.clear()
        _COMPILED[key] = survey
    return survey


def _live(conn: Connection, code: str) -> tuple[int, int, CompiledSurvey]:
    row = conn.execute(
        sa.select(surveys.c.id, surveys.c.version).where(
            surveys.c.code == code, surveys.c.state == "live"
        )
    ).first()
    if row is None:
        raise _closed()
    return int(row.id), int(row.version), compiled_survey(conn, int(row.id))


def _create_response(
    conn: Connection,
    *,
    survey_code: str,
    now: dt.datetime,
    channel: str,
    locale: str | None,
    link_id: int,
    resume_hash: str,
    client_hash: str | None,
) -> int:
    """An anonymous response through a public link (invitations' responses are created by the
    batched path at their first submitted page)."""
    survey_id, _version, survey = _live(conn, survey_code)
    seed = secrets.randbelow(2**31)
    page = flow.first_page(survey, seed=seed, answers={}) or 0
    return int(
        conn.execute(
            responses.insert()
            .values(
                survey_id=survey_id,
                link_id=link_id,
                channel=channel,
                locale=locale if locale in survey.locales else survey.locales[0],
                started_at=now,
                state="in_progress",
                page=page,
                seed=seed,
                resume_hash=resume_hash,
                client_hash=client_hash,
                created_at=now,
            )
            .returning(responses.c.id)
        ).scalar_one()
    )


def open_invitation(
    conn: Connection, token: str, *, now: dt.datetime | None = None, locale: str | None = None
) -> Session:
    """The response behind an invitation token.

    Opening the link records ``opened_at`` but stores no response yet: the response is created
    by the first page the respondent submits (so link scanners and prefetchers that open every
    link in an e-mail never count as started). Until then the session has ``response_id`` 0 and a
    seed derived from the invitation, so the order shown is the order that will be stored.
    """
    out = _one(conn, Open(("token", token), locale), now)
    assert isinstance(out, Session)
    return out


def open_resume(conn: Connection, token: str) -> Session:
    """The anonymous response behind a resume token."""
    out = _one(conn, Open(("resume", token)), None)
    assert isinstance(out, Session)
    return out


def link_survey(conn: Connection, key: str, *, now: dt.datetime | None = None) -> tuple[int, str]:
    """The (link id, survey code) of an active public link."""
    now = now or utcnow()
    if not _valid_token(key):
        raise _not_found()
    row = conn.execute(sa.select(survey_links).where(survey_links.c.key == key)).first()
    if row is None:
        raise _not_found()
    expires = _aware(row.expires_at)
    if not row.active or (expires is not None and expires <= now):
        raise _expired()
    return int(row.id), row.survey_code


def start_anonymous(
    conn: Connection,
    key: str,
    *,
    locale: str | None,
    client_hash: str | None,
    now: dt.datetime | None = None,
) -> tuple[Session, str]:
    """Start a response through a public link; returns it and its resume token."""
    now = now or utcnow()
    link_id, code = link_survey(conn, key, now=now)
    resume = new_token()
    response_id = _create_response(
        conn,
        survey_code=code,
        now=now,
        channel="link",
        locale=locale,
        link_id=link_id,
        resume_hash=token_hash(resume),
        client_hash=client_hash,
    )
    out = _one(conn, Open(("response", response_id)), now)
    assert isinstance(out, Session)
    return out, resume


@dataclass(frozen=True)
class SaveResult:
    session: Session
    errors: dict[str, tuple[str, dict[str, object]]]
    """field → (message template, params); empty when the page was saved."""


# --- the respondents' path, many at a time ---------------------------------------------------
#
# Each page view and each submitted page is a *job*. :func:`handle` runs a batch of jobs in the
# caller's transaction with a fixed number of set-based statements (four reads, at most seven
# writes), whatever the batch size: the web server's intake (:mod:`cxo.surveys.intake`) queues the
# jobs of concurrent respondents and commits them together, so a database that costs milliseconds
# per statement (DuckDB) still takes hundreds of submissions a second. The single-respondent
# functions (:func:`open_invitation`, :func:`save_page`, …) are batches of one.

Where = tuple[Literal["token", "resume", "invitation", "response"], str | int]
"""How a job finds its respondent: an invitation or resume token, or an invitation/response id."""


@dataclass(frozen=True)
class Open:
    """Show the respondent's current page (opening an invitation stamps ``opened_at``)."""

    where: Where
    locale: str | None = None


@dataclass(frozen=True)
class Submit:
    """One submitted page: validate, save what is valid, move on (or back), complete at the end.

    A submit for a page other than the response's current one (a double submit, a stale tab) or
    for a completed response changes nothing.
    """

    where: Where
    page: int
    form: Mapping[str, Sequence[str]]
    action: str = "next"
    lang: str | None = None
    shown_at: dt.datetime | None = None


Job = Open | Submit
Outcome = Session | SaveResult | CxoError


class _Batch:
    """The state of one batch: what was read, what the jobs changed, and the writes to make."""

    def __init__(self, conn: Connection, now: dt.datetime) -> None:
        self.conn = conn
        self.now = now
        self.lock = conn.dialect.name == "postgresql"  # rows taken by another server process
        self.inv_by_hash: dict[str, Any] = {}
        self.inv_by_id: dict[int, Any] = {}
        self.slot_of_response: dict[int, str] = {}
        self.resume: dict[str, int] = {}
        self.live: dict[str, tuple[int, int]] = {}  # survey code → its live (id, version)
        self.sessions: dict[str, Session] = {}
        self.stored_meta: dict[int, tuple[dt.datetime | None, Any]] = {}
        self.opened: dict[int, dt.datetime] = {}
        self.started_inv: set[int] = set()
        self.used_inv: set[int] = set()
        self.new: dict[int, str] = {}  # temporary (negative) response id → slot
        self.completed: dict[int, dict[str, Any]] = {}  # response id → quality flags
        self.dirty: set[int] = set()  # responses stored before this batch that changed
        self.touched: dict[int, set[str]] = {}  # such responses → item codes to rewrite

    # --- reads ---------------------------------------------------------------------------------

    def load(self, jobs: Sequence[Job]) -> None:
        """Read everything the jobs need: invitations with their response and live survey version,
        other responses (resume tokens, ids), and the stored responses' answers."""
        hashes = {token_hash(str(j.where[1])) for j in jobs if j.where[0] == "token"}
        inv_ids = {int(j.where[1]) for j in jobs if j.where[0] == "invitation"}
        resumes = {token_hash(str(j.where[1])) for j in jobs if j.where[0] == "resume"}
        response_ids = {int(j.where[1]) for j in jobs if j.where[0] == "response"}
        if self.lock:
            self.conn.exec_driver_sql(_PG_KEYED_PLANS).all()
            self._lock_pg([j for j in jobs if isinstance(j, Submit)])
            self._load_pg(hashes, inv_ids, resumes, response_ids)
        else:
            self._load_duckdb(hashes, inv_ids, resumes, response_ids)

    def _load_duckdb(
        self, hashes: set[str], inv_ids: set[int], resumes: set[str], response_ids: set[int]
    ) -> None:
        """DuckDB: narrow constant statements (invitations, then their responses: one join of
        both costs more than the two), lists as parameters, nothing compiled."""
        raw = duckdb_connection(self.conn)
        invs = (
            _rows(raw, _DK_INVITATIONS, [sorted(hashes), sorted(inv_ids)])
            if hashes or inv_ids
            else []
        )
        found = []
        if invs or resumes or response_ids:
            found = _rows(
                raw,
                _DK_RESPONSES,
                [[int(i.id) for i in invs], sorted(resumes), sorted(response_ids)],
            )
        for inv in invs:
            self.inv_by_hash[inv.token_hash] = inv
            self.inv_by_id[int(inv.id)] = inv
            if inv.live_id is not None:
                self.live[inv.code] = (int(inv.live_id), int(inv.live_version))
        if not found:
            return
        given: dict[int, dict[flow.AnswerKey, flow.Value]] = {int(r.r_id): {} for r in found}
        for a in _rows(raw, _DK_ANSWERS, [sorted(given)]):
            value = a.value_num if a.value_num is not None else a.value_text
            if value is not None:
                given[int(a.response_id)][(a.item_code, a.scale or "single")] = value
        self._adopt(found, given)

    def _lock_pg(self, submits: list[Submit]) -> None:
        """PostgreSQL, several server processes: take the rows the submits will change (their
        invitations, then their responses, each in id order) before reading anything. The reads
        are later statements, so under READ COMMITTED they see what a batch that held a row
        before committed: a respondent whose page went to two processes at once gets one
        response, and the second submit is a double submit. (Locking in the reading statement
        itself would wait for the row but still read the responses as they were before.)
        Page views change nothing that needs a lock."""
        if not submits:
            return
        keys: dict[str, set[Any]] = {"hashes": set(), "ids": set(), "rhashes": set(), "rids": set()}
        for job in submits:
            kind, value = job.where
            if kind == "token":
                keys["hashes"].add(token_hash(str(value)))
            elif kind == "invitation":
                keys["ids"].add(int(value))
            elif kind == "resume":
                keys["rhashes"].add(token_hash(str(value)))
            else:
                keys["rids"].add(int(value))
        self.conn.exec_driver_sql(_PG_LOCK, {k: sorted(v) for k, v in keys.items()}).all()

    def _load_pg(
        self, hashes: set[str], inv_ids: set[int], resumes: set[str], response_ids: set[int]
    ) -> None:
        """PostgreSQL: the same reads as constant statements (prepared by the driver after a few
        runs, never compiled by SQLAlchemy), each response's answers aggregated in the row."""
        found: list[Any] = []
        if hashes or inv_ids:
            for row in self.conn.exec_driver_sql(
                _PG_INVITATIONS, {"hashes": sorted(hashes), "ids": sorted(inv_ids)}
            ):
                self.inv_by_hash[row.token_hash] = row
                self.inv_by_id[int(row.id)] = row
                if row.live_id is not None:
                    self.live[row.code] = (int(row.live_id), int(row.live_version))
                if row.r_id is not None:
                    found.append(row)
        if resumes or response_ids:
            found += list(
                self.conn.exec_driver_sql(
                    _PG_RESPONSES, {"hashes": sorted(resumes), "ids": sorted(response_ids)}
                )
            )
        if not found:
            return
        given: dict[int, dict[flow.AnswerKey, flow.Value]] = {}
        for row in found:
            given[int(row.r_id)] = got = {}
            listed = row.r_answers
            for item, scale, num, text in (
                json.loads(listed) if isinstance(listed, str) else (listed or [])
            ):
                value = num if num is not None else text
                if value is not None:
                    got[(item, scale or "single")] = value
        self._adopt(found, given)

    def _adopt(self, rows: list[Any], given: dict[int, dict[flow.AnswerKey, flow.Value]]) -> None:
        """Sessions for the stored responses in ``rows`` (``r_*`` columns), with their answers."""
        for row in rows:
            rid = int(row.r_id)
            inv = row.r_invitation_id
            slot = f"i{inv}" if inv is not None else f"r{rid}"
            if slot in self.sessions:  # a second response to one invitation: the first wins
                continue
            self.slot_of_response[rid] = slot
            if row.r_resume_hash:
                self.resume[row.r_resume_hash] = rid
            self.stored_meta[rid] = (_aware(row.r_completed_at), row.r_quality_flags)
            self.sessions[slot] = Session(
                response_id=rid,
                survey_id=int(row.r_survey_id),
                survey_code=row.r_code,
                survey_version=int(row.r_version),
                survey=compiled_survey(self.conn, int(row.r_survey_id)),
                state=row.r_state or "completed",
                page=int(row.r_page or 0),
                seed=int(row.r_seed or 0),
                locale=row.r_locale,
                answers=given[rid],
                started_at=_aware(row.r_started_at),
                invitation_id=inv,
            )

    # --- the jobs, in order, against the state read ----------------------------------------

    def session(self, where: Where, locale: str | None = None) -> tuple[str, Session]:
        kind, value = where
        if kind in ("token", "resume") and not _valid_token(str(value)):
            raise _not_found()
        if kind == "resume":
            rid = self.resume.get(token_hash(str(value)))
            if rid is None:
                raise _not_found()
            slot = self.slot_of_response[rid]
            return slot, self.sessions[slot]
        if kind == "response":
            slot_or_none = self.slot_of_response.get(int(value))
            if slot_or_none is None:
                raise _not_found()
            return slot_or_none, self.sessions[slot_or_none]
        inv = (
            self.inv_by_hash.get(token_hash(str(value)))
            if kind == "token"
            else self.inv_by_id.get(int(value))
        )
        if inv is None:
            raise _not_found()
        slot = f"i{inv.id}"
        stored = self.sessions.get(slot)
        if stored is not None:
            return slot, stored
        # Opened, not answered yet: no response row until the first submitted page.
        expires = _aware(inv.expires_at)
        if expires is not None and expires <= self.now:
            raise _expired()
        live = self.live.get(inv.code)
        if live is None:
            raise _closed()
        survey_id, version = live
        survey = compiled_survey(self.conn, survey_id)
        opened = _aware(inv.opened_at) or self.opened.get(int(inv.id))
        if opened is None:
            self.opened[int(inv.id)] = opened = self.now
        seed = int(token_hash(f"seed:{inv.id}")[:8], 16) & 0x7FFFFFFF
        chosen = locale or inv.locale
        return slot, Session(
            response_id=0,
            survey_id=survey_id,
            survey_code=inv.code,
            survey_version=version,
            survey=survey,
            state="new",
            page=flow.first_page(survey, seed=seed, answers={}) or 0,
            seed=seed,
            locale=chosen if chosen in survey.locales else survey.locales[0],
            answers={},
            started_at=opened,
            invitation_id=int(inv.id),
            customer_id=inv.customer_id,
            channel=inv.channel,
        )

    def _keep(self, slot: str, s: Session) -> Session:
        self.sessions[slot] = s
        if s.response_id > 0:
            self.dirty.add(s.response_id)
        return s

    def _start(self, slot: str, s: Session, shown_at: dt.datetime | None) -> Session:
        started = min(shown_at, self.now) if shown_at is not None else (s.started_at or self.now)
        temp = -(len(self.new) + 1)
        self.new[temp] = slot
        if s.invitation_id is not None:
            self.started_inv.add(s.invitation_id)
        return self._keep(
            slot, replace(s, response_id=temp, state="in_progress", started_at=started)
        )

    def _touch(self, s: Session, items: set[str]) -> None:
        if s.response_id > 0 and items:
            self.touched.setdefault(s.response_id, set()).update(items)

    def submit(self, job: Submit) -> SaveResult:
        slot, s = self.session(job.where)
        lang = job.lang
        if lang and lang in s.survey.locales and lang != s.locale:
            s = replace(s, locale=lang)
            if s.stored:
                s = self._keep(slot, s)
        page = job.page
        if s.done or page != s.page:
            return SaveResult(s, {})
        if not s.stored:
            s = self._start(slot, s, job.shown_at)
        action = job.action
        shown = flow.page_questions(s.survey, page, seed=s.seed, answers=s.answers)
        going_back = action == "back"
        parsed = flow.parse_page(
            shown, job.form, enforce_required=not going_back and action != "save"
        )
        # What was valid is saved even when the page has problems (answers are saved as you go).
        keys = flow.page_keys(s.survey, page)
        on_page = set(keys)
        merged = {k: v for k, v in s.answers.items() if k not in on_page}
        merged.update(parsed.values)
        self._touch(s, {k[0] for k in keys})
        if parsed.errors and not going_back:
            return SaveResult(self._keep(slot, replace(s, answers=merged)), parsed.errors)
        new_page = s.page
        if going_back:
            new_page = flow.previous_page(s.survey, page, seed=s.seed, answers=merged)
        elif action == "next":
            nxt = flow.next_page(s.survey, page, seed=s.seed, answers=merged)
            if nxt is None:
                return SaveResult(self._complete(slot, s, merged), {})
            new_page = nxt
        return SaveResult(self._keep(slot, replace(s, answers=merged, page=new_page)), {})

    def _complete(self, slot: str, s: Session, merged: dict[flow.AnswerKey, flow.Value]) -> Session:
        # Answers to questions that later answers hid are dropped: they were not part of the path.
        keep = flow.visible_keys(s.survey, seed=s.seed, answers=merged)
        self._touch(s, {k[0] for k in merged if k not in keep})
        kept = {k: v for k, v in merged.items() if k in keep}
        # Per-response quality flags now (speeding against the per-item floor only); `cxo survey
        # quality` later adds the survey's median and duplicates across responses.
        started = s.started_at or self.now
        self.completed[s.response_id] = quality.response_flags(
            s.survey, kept, seconds=(self.now - started).total_seconds(), survey_median=None
        )
        if s.invitation_id is not None:
            self.used_inv.add(s.invitation_id)
        return self._keep(slot, replace(s, answers=kept, state="completed"))

    # --- writes ------------------------------------------------------------------------------

    def flush(self) -> dict[int, int]:
        """Write what the jobs changed; returns temporary response id → stored id."""
        return self._flush_pg() if self.lock else self._flush_duckdb()

    def _flush_duckdb(self) -> dict[int, int]:
        """DuckDB: one constant statement per kind of write, lists as parameters (each
        statement costs milliseconds there, however small, so there are at most five)."""
        raw = duckdb_connection(self.conn)
        real: dict[int, int] = {}
        if self.new:
            temps = sorted(self.new, reverse=True)
            new = [self.sessions[self.new[t]] for t in temps]
            p = self._new_params(temps, new)
            by_invitation = {
                int(inv): int(rid)
                for rid, inv in raw.execute(
                    _DK_NEW_RESPONSES,
                    [
                        p[k]
                        for k in (
                            "survey",
                            "inv",
                            "customer",
                            "channel",
                            "locale",
                            "started",
                            "state",
                            "page",
                            "seed",
                            "completed",
                            "flags",
                        )
                    ],
                ).fetchall()
            }
            # Only invitations' responses are created here (one per invitation in a batch).
            real = {
                t: by_invitation[int(s.invitation_id or 0)] for t, s in zip(temps, new, strict=True)
            }
        if self.dirty:
            dirty = sorted(self.dirty)
            u = self._change_params(dirty)
            raw.execute(
                _DK_CHANGE_RESPONSES,
                [dirty, u["page"], u["locale"], u["state"], u["completed"], u["flags"]],
            )
        deleted = [(rid, item) for rid, items in self.touched.items() for item in sorted(items)]
        if deleted:
            raw.execute(_DK_DELETE_ANSWERS, [[d[0] for d in deleted], [d[1] for d in deleted]])
        rows = self._answer_rows(real)
        if rows:
            raw.execute(_DK_NEW_ANSWERS, _answer_params(rows, self.now))
        stamped = sorted(set(self.opened) | self.started_inv | self.used_inv)
        if stamped:
            raw.execute(_DK_STAMP, [self.now, *self._stamp_params(stamped)])
        return real

    def _answer_rows(self, real: dict[int, int]) -> list[tuple[int, str, str, flow.Value]]:
        """The answers to (re)write: all of a new response's, a stored one's touched items'."""
        rows: list[tuple[int, str, str, flow.Value]] = []
        for temp, rid in real.items():
            s = self.sessions[self.new[temp]]
            rows += [(rid, item, scale, v) for (item, scale), v in s.answers.items()]
        for rid, items in self.touched.items():
            s = self.sessions[self.slot_of_response[rid]]
            rows += [(rid, i, scale, v) for (i, scale), v in s.answers.items() if i in items]
        return rows

    def _flush_pg(self) -> dict[int, int]:
        """PostgreSQL: every write of the batch, the new responses' ids included, in one
        constant statement (writable CTEs over JSON records): one round trip, nothing to
        compile."""
        temps = sorted(self.new, reverse=True)
        new = [self.sessions[self.new[t]] for t in temps]
        dirty = sorted(self.dirty)
        deleted = [(rid, item) for rid, items in self.touched.items() for item in sorted(items)]
        rows = self._answer_rows({t: t for t in temps})
        stamped = sorted(set(self.opened) | self.started_inv | self.used_inv)
        if not (temps or dirty or deleted or rows or stamped):
            return {}
        answer = _answer_params(rows, self.now)
        params: dict[str, Any] = {
            "now": self.now,
            "new": _records({"t": temps, **self._new_params(temps, new)}),
            "changed": _records({"id": dirty, **self._change_params(dirty)}),
            "deleted": _records(
                {"response_id": [d[0] for d in deleted], "item_code": [d[1] for d in deleted]}
            ),
            "answers": _records(
                {
                    **dict(
                        zip(
                            ("response_id", "item_code", "scale", "num", "text"),
                            answer[:5],
                            strict=True,
                        )
                    ),
                    "n": list(range(len(rows))),
                }
            ),
            "stamps": _records(
                dict(
                    zip(
                        ("id", "opened", "started", "used"),
                        self._stamp_params(stamped),
                        strict=True,
                    )
                )
            ),
        }
        return {int(t): int(rid) for t, rid in self.conn.exec_driver_sql(_PG_WRITE, params)}

    def _new_params(self, temps: list[int], new: list[Session]) -> dict[str, list[Any]]:
        """Column lists of the new responses (temporary ids ``temps``)."""
        return {
            "survey": [s.survey_id for s in new],
            "inv": [s.invitation_id for s in new],
            "customer": [s.customer_id for s in new],
            "channel": [s.channel or "email" for s in new],
            "locale": [
                s.locale if s.locale in s.survey.locales else s.survey.locales[0] for s in new
            ],
            "started": [s.started_at for s in new],
            "state": ["completed" if s.done else "in_progress" for s in new],
            "page": [s.page for s in new],
            "seed": [s.seed for s in new],
            "completed": [self._completed_at(t) for t in temps],
            "flags": [self._flags(t) for t in temps],
        }

    def _change_params(self, dirty: list[int]) -> dict[str, list[Any]]:
        """Column lists of the stored responses that moved on (ids ``dirty``)."""
        changed = [self.sessions[self.slot_of_response[rid]] for rid in dirty]
        return {
            "page": [s.page for s in changed],
            "locale": [s.locale for s in changed],
            "state": ["completed" if s.done else "in_progress" for s in changed],
            "completed": [self._completed_at(rid) for rid in dirty],
            "flags": [self._flags(rid) for rid in dirty],
        }

    def _stamp_params(self, stamped: list[int]) -> list[list[Any]]:
        """Invitation ids, and whether each was opened, started and used in this batch."""
        return [
            stamped,
            [i in self.opened for i in stamped],
            [i in self.started_inv for i in stamped],
            [i in self.used_inv for i in stamped],
        ]

    def _flags(self, rid: int) -> str | None:
        if rid in self.completed:
            return json.dumps(self.completed[rid], ensure_ascii=False)
        meta = self.stored_meta.get(rid)
        if meta is None or meta[1] is None:
            return None
        if isinstance(meta[1], str):  # JSON text, as PostgreSQL's driver returned it
            return meta[1]
        return json.dumps(meta[1], ensure_ascii=False)

    def _completed_at(self, rid: int) -> dt.datetime | None:
        if rid in self.completed:
            return self.now
        meta = self.stored_meta.get(rid)
        return meta[0] if meta else None


# --- PostgreSQL's statements: constant text, arrays as parameters ------------------------------

_PG_RESPONSE_COLUMNS = """
    r.id AS r_id, r.survey_id AS r_survey_id, r.invitation_id AS r_invitation_id,
    r.state AS r_state, r.page AS r_page, r.seed AS r_seed, r.locale AS r_locale,
    r.started_at AS r_started_at, r.completed_at AS r_completed_at,
    r.quality_flags AS r_quality_flags, r.resume_hash AS r_resume_hash,
    rs.code AS r_code, rs.version AS r_version,
    (SELECT json_agg(json_build_array(a.item_code, a.scale, a.value_num, a.value_text)
                     ORDER BY a.id)
       FROM answers a WHERE a.response_id = r.id) AS r_answers"""

# Every statement of a batch reaches a bounded number of rows by key, so index lookups in nested
# loops are the right plan whatever the statistics say. Without this, PostgreSQL plans the batch
# statements from statistics taken when responses and answers were nearly empty (autovacuum
# analyses at most once a minute, and the driver's prepared statements keep their generic plan):
# after a survey goes live that meant a sequential scan of all responses in every batch (6 ms per
# statement at 20,000 responses, growing with the table). Transaction-local: the pooled connection
# goes back unchanged.
_PG_KEYED_PLANS = """
SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
       set_config('enable_mergejoin', 'off', true),
       set_config('plan_cache_mode', 'force_generic_plan', true)"""

# The rows a batch's submits change, locked in id order before the batch reads (see _lock_pg).
_PG_LOCK = """
WITH li AS (
    SELECT id FROM invitations
     WHERE token_hash = ANY(%(hashes)s::text[]) OR id = ANY(%(ids)s::bigint[])
     ORDER BY id FOR UPDATE
), lr AS (
    SELECT id FROM responses
     WHERE id IN (SELECT r.id FROM responses r WHERE r.invitation_id IN (SELECT id FROM li)
                  UNION ALL
                  SELECT r.id FROM responses r WHERE r.resume_hash = ANY(%(rhashes)s::text[])
                  UNION ALL
                  SELECT unnest(%(rids)s::bigint[]))
     ORDER BY id FOR UPDATE
)
SELECT (SELECT count(*) FROM li), (SELECT count(*) FROM lr)"""

_PG_INVITATIONS = f"""
SELECT i.id, i.token_hash, i.expires_at, i.opened_at, i.channel, i.locale, i.customer_id,
       s.code, live.id AS live_id, live.version AS live_version, {_PG_RESPONSE_COLUMNS}
  FROM invitations i
  JOIN surveys s ON s.id = i.survey_id
  LEFT JOIN surveys live ON live.code = s.code AND live.state = 'live'
  LEFT JOIN responses r ON r.invitation_id = i.id
  LEFT JOIN surveys rs ON rs.id = r.survey_id
 WHERE i.token_hash = ANY(%(hashes)s::text[]) OR i.id = ANY(%(ids)s::bigint[])
 ORDER BY i.id, r.id"""  # noqa: S608 (constant text)

_PG_RESPONSES = f"""
SELECT {_PG_RESPONSE_COLUMNS}
  FROM responses r JOIN surveys rs ON rs.id = r.survey_id
 WHERE r.resume_hash = ANY(%(hashes)s::text[]) OR r.id = ANY(%(ids)s::bigint[])
 ORDER BY r.id"""  # noqa: S608 (constant text)

# Each kind of write arrives as one JSON array of records (psycopg dumps a Python list to an array
# element by element, in Python: for the ~30 arrays of a batch that was ~15 % of the writer's
# time; `json.dumps` is one call in C). New responses draw their ids in `n` (materialised once);
# answers of new responses name them by their temporary (negative) id. The sub-statements see one
# snapshot: the DELETE removes only answers stored before this batch, never the ones inserted next
# to it.
_PG_WRITE = """
WITH n AS MATERIALIZED (
    SELECT n.*, nextval('responses_id_seq') AS id
      FROM json_to_recordset(%(new)s::json)
           AS n(t bigint, survey bigint, inv bigint, customer bigint, channel text,
                locale text, started timestamptz, state text, page int, seed bigint,
                completed timestamptz, flags text)
), nr AS (
    INSERT INTO responses (id, survey_id, invitation_id, customer_id, channel, locale,
                           started_at, state, page, seed, created_at, completed_at,
                           quality_flags)
    SELECT n.id, n.survey, n.inv, n.customer, n.channel, n.locale, n.started, n.state,
           n.page, n.seed, n.started, n.completed, n.flags::json
      FROM n
), ur AS (
    UPDATE responses r
       SET page = u.page, locale = u.locale, state = u.state, completed_at = u.completed,
           quality_flags = u.flags::json
      FROM json_to_recordset(%(changed)s::json)
           AS u(id bigint, page int, locale text, state text, completed timestamptz, flags text)
     WHERE r.id = u.id
), da AS (
    DELETE FROM answers a
     USING json_to_recordset(%(deleted)s::json) AS d(response_id bigint, item_code text)
     WHERE a.response_id = d.response_id AND a.item_code = d.item_code
), na AS (
    INSERT INTO answers (response_id, item_code, scale, value_num, value_text, created_at)
    SELECT coalesce(n.id, x.response_id), x.item_code, x.scale, x.num, x.text, %(now)s
      FROM json_to_recordset(%(answers)s::json)
           AS x(response_id bigint, item_code text, scale text, num float8, text text, n int)
      LEFT JOIN n ON n.t = x.response_id
     ORDER BY x.n
), st AS (
    UPDATE invitations i
       SET opened_at = coalesce(i.opened_at, CASE WHEN o.opened THEN %(now)s END),
           started_at = CASE WHEN o.started THEN %(now)s ELSE i.started_at END,
           used_at = CASE WHEN o.used THEN %(now)s ELSE i.used_at END
      FROM json_to_recordset(%(stamps)s::json) AS o(id bigint, opened bool, started bool, used bool)
     WHERE i.id = o.id
)
SELECT t, id FROM n"""


def _json_value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a batch write")


def _records(columns: dict[str, list[Any]]) -> str:
    """Column lists as a JSON array of records (``json_to_recordset``); times as ISO 8601."""
    names = list(columns)
    return json.dumps(
        [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)],
        ensure_ascii=False,
        allow_nan=False,
        default=_json_value,
        separators=(",", ":"),
    )


def _answer_params(rows: list[tuple[int, str, str, flow.Value]], now: dt.datetime) -> list[Any]:
    """Column lists of answers to insert: response ids, items, scales, numbers, texts, time."""
    return [
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [None if isinstance(r[3], str) else float(r[3]) for r in rows],
        [r[3] if isinstance(r[3], str) else None for r in rows],
        now,
    ]


class _Row:
    """A row read through the DuckDB connection, its columns as attributes (as SQLAlchemy's rows
    on PostgreSQL)."""

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        self.__dict__.update(zip(names, values, strict=True))


def _rows(raw: Any, sql: str, params: list[Any]) -> list[Any]:
    cursor = raw.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [_Row(names, values) for values in cursor.fetchall()]


# --- DuckDB's statements: constant text, lists as parameters ----------------------------------

_DK_INVITATIONS = """
SELECT i.id, i.token_hash, i.expires_at, i.opened_at, i.channel, i.locale, i.customer_id,
       s.code, live.id AS live_id, live.version AS live_version
  FROM invitations i
  JOIN surveys s ON s.id = i.survey_id
  LEFT JOIN surveys live ON live.code = s.code AND live.state = 'live'
 WHERE i.token_hash IN (SELECT unnest(?::VARCHAR[])) OR i.id IN (SELECT unnest(?::BIGINT[]))
 ORDER BY i.id"""

_DK_RESPONSES = """
SELECT r.id AS r_id, r.survey_id AS r_survey_id, r.invitation_id AS r_invitation_id,
       r.state AS r_state, r.page AS r_page, r.seed AS r_seed, r.locale AS r_locale,
       r.started_at AS r_started_at, r.completed_at AS r_completed_at,
       CAST(r.quality_flags AS VARCHAR) AS r_quality_flags, r.resume_hash AS r_resume_hash,
       rs.code AS r_code, rs.version AS r_version
  FROM responses r JOIN surveys rs ON rs.id = r.survey_id
 WHERE r.invitation_id IN (SELECT unnest(?::BIGINT[]))
    OR r.resume_hash IN (SELECT unnest(?::VARCHAR[]))
    OR r.id IN (SELECT unnest(?::BIGINT[]))
 ORDER BY r.id"""

_DK_ANSWERS = """
SELECT response_id, item_code, scale, value_num, value_text
  FROM answers WHERE response_id IN (SELECT unnest(?::BIGINT[]))
 ORDER BY id"""

# Ids come from the column's default (the sequence); a batch creates at most one response per
# invitation, so the invitation names each new id.
_DK_NEW_RESPONSES = """
INSERT INTO responses (survey_id, invitation_id, customer_id, channel, locale, started_at, state,
                       page, seed, created_at, completed_at, quality_flags)
SELECT survey_id, inv, customer, channel, locale, started, state, page, seed, started,
       completed, CAST(flags AS JSON)
  FROM (SELECT unnest(?::BIGINT[]) AS survey_id, unnest(?::BIGINT[]) AS inv,
               unnest(?::BIGINT[]) AS customer, unnest(?::VARCHAR[]) AS channel,
               unnest(?::VARCHAR[]) AS locale, unnest(?::TIMESTAMPTZ[]) AS started,
               unnest(?::VARCHAR[]) AS state, unnest(?::INTEGER[]) AS page,
               unnest(?::BIGINT[]) AS seed, unnest(?::TIMESTAMPTZ[]) AS completed,
               unnest(?::VARCHAR[]) AS flags)
RETURNING id, invitation_id"""

_DK_CHANGE_RESPONSES = """
UPDATE responses
   SET page = u.page, locale = u.locale, state = u.state, completed_at = u.completed,
       quality_flags = CAST(u.flags AS JSON)
  FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS page,
               unnest(?::VARCHAR[]) AS locale, unnest(?::VARCHAR[]) AS state,
               unnest(?::TIMESTAMPTZ[]) AS completed, unnest(?::VARCHAR[]) AS flags) AS u
 WHERE responses.id = u.id"""

_DK_DELETE_ANSWERS = """
DELETE FROM answers
 USING (SELECT unnest(?::BIGINT[]) AS response_id, unnest(?::VARCHAR[]) AS item_code) AS d
 WHERE answers.response_id = d.response_id AND answers.item_code = d.item_code"""

_DK_NEW_ANSWERS = """
INSERT INTO answers (response_id, item_code, scale, value_num, value_text, created_at)
SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::DOUBLE[]),
       unnest(?::VARCHAR[]), ?::TIMESTAMPTZ"""

_DK_STAMP = """
UPDATE invitations
   SET opened_at = coalesce(invitations.opened_at, CASE WHEN o.opened THEN $1 END),
       started_at = CASE WHEN o.started THEN $1 ELSE invitations.started_at END,
       used_at = CASE WHEN o.used THEN $1 ELSE invitations.used_at END
  FROM (SELECT unnest($2::BIGINT[]) AS id, unnest($3::BOOLEAN[]) AS opened,
               unnest($4::BOOLEAN[]) AS started, unnest($5::BOOLEAN[]) AS used) AS o
 WHERE invitations.id = o.id"""


def handle(
    conn: Connection, jobs: Sequence[Job], *, now: dt.datetime | None = None
) -> list[Outcome]:
    """Run ``jobs`` in order in the caller's transaction; one outcome per job.

    A job that fails for a reason the respondent should see (an unknown, expired or closed link)
    gets its :class:`CxoError` as its outcome; the other jobs go on. Anything else raises (the
    caller rolls back and may retry the jobs one by one).
    """
    batch = _Batch(conn, now or utcnow())
    batch.load(jobs)
    outcomes: list[Outcome] = []
    for job in jobs:
        try:
            if isinstance(job, Submit):
                outcomes.append(batch.submit(job))
            else:
                outcomes.append(batch.session(job.where, job.locale)[1])
        except CxoError as exc:
            outcomes.append(exc)
    real = batch.flush()
    if not real:
        return outcomes
    done: list[Outcome] = []
    for out in outcomes:
        if isinstance(out, SaveResult) and out.session.response_id < 0:
            out = replace(
                out, session=replace(out.session, response_id=real[out.session.response_id])
            )
        elif isinstance(out, Session) and out.response_id < 0:
            out = replace(out, response_id=real[out.response_id])
        done.append(out)
    return done


def _one(conn: Connection, job: Job, now: dt.datetime | None) -> Session | SaveResult:
    out = handle(conn, [job], now=now)[0]
    if isinstance(out, CxoError):
        raise out
    return out


def save_page(
    conn: Connection,
    s: Session,
    *,
    page: int,
    form: Mapping[str, Sequence[str]],
    action: str = "next",
    now: dt.datetime | None = None,
    shown_at: dt.datetime | None = None,
) -> SaveResult:
    """Validate and save one page of the response ``s`` (a batch of one; see :class:`Submit`)."""
    where: Where = ("response", s.response_id) if s.stored else ("invitation", s.invitation_id or 0)
    job = Submit(where, page, form, action, lang=s.locale, shown_at=shown_at)
    out = _one(conn, job, now)
    assert isinstance(out, SaveResult)
    return out
