"""The append-only, hash-chained audit log.

Every write in cxo calls :func:`record` inside the same transaction as the write, so a write and its
audit entry commit or roll back together. Each entry's hash covers its own content and the previous
entry's hash; ``audit_head`` holds the last hash and the number of entries. :func:`verify` recomputes
the chain and names the first entry that was changed, removed or inserted, and also notices entries
cut off the end (the head no longer matches).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.governance.models import audit_head, audit_log
from cxo.store.metadata import utcnow

GENESIS = "0" * 64
HEAD_ID = 1


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON-serialisable in an audit entry: {type(value).__name__}")


def to_jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def entry_hash(
    *,
    prev_hash: str,
    entry_id: int,
    occurred_at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    before: Any,
    after: Any,
) -> str:
    """SHA-256 over the entry's canonical JSON and the previous hash."""
    ts = occurred_at
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    body = {
        "id": entry_id,
        "at": ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


def _lock_head(conn: Connection) -> tuple[int, str, int]:
    """Return (last_id, hash, entries) of the chain head, locking it for this transaction."""
    query = sa.select(audit_head.c.last_id, audit_head.c.entry_hash, audit_head.c.entries).where(
        audit_head.c.id == HEAD_ID
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        conn.execute(
            audit_head.insert().values(id=HEAD_ID, last_id=0, entry_hash=GENESIS, entries=0)
        )
        if conn.dialect.name == "postgresql":
            conn.execute(query).first()
        return 0, GENESIS, 0
    return int(row.last_id), str(row.entry_hash), int(row.entries)


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    before: Any = None,
    after: Any = None,
    now: dt.datetime | None = None,
) -> int:
    """Append one audit entry in the caller's transaction; return its id."""
    _, prev, entries = _lock_head(conn)
    occurred_at = (now or utcnow()).astimezone(dt.UTC)
    # Timestamps are kept to the microsecond on both databases.
    before_j, after_j = to_jsonable(before), to_jsonable(after)
    oid = None if object_id is None else str(object_id)
    new_id = int(conn.execute(sa.select(sa.Sequence("audit_log_id_seq").next_value())).scalar_one())
    digest = entry_hash(
        prev_hash=prev,
        entry_id=new_id,
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=oid,
        before=before_j,
        after=after_j,
    )
    conn.execute(
        audit_log.insert().values(
            id=new_id,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=oid,
            before_state=before_j,
            after_state=after_j,
            prev_hash=prev,
            entry_hash=digest,
        )
    )
    conn.execute(
        audit_head.update()
        .where(audit_head.c.id == HEAD_ID)
        .values(last_id=new_id, entry_hash=digest, entries=entries + 1)
    )
    return new_id


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None


def _rows(conn: Connection, batch: int = 5000) -> Iterator[sa.Row[Any]]:
    last = 0
    while True:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.id > last).order_by(audit_log.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1].id)


def verify(conn: Connection) -> VerifyResult:
    """Recompute the chain; report the first entry that does not match."""
    prev = GENESIS
    n = 0
    for row in _rows(conn):
        n += 1
        if row.prev_hash != prev:
            return VerifyResult(
                False,
                n,
                prev,
                int(row.id),
                "its link to the previous entry is broken (an entry before it was removed, "
                "inserted or changed)",
            )
        expected = entry_hash(
            prev_hash=row.prev_hash,
            entry_id=int(row.id),
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            before=row.before_state,
            after=row.after_state,
        )
        if expected != row.entry_hash:
            return VerifyResult(False, n, prev, int(row.id), "its content was changed")
        prev = row.entry_hash
    head = conn.execute(
        sa.select(audit_head.c.entry_hash, audit_head.c.entries, audit_head.c.last_id).where(
            audit_head.c.id == HEAD_ID
        )
    ).first()
    if head is None:
        if n:
            return VerifyResult(False, n, prev, None, "the chain head is missing")
        return VerifyResult(True, 0, GENESIS)
    if head.entry_hash != prev or int(head.entries) != n:
        return VerifyResult(
            False,
            n,
            prev,
            int(head.last_id),
            f"entries were removed from the end (the head expects {head.entries} entries "
            f"ending at entry {head.last_id}; found {n})",
        )
    return VerifyResult(True, n, prev)
