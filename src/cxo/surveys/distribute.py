"""Invitations: waves to a segment or a list of customers, triggered surveys, the contact cap.

A *wave* sends one survey to many customers. Each invitation carries a single-use, expiring token.
The token is never stored: it is derived from the server's secret key and the invitation's id
(HMAC-SHA-256), and only its SHA-256 hash is kept, so a copy of the database alone opens no survey,
while reminders can still repeat the same link.

The **contact cap** (``CXO_SURVEY_CONTACT_CAP_DAYS``) holds across all surveys: a customer invited
to any survey within the cap is left out (and counted as such) — including customers already
queued by an earlier wave. Customers on the **opt-out list** (``survey_optouts``, see
:mod:`cxo.surveys.optout`) are never invited, and counted as "opted out".

Unsubscribe links and the bounce reference in each e-mail are *sealed* invitation ids
(:func:`sealed_token`): they name the invitation without showing its id or the customer's, need
no stored state, and cannot be forged without the secret key.

Pure planning (who is eligible, what a trigger matches) takes rows and ``now``; the functions that
write take a connection and leave the transaction to the caller. Sending e-mail is in
:mod:`cxo.surveys.mailer`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from cxo.cases.models import cases
from cxo.customers.models import customers
from cxo.errors import Conflict, CxoError, NotFound
from cxo.governance import audit
from cxo.interactions.models import interactions
from cxo.store.bulk import append_rows, next_ids
from cxo.store.metadata import utcnow
from cxo.surveys.models import invitations, survey_optouts, survey_triggers, survey_waves, surveys
from cxo.surveys.respond import token_hash
from cxo.surveys.suppress import suppressed_customer_ids

MAX_LIST = 1_000_000


def invitation_token(secret: bytes, invitation_id: int) -> str:
    """The invitation's link token: HMAC of its id under the server's secret (32 characters)."""
    digest = hmac.new(secret, f"invitation:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


# --- sealed invitation ids (unsubscribe tokens, bounce references) ----------------------------
_ROUNDS = (
    4  # a 4-round Feistel network on a PRF is a strong pseudorandom permutation (Luby-Rackoff)
)
_TAG = 12  # bytes of MAC: 96 bits
SEALED_LENGTH = 27  # characters: base64url of 8 + 12 bytes


@functools.lru_cache(maxsize=16)
def _seal_key(secret: bytes, purpose: str) -> bytes:
    return hmac.digest(secret, f"sealed:{purpose}".encode(), "sha256")


def _round(key: bytes, n: int, half: int) -> int:
    # Keyed BLAKE2b is a PRF and costs a fifth of an HMAC (two tokens go into every e-mail).
    mac = hashlib.blake2b(bytes((n,)) + half.to_bytes(4, "big"), key=key, digest_size=4)
    return int.from_bytes(mac.digest(), "big")


def _tag(key: bytes, invitation_id: int) -> bytes:
    return hashlib.blake2b(
        b"t" + invitation_id.to_bytes(8, "big"), key=key, digest_size=_TAG
    ).digest()


def sealed_token(secret: bytes, purpose: str, invitation_id: int) -> str:
    """The invitation id under a keyed permutation plus a MAC, for links that must name an
    invitation without showing its id: ``purpose`` separates uses ("optout", "bounce")."""
    if not 0 <= invitation_id < 2**64:
        raise ValueError("invitation id out of range")
    key = _seal_key(secret, purpose)
    left, right = invitation_id >> 32, invitation_id & 0xFFFFFFFF
    for n in range(_ROUNDS):
        left, right = right, left ^ _round(key, n, right)
    raw = left.to_bytes(4, "big") + right.to_bytes(4, "big") + _tag(key, invitation_id)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def open_sealed(secret: bytes, purpose: str, token: str) -> int | None:
    """The invitation id in a sealed token, or None if it is malformed or was not made with this
    key and purpose."""
    if len(token) != SEALED_LENGTH or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except ValueError:
        return None
    if len(raw) != 8 + _TAG or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None  # one spelling per token: spare bits of the last character must be zero
    key = _seal_key(secret, purpose)
    left, right = int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big")
    for n in reversed(range(_ROUNDS)):
        left, right = right ^ _round(key, n, left), left
    invitation_id = (left << 32) | right
    return invitation_id if hmac.compare_digest(_tag(key, invitation_id), raw[8:]) else None


def optout_token(secret: bytes, invitation_id: int) -> str:
    """The token of the invitation's unsubscribe link ``/s/u/<token>``."""
    return sealed_token(secret, "optout", invitation_id)


