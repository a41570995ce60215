"""The hash-chained audit log detects any change, removal or insertion."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cxo.governance import audit
from cxo.governance.models import audit_head, audit_log
from cxo.settings import Settings
from cxo.store.engine import connect


def _fill(s: Settings, n: int) -> None:
    with connect(s, write=True) as conn:
        for i in range(n):
            audit.record(
                conn,
                actor="tester",
                action="thing.update",
                object_type="thing",
                object_id=i,
                before={"v": i, "名": "旧"},
                after={"v": i + 1, "when": dt.date(2026, 1, 1)},
            )


def _verify(s: Settings) -> audit.VerifyResult:
    with connect(s) as conn:
        return audit.verify(conn)


def test_empty_chain_is_intact(any_store: Settings) -> None:
    result = _verify(any_store)
    assert result.ok and result.entries == 0 and result.head_hash == audit.GENESIS


def test_intact_chain_verifies(any_store: Settings) -> None:
    _fill(any_store, 5)
    result = _verify(any_store)
    assert result.ok and result.entries == 5


def test_changed_row_is_named(any_store: Settings) -> None:
    _fill(any_store, 5)
    with connect(any_store, write=True) as conn:
        ids = [r.id for r in conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.id))]
        conn.execute(audit_log.update().where(audit_log.c.id == ids[2]).values(actor="mallory"))
    result = _verify(any_store)
    assert not result.ok and result.first_bad_id == ids[2]
    assert "changed" in (result.problem or "")


def test_removed_row_is_detected_at_its_successor(any_store: Settings) -> None:
    _fill(any_store, 5)
    with connect(any_store, write=True) as conn:
        ids = [r.id for r in conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.id))]
        conn.execute(audit_log.delete().where(audit_log.c.id == ids[1]))
    result = _verify(any_store)
    assert not result.ok and result.first_bad_id == ids[2]


def test_removed_tail_is_detected_by_the_head(any_store: Settings) -> None:
    _fill(any_store, 5)
    with connect(any_store, write=True) as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.id == last))
    result = _verify(any_store)
    assert not result.ok
    assert "removed from the end" in (result.problem or "")


def test_rewritten_hash_is_caught_by_the_next_link(any_store: Settings) -> None:
    """A forger who changes a row and recomputes its hash still breaks the next entry's link."""
    _fill(any_store, 4)
    with connect(any_store, write=True) as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
        victim = rows[1]
        forged = audit.entry_hash(
            prev_hash=victim.prev_hash,
            entry_id=victim.id,
            occurred_at=victim.occurred_at,
            actor="mallory",
            action=victim.action,
            object_type=victim.object_type,
            object_id=victim.object_id,
            before=victim.before_state,
            after=victim.after_state,
        )
        conn.execute(
            audit_log.update()
            .where(audit_log.c.id == victim.id)
            .values(actor="mallory", entry_hash=forged)
        )
    result = _verify(any_store)
    assert not result.ok and result.first_bad_id == rows[2].id


def test_audit_entry_rolls_back_with_its_write(any_store: Settings) -> None:
    with pytest.raises(RuntimeError), connect(any_store, write=True) as conn:
        audit.record(conn, actor="a", action="x", object_type="y")
        raise RuntimeError("the write failed")
    result = _verify(any_store)
    assert result.ok and result.entries == 0


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_single_tampering_is_detected(store: Settings, n: int, data: st.DataObject) -> None:
    with connect(store, write=True) as conn:
        conn.execute(audit_log.delete())
        conn.execute(audit_head.delete())
    _fill(store, n)
    with connect(store, write=True) as conn:
        ids = [r.id for r in conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.id))]
        target = data.draw(st.sampled_from(ids))
        kind = data.draw(st.sampled_from(["actor", "after", "time", "delete"]))
        where = audit_log.c.id == target
        if kind == "actor":
            conn.execute(audit_log.update().where(where).values(actor="someone else"))
        elif kind == "after":
            conn.execute(audit_log.update().where(where).values(after_state={"v": -1}))
        elif kind == "time":
            conn.execute(
                audit_log.update()
                .where(where)
                .values(occurred_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )
        else:
            conn.execute(audit_log.delete().where(where))
    assert not _verify(store).ok
