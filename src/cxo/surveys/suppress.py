"""The e-mail suppression list: addresses survey e-mail is never sent to again.

An address goes on the list when a hard bounce for it comes back (:mod:`cxo.surveys.bounces`),
when its owner reports a survey e-mail as spam (a feedback report, RFC 5965), or when an analyst
puts it there. The list holds addresses, not customers: a customer whose address bounced is
mailed again once their record carries another address (a new import), and two customers sharing
an address are both left out.

Waves and triggers leave out customers whose address is listed and count them as
"undeliverable"; the mailer withholds invitations already queued for such an address (status
``failed``, with the reason) and skips their reminders. Taking an address off the list (analysts
only, audited) makes it mailable again; invitations withheld meanwhile stay withheld.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from cxo.customers.models import customers
from cxo.errors import CxoError
from cxo.governance import audit
from cxo.store.metadata import utcnow
from cxo.surveys.models import SUPPRESSION_REASONS, email_suppressions
from cxo.vocabulary import N_

MAX_EMAIL = 320
SUPPRESSION_LABELS = {
    "hard_bounce": N_("hard bounce"),
    "complaint": N_("spam complaint"),
    "analyst": N_("added by an analyst"),
}


class SuppressionRead(BaseModel):
    email: str
    since: dt.datetime
    reason: str = Field(description=", ".join(SUPPRESSION_REASONS))
    invitation_id: int | None = None
    detail: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class Entry:
    """An address to suppress and why."""

    email: str
    reason: str
    invitation_id: int | None = None
    detail: str | None = None


def normalise(email: str | None) -> str | None:
    """The form addresses are listed and compared in: trimmed, lower case; None if not one."""
    if email is None:
        return None
    value = email.strip().lower()
    if not value or len(value) > MAX_EMAIL or "@" not in value or any(c.isspace() for c in value):
        return None
    return value


def suppress(
    conn: Connection,
    entries: Iterable[Entry],
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """List the entries' addresses (an address already listed keeps its first entry); returns
    how many were added."""
    now = now or utcnow()
    wanted: dict[str, Entry] = {}
    for entry in entries:
        email = normalise(entry.email)
        if email is not None and entry.reason in SUPPRESSION_REASONS:
            wanted.setdefault(email, entry)
    if not wanted:
        return 0
    known = listed(conn, list(wanted))
    rows = [
        {
            "email": email,
            "since": now,
            "reason": entry.reason,
            "invitation_id": entry.invitation_id,
            "detail": entry.detail[:300] if entry.detail else None,
            "created_by": actor if entry.reason == "analyst" else None,
        }
        for email, entry in wanted.items()
        if email not in known
    ]
    if not rows:
        return 0
    # One statement for all (row by row costs ~2 ms each on DuckDB). ON CONFLICT: two runs
    # listing the same address at once (PostgreSQL); DuckDB, one writer, reports -1 rows.
    count = conn.execute(
        pg_insert(email_suppressions).values(rows).on_conflict_do_nothing(index_elements=["email"])
    ).rowcount
    return len(rows) if count < 0 else count


def listed(conn: Connection, emails: list[str]) -> set[str]:
    """Those of ``emails`` (normalised) that are on the list."""
    found: set[str] = set()
    for k in range(0, len(emails), 1000):
        found.update(
            str(r[0])
            for r in conn.execute(
                sa.select(email_suppressions.c.email).where(
                    email_suppressions.c.email.in_(emails[k : k + 1000])
                )
            )
        )
    return found


def suppressed_customer_ids(conn: Connection) -> set[int]:
    """Customers whose current address is listed."""
    if conn.execute(sa.select(email_suppressions.c.id).limit(1)).first() is None:
        return set()  # the usual case costs one cheap query
    return {
        int(r[0])
        for r in conn.execute(
            sa.select(customers.c.id).join(
                email_suppressions,
                email_suppressions.c.email == sa.func.lower(sa.func.trim(customers.c.email)),
            )
        )
    }


def _read(row: Any) -> SuppressionRead:
    since = row.since if row.since.tzinfo else row.since.replace(tzinfo=dt.UTC)
    return SuppressionRead(
        email=row.email,
        since=since,
        reason=row.reason,
        invitation_id=row.invitation_id,
        detail=row.detail,
        created_by=row.created_by,
    )


def _valid(email: str) -> str:
    value = normalise(email)
    if value is None:
        raise CxoError(
            f"{email[:80]!r} is not an e-mail address.", hint="Give an address such as a@b.com."
        )
    return value


def add_suppression(
    conn: Connection, *, email: str, actor: str, now: dt.datetime | None = None
) -> tuple[SuppressionRead, bool]:
    """An analyst lists an address (audited); returns the entry and whether it is new."""
    value = _valid(email)
    now = now or utcnow()
    created = suppress(conn, [Entry(value, "analyst")], actor=actor, now=now) > 0
    row = conn.execute(
        sa.select(email_suppressions).where(email_suppressions.c.email == value)
    ).one()
    entry = _read(row)
    if created:
        audit.record(
            conn,
            actor=actor,
            action="survey.suppress",
            object_type="email_suppression",
            object_id=int(row.id),
            after=entry.model_dump(mode="json"),
            now=now,
        )
    return entry, created


def remove_suppression(
    conn: Connection, *, email: str, actor: str, now: dt.datetime | None = None
) -> SuppressionRead | None:
    """An analyst takes an address off the list (audited); None if it was not on it."""
    value = _valid(email)
    row = conn.execute(
        sa.select(email_suppressions).where(email_suppressions.c.email == value)
    ).first()
    if row is None:
        return None
    conn.execute(email_suppressions.delete().where(email_suppressions.c.id == row.id))
    before = _read(row)
    audit.record(
        conn,
        actor=actor,
        action="survey.unsuppress",
        object_type="email_suppression",
        object_id=int(row.id),
        before=before.model_dump(mode="json"),
        now=now,
    )
    return before


def list_suppressions(
    conn: Connection, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[SuppressionRead]]:
    """The suppression list, newest first, and how many entries it has."""
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(email_suppressions)).scalar_one()
    )
    rows = conn.execute(
        sa.select(email_suppressions)
        .order_by(email_suppressions.c.since.desc(), email_suppressions.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, [_read(r) for r in rows]