def bounce_ref(secret: bytes, invitation_id: int) -> str:
    """The reference in the ``X-Cxo-Invitation`` header and Message-ID that bounces are matched on."""
    return sealed_token(secret, "bounce", invitation_id)


# --- the opt-out list --------------------------------------------------------------------------


def opted_out_select() -> sa.Select[Any]:
    """Ids of every customer on the opt-out list, with the customers merged with them (an
    opt-out holds for the surviving customer and every alias)."""
    listed = customers.alias("listed")
    member = customers.alias("member")
    return (
        sa.select(member.c.id)
        .select_from(
            survey_optouts.join(listed, listed.c.id == survey_optouts.c.customer_id).join(
                member,
                sa.func.coalesce(member.c.merged_into_id, member.c.id)
                == sa.func.coalesce(listed.c.merged_into_id, listed.c.id),
            )
        )
        .distinct()
    )


def opted_out_ids(conn: Connection) -> set[int]:
    """Customers who must not get survey e-mail (see :func:`opted_out_select`)."""
    if conn.execute(sa.select(survey_optouts.c.id).limit(1)).first() is None:
        return set()  # the usual case costs one cheap query
    return {int(r[0]) for r in conn.execute(opted_out_select())}


class Audience(BaseModel):
    """Who a wave goes to: a segment, a list of customer ids, or everyone with an e-mail."""

    segment: str | None = Field(default=None, max_length=50)
    customer_ids: list[int] | None = Field(default=None, max_length=MAX_LIST)
    locale: str | None = Field(default=None, description="Overrides each customer's language")


class WaveCreate(BaseModel):
    survey_code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=200)
    audience: Audience
    expires_days: int | None = Field(default=None, ge=1, le=365)
    reminder_days: int | None = Field(default=3, ge=1, le=90)
    max_reminders: int = Field(default=1, ge=0, le=5)


@dataclass
class WaveSummary:
    wave_id: int
    survey_code: str
    selected: int = 0
    queued: int = 0
    capped: int = 0
    no_email: int = 0
    unknown: int = 0
    opted_out: int = 0
    undeliverable: int = 0  # their address is on the suppression list (bounced, complained)


def _live_survey_id(conn: Connection, code: str) -> int:
    sid = conn.execute(
        sa.select(surveys.c.id).where(surveys.c.code == code, surveys.c.state == "live")
    ).scalar()
    if sid is None:
        exists = conn.execute(sa.select(surveys.c.id).where(surveys.c.code == code)).first()
        if exists is None:
            raise NotFound(f"No survey {code!r}.", hint="`cxo survey list` shows the surveys.")
        raise Conflict(
            f"Survey {code!r} is not live.", hint=f"Publish it first: `cxo survey publish {code}`."
        )
    return int(sid)


def recently_contacted(conn: Connection, *, since: dt.datetime) -> set[int]:
    """Customers invited to any survey since ``since`` (sent or still queued; an invitation
    withheld because the customer opted out contacted nobody)."""
    rows = conn.execute(
        sa.select(invitations.c.customer_id)
        .where(
            invitations.c.customer_id.is_not(None),
            sa.func.coalesce(invitations.c.sent_at, invitations.c.created_at) >= since,
            sa.func.coalesce(invitations.c.status, "queued") != "opted_out",
        )
        .distinct()
    )
    return {int(r[0]) for r in rows}


