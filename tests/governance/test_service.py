"""Users, passwords, sessions and API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cxo.errors import AuthenticationFailed, Conflict, NotFound
from cxo.governance import service as gov
from cxo.governance.models import api_tokens, users
from cxo.governance.schemas import TokenCreate, UserCreate
from cxo.settings import Settings
from cxo.store.engine import connect


def _user(s: Settings, name: str = "lin", role: str = "analyst") -> gov.UserRead:
    with connect(s, write=True) as conn:
        return gov.create_user(
            conn, data=UserCreate(username=name, role=role, password="s3cret-pw"), actor="t"
        )


def test_password_is_hashed_with_argon2(any_store: Settings) -> None:
    u = _user(any_store)
    with connect(any_store) as conn:
        stored = conn.execute(
            sa.select(users.c.password_hash).where(users.c.id == u.id)
        ).scalar_one()
    assert stored.startswith("$argon2id$") and "s3cret-pw" not in stored


def test_duplicate_user_is_a_conflict(any_store: Settings) -> None:
    _user(any_store)
    with pytest.raises(Conflict):
        _user(any_store)


def test_authenticate(any_store: Settings) -> None:
    _user(any_store)
    with connect(any_store, write=True) as conn:
        p = gov.authenticate(conn, username="lin", password="s3cret-pw")
        assert p.role == "analyst" and p.scopes is None
        for name, pw in (("lin", "wrong"), ("nobody", "s3cret-pw"), ("", "")):
            with pytest.raises(AuthenticationFailed) as info:
                gov.authenticate(conn, username=name, password=pw)
            assert info.value.message == "Wrong user name or password."


def test_sessions_expire_and_end(any_store: Settings) -> None:
    _user(any_store)
    now = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    with connect(any_store, write=True) as conn:
        p = gov.authenticate(conn, username="lin", password="s3cret-pw")
        token = gov.start_session(conn, principal=p, hours=2, now=now)
    with connect(any_store, write=True) as conn:
        assert gov.resolve_session(conn, token=token, now=now + dt.timedelta(hours=1)) is not None
        assert gov.resolve_session(conn, token=token, now=now + dt.timedelta(hours=3)) is None
        assert gov.resolve_session(conn, token="forged", now=now) is None
        gov.end_session(conn, token=token, actor="lin")
        assert gov.resolve_session(conn, token=token, now=now) is None


def test_tokens_carry_scopes_and_can_expire_or_be_revoked(any_store: Settings) -> None:
    _user(any_store)
    with connect(any_store, write=True) as conn:
        token = gov.create_token(
            conn,
            data=TokenCreate(username="lin", scopes=["customers:read"], expires_days=1),
            actor="t",
        )
        p = gov.resolve_token(conn, token=token)
        assert p is not None and p.scopes == ("customers:read",) and p.actor == "lin (token)"
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        assert gov.resolve_token(conn, token=token, now=later) is None
        assert gov.resolve_token(conn, token=token[:-1] + "x") is None
        assert gov.resolve_token(conn, token="not-a-token") is None
        stored = conn.execute(sa.select(api_tokens.c.token_hash)).scalar_one()
        assert token not in stored
        conn.execute(api_tokens.update().values(revoked=True))
        assert gov.resolve_token(conn, token=token) is None


def test_token_for_unknown_user_or_scope(any_store: Settings) -> None:
    with pytest.raises(ValueError):
        TokenCreate(username="lin", scopes=["everything"])
    with pytest.raises(NotFound), connect(any_store, write=True) as conn:
        gov.create_token(conn, data=TokenCreate(username="ghost", scopes=["admin"]), actor="t")


def test_every_write_is_audited(any_store: Settings) -> None:
    from cxo.governance import audit

    _user(any_store)
    with connect(any_store, write=True) as conn:
        p = gov.authenticate(conn, username="lin", password="s3cret-pw")
        gov.start_session(conn, principal=p, hours=1)
        gov.set_locale(conn, principal=p, locale="zh_CN")
        gov.create_token(conn, data=TokenCreate(username="lin", scopes=["admin"]), actor="t")
    with connect(any_store) as conn:
        actions = [e.action for e in gov.list_audit(conn)]
        assert actions == ["token.create", "user.set_locale", "session.login", "user.create"]
        assert audit.verify(conn).ok