def _candidates(conn: Connection, audience: Audience) -> list[sa.Row[Any]]:
    # Aliases (merged customers) are never invited: their survivor is.
    query = sa.select(
        customers.c.id, customers.c.email, customers.c.locale, customers.c.segment
    ).where(customers.c.merged_into_id.is_(None))
    if audience.segment is not None:
        query = query.where(customers.c.segment == audience.segment)
    if audience.customer_ids is not None:
        wanted = sorted(set(audience.customer_ids))
        rows: list[sa.Row[Any]] = []
        for i in range(0, len(wanted), 10_000):
            rows.extend(conn.execute(query.where(customers.c.id.in_(wanted[i : i + 10_000]))))
        return sorted(rows, key=lambda r: r.id)
    return list(conn.execute(query.order_by(customers.c.id)))


def _insert_invitations(
    conn: Connection,
    *,
    secret: bytes,
    survey_id: int,
    wave_id: int | None,
    channel: str,
    recipients: list[tuple[int, str | None, str | None]],
    expires_at: dt.datetime,
    now: dt.datetime,
    interaction_ids: list[int | None] | None = None,
) -> list[int]:
    """Bulk-insert queued invitations for (customer id, locale, segment) tuples."""
    ids = next_ids(conn, "invitations_id_seq", len(recipients))
    if not ids:
        return []
    data = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "survey_id": pa.array([survey_id] * len(ids), pa.int64()),
            "customer_id": pa.array([r[0] for r in recipients], pa.int64()),
            "token_hash": pa.array([token_hash(invitation_token(secret, i)) for i in ids]),
            "channel": pa.array([channel] * len(ids)),
            "expires_at": pa.array([expires_at] * len(ids), pa.timestamp("us", tz="UTC")),
            "wave_id": pa.array([wave_id] * len(ids), pa.int64()),
            "locale": pa.array([r[1] for r in recipients], pa.string()),
            "segment": pa.array([r[2] for r in recipients], pa.string()),
            "status": pa.array(["queued"] * len(ids)),
            "reminders_sent": pa.array([0] * len(ids), pa.int32()),
            "interaction_id": pa.array(interaction_ids or [None] * len(ids), pa.int64()),
            "created_at": pa.array([now] * len(ids), pa.timestamp("us", tz="UTC")),
        }
    )
    append_rows(conn, invitations, data)
    return ids


def create_wave(
    conn: Connection,
    *,
    data: WaveCreate,
    secret: bytes,
    cap_days: int,
    default_expiry_days: int,
    actor: str,
    now: dt.datetime | None = None,
) -> WaveSummary:
    """Queue invitations for a wave: the audience minus the capped and those without e-mail."""
    now = now or utcnow()
    survey_id = _live_survey_id(conn, data.survey_code)
    audience = data.audience
    if audience.segment is None and audience.customer_ids is None:
        raise CxoError(
            "Choose who to invite: a segment or a list of customers.",
            hint="Use --segment NAME or --customers FILE.",
        )
    expires_days = data.expires_days or default_expiry_days
    wave_id = conn.execute(
        survey_waves.insert()
        .values(
            survey_code=data.survey_code,
            name=data.name,
            channel="email",
            audience={
                "segment": audience.segment,
                "customers": len(audience.customer_ids or []),
                "locale": audience.locale,
            },
            expires_days=expires_days,
            reminder_days=data.reminder_days,
            max_reminders=data.max_reminders,
            created_by=actor,
            created_at=now,
        )
        .returning(survey_waves.c.id)
    ).scalar_one()
    rows = _candidates(conn, audience)
    summary = WaveSummary(wave_id=int(wave_id), survey_code=data.survey_code, selected=len(rows))
    if audience.customer_ids is not None:
        summary.unknown = len(set(audience.customer_ids)) - len(rows)
    capped = (
        recently_contacted(conn, since=now - dt.timedelta(days=cap_days)) if cap_days else set()
    )
    opted_out = opted_out_ids(conn)
    undeliverable = suppressed_customer_ids(conn)
    recipients: list[tuple[int, str | None, str | None]] = []
    for r in rows:
        if r.id in opted_out:
            summary.opted_out += 1
        elif r.id in undeliverable:
            summary.undeliverable += 1
        elif r.id in capped:
            summary.capped += 1
        elif not r.email:
            summary.no_email += 1
        else:
            recipients.append((int(r.id), audience.locale or r.locale, r.segment))
    ids = _insert_invitations(
        conn,
        secret=secret,
        survey_id=survey_id,
        wave_id=int(wave_id),
        channel="email",
        recipients=recipients,
        expires_at=now + dt.timedelta(days=expires_days),
        now=now,
    )
    summary.queued = len(ids)
    counts = {
        "selected": summary.selected,
        "queued": summary.queued,
        "capped": summary.capped,
        "no_email": summary.no_email,
        "unknown": summary.unknown,
        "opted_out": summary.opted_out,
        "undeliverable": summary.undeliverable,
    }
    conn.execute(
        survey_waves.update()
        .where(survey_waves.c.id == wave_id)
        .values(
            audience={
                "segment": audience.segment,
                "customers": len(audience.customer_ids or []),
                "locale": audience.locale,
                **counts,
            }
        )
    )
    audit.record(
        conn,
        actor=actor,
        action="survey.wave_create",
        object_type="survey_wave",
        object_id=int(wave_id),
        after={
            "survey": data.survey_code,
            "name": data.name,
            "segment": audience.segment,
            **counts,
        },
        now=now,
    )
    return summary


# --- triggered surveys -------------------------------------------------------------------------


class TriggerCreate(BaseModel):
    survey_code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    source: Literal["interaction", "case"] = Field(
        default="interaction",
        description="After an interaction (matching channel, touchpoint, outcome) or after a case "
        "is closed (matching outcome = the case's status, touchpoint = its team)",
    )
    channel: str | None = Field(default=None, max_length=20)
    touchpoint: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=50)
    delay_hours: int = Field(default=0, ge=0, le=24 * 30)


def create_trigger(
    conn: Connection, *, data: TriggerCreate, actor: str, now: dt.datetime | None = None
) -> int:
    """Invite customers after matching interactions or closed cases (from now on: earlier ones
    are not surveyed)."""
    now = now or utcnow()
    if (
        conn.execute(sa.select(surveys.c.id).where(surveys.c.code == data.survey_code)).first()
        is None
    ):
        raise NotFound(f"No survey {data.survey_code!r}.")
    watermark = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(interactions.c.id), 0))
    ).scalar_one()
    new_id = conn.execute(
        survey_triggers.insert()
        .values(
            survey_code=data.survey_code,
            source=data.source,
            channel=data.channel,
            touchpoint=data.touchpoint,
            outcome=data.outcome,
            delay_hours=data.delay_hours,
            active=True,
            last_interaction_id=int(watermark),
            last_event_at=now,
            created_by=actor,
            created_at=now,
        )
        .returning(survey_triggers.c.id)
    ).scalar_one()
    audit.record(
        conn,
        actor=actor,
        action="survey.trigger_create",
        object_type="survey_trigger",
        object_id=int(new_id),
        after=data.model_dump(),
        now=now,
    )
    return int(new_id)


@dataclass
class TriggerRun:
    trigger_id: int
    matched: int = 0
    queued: int = 0
    capped: int = 0
    no_email: int = 0
    waiting: int = 0
    opted_out: int = 0
    undeliverable: int = 0


STALE_DAYS = 14  # events older than this when first seen are not surveyed


@dataclass(frozen=True)
class _Event:
    ref: int
    customer_id: int
    at: dt.datetime
    email: str | None
    locale: str | None
    segment: str | None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _who() -> list[Any]:
    return [
        sa.func.coalesce(customers.c.merged_into_id, customers.c.id).label("cid"),
        customers.c.email,
        customers.c.locale,
        customers.c.segment,
    ]


def _interaction_events(
    conn: Connection, trig: sa.Row[Any], due_before: dt.datetime, run: TriggerRun
) -> tuple[list[_Event], dict[str, Any]]:
    query = (
        sa.select(interactions.c.id, interactions.c.started_at, *_who())
        .join(customers, customers.c.id == interactions.c.customer_id)
        .where(interactions.c.id > trig.last_interaction_id)
    )
    for column, value in (
        (interactions.c.channel, trig.channel),
        (interactions.c.touchpoint, trig.touchpoint),
        (interactions.c.outcome, trig.outcome),
    ):
        if value:
            query = query.where(column == value)
    events: list[_Event] = []
    watermark = int(trig.last_interaction_id)
    for r in conn.execute(query.order_by(interactions.c.id)):
        at = _utc(r.started_at)
        if at > due_before:
            run.waiting += 1
            break  # later ids wait too, so none is skipped
        watermark = int(r.id)
        events.append(_Event(int(r.id), int(r.cid), at, r.email, r.locale, r.segment))
    return events, {"last_interaction_id": watermark}


def _case_events(
    conn: Connection, trig: sa.Row[Any], due_before: dt.datetime, run: TriggerRun
) -> tuple[list[_Event], dict[str, Any]]:
    since = _utc(trig.last_event_at or trig.created_at)
    query = (
        sa.select(cases.c.id, cases.c.closed_at, *_who())
        .join(customers, customers.c.id == cases.c.customer_id)
        .where(cases.c.closed_at.is_not(None), cases.c.closed_at > since)
    )
    if trig.outcome:
        query = query.where(cases.c.status == trig.outcome)
    if trig.touchpoint:
        query = query.where(cases.c.team == trig.touchpoint)
    events: list[_Event] = []
    watermark = since
    for r in conn.execute(query.order_by(cases.c.closed_at, cases.c.id)):
        at = _utc(r.closed_at)
        if at > due_before:
            run.waiting += 1
            continue
        watermark = max(watermark, at)
        events.append(_Event(int(r.id), int(r.cid), at, r.email, r.locale, r.segment))
    return events, {"last_event_at": watermark}


def run_triggers(
    conn: Connection,
    *,
    secret: bytes,
    cap_days: int,
    expiry_days: int,
    now: dt.datetime | None = None,
) -> list[TriggerRun]:
    """Queue invitations for interactions or closed cases that match an active trigger and are
    due (the trigger's delay has passed)."""
    now = now or utcnow()
    runs: list[TriggerRun] = []
    triggers = conn.execute(
        sa.select(survey_triggers).where(survey_triggers.c.active.is_(True))
    ).all()
    for trig in triggers:
        run = TriggerRun(trigger_id=int(trig.id))
        try:
            survey_id = _live_survey_id(conn, trig.survey_code)
        except CxoError:
            runs.append(run)
            continue
        due_before = now - dt.timedelta(hours=int(trig.delay_hours))
        find = _case_events if trig.source == "case" else _interaction_events
        events, progress = find(conn, trig, due_before, run)
        stale_before = now - dt.timedelta(days=STALE_DAYS)
        capped = (
            recently_contacted(conn, since=now - dt.timedelta(days=cap_days)) if cap_days else set()
        )
        opted_out = opted_out_ids(conn)
        undeliverable = suppressed_customer_ids(conn)
        recipients: list[tuple[int, str | None, str | None]] = []
        sources: list[int | None] = []
        seen: set[int] = set()
        for e in events:
            if e.at < stale_before:
                continue
            run.matched += 1
            if e.customer_id in opted_out:
                run.opted_out += 1
            elif e.customer_id in undeliverable:
                run.undeliverable += 1
            elif e.customer_id in capped or e.customer_id in seen:
                run.capped += 1
            elif not e.email:
                run.no_email += 1
            else:
                seen.add(e.customer_id)
                recipients.append((e.customer_id, e.locale, e.segment))
                sources.append(e.ref if trig.source != "case" else None)
        ids = _insert_invitations(
            conn,
            secret=secret,
            survey_id=survey_id,
            wave_id=None,
            channel="trigger",
            recipients=recipients,
            expires_at=now + dt.timedelta(days=expiry_days),
            now=now,
            interaction_ids=sources,
        )
        run.queued = len(ids)
        conn.execute(
            survey_triggers.update().where(survey_triggers.c.id == trig.id).values(**progress)
        )
        runs.append(run)
    return runs
