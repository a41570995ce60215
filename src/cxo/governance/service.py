"""Users, login sessions, API tokens and audit reads. The caller owns the transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from cxo.errors import AuthenticationFailed, Conflict, NotFound
from cxo.governance import audit
from cxo.governance.models import api_tokens, audit_log, users, web_sessions
from cxo.governance.schemas import AuditEntryRead, TokenCreate, UserCreate, UserRead
from cxo.i18n import LOCALES
from cxo.store.metadata import utcnow

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a login for an unknown user as slow as one for a known user."""
    return _hasher.hash("cxo-dummy-password")


TOKEN_PREFIX = "cxo_"  # noqa: S105  (a public marker, not a secret)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a logged-in user (scopes None) or an API token (its scopes)."""

    user_id: int
    username: str
    role: str
    locale: str | None
    scopes: tuple[str, ...] | None = None

    @property
    def actor(self) -> str:
        return self.username if self.scopes is None else f"{self.username} (token)"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _user_read(row: Any) -> UserRead:
    return UserRead.model_validate(row._mapping, from_attributes=False)


def create_user(conn: Connection, *, data: UserCreate, actor: str) -> UserRead:
    """Create a user with an argon2-hashed password."""
    exists = conn.execute(sa.select(users.c.id).where(users.c.username == data.username)).first()
    if exists:
        raise Conflict(f"User {data.username!r} already exists.", hint="Choose another name.")
    now = utcnow()
    values = {
        "username": data.username,
        "display_name": data.display_name,
        "email": data.email,
        "role": data.role,
        "password_hash": _hasher.hash(data.password),
        "locale": data.locale,
        "active": True,
        "created_at": now,
        "updated_at": now,
    }
    user_id = conn.execute(users.insert().values(**values).returning(users.c.id)).scalar_one()
    audit.record(
        conn,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user_id,
        after={"username": data.username, "role": data.role},
    )
    return get_user(conn, user_id=user_id)


def get_user(conn: Connection, *, user_id: int) -> UserRead:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"No user with id {user_id}.")
    return _user_read(row)


def find_user(conn: Connection, *, username: str) -> UserRead | None:
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    return None if row is None else _user_read(row)


def list_users(conn: Connection) -> list[UserRead]:
    return [_user_read(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def set_password(conn: Connection, *, username: str, password: str, actor: str) -> None:
    """Replace a user's password (and end their web sessions)."""
    user = find_user(conn, username=username)
    if user is None:
        raise NotFound(f"No user named {username!r}.", hint="List users with `cxo user list`.")
    conn.execute(
        users.update()
        .where(users.c.id == user.id)
        .values(password_hash=_hasher.hash(password), updated_at=utcnow())
    )
    conn.execute(
        web_sessions.update().where(web_sessions.c.user_id == user.id).values(revoked=True)
    )
    audit.record(
        conn, actor=actor, action="user.set_password", object_type="user", object_id=user.id
    )


def authenticate(conn: Connection, *, username: str, password: str) -> Principal:
    """Check a user name and password; the same error whichever of the two is wrong."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    failure = AuthenticationFailed("Wrong user name or password.")
    if row is None or not row.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        raise failure
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(
            users.update().where(users.c.id == row.id).values(password_hash=_hasher.hash(password))
        )
    return Principal(int(row.id), row.username, row.role, row.locale)


def start_session(
    conn: Connection, *, principal: Principal, hours: int, now: dt.datetime | None = None
) -> str:
    """Open a web session and return its secret token (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    conn.execute(
        web_sessions.insert().values(
            token_hash=_sha256(token),
            user_id=principal.user_id,
            expires_at=now + dt.timedelta(hours=hours),
            revoked=False,
            created_at=now,
        )
    )
    conn.execute(users.update().where(users.c.id == principal.user_id).values(last_login_at=now))
    audit.record(
        conn,
        actor=principal.username,
        action="session.login",
        object_type="user",
        object_id=principal.user_id,
    )
    return token


def _principal_for_user(
    conn: Connection, user_id: int, scopes: tuple[str, ...] | None
) -> Principal | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None or not row.active:
        return None
    return Principal(int(row.id), row.username, row.role, row.locale, scopes)


def resolve_session(
    conn: Connection, *, token: str, now: dt.datetime | None = None
) -> Principal | None:
    now = now or utcnow()
    row = conn.execute(
        sa.select(web_sessions.c.user_id, web_sessions.c.expires_at, web_sessions.c.revoked).where(
            web_sessions.c.token_hash == _sha256(token)
        )
    ).first()
    if row is None or row.revoked or _aware(row.expires_at) <= now:
        return None
    return _principal_for_user(conn, int(row.user_id), None)


def end_session(conn: Connection, *, token: str, actor: str) -> None:
    conn.execute(
        web_sessions.update()
        .where(web_sessions.c.token_hash == _sha256(token))
        .values(revoked=True)
    )
    audit.record(conn, actor=actor, action="session.logout", object_type="session")


def set_locale(conn: Connection, *, principal: Principal, locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    before = conn.execute(sa.select(users.c.locale).where(users.c.id == principal.user_id)).scalar()
    conn.execute(users.update().where(users.c.id == principal.user_id).values(locale=locale))
    audit.record(
        conn,
        actor=principal.actor,
        action="user.set_locale",
        object_type="user",
        object_id=principal.user_id,
        before={"locale": before},
        after={"locale": locale},
    )


def create_token(conn: Connection, *, data: TokenCreate, actor: str) -> str:
    """Create an API token for a user and return it; it is shown once and stored hashed."""
    user = find_user(conn, username=data.username)
    if user is None:
        raise NotFound(
            f"No user named {data.username!r}.",
            hint="Create one with `cxo user add NAME --role ROLE`.",
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + dt.timedelta(days=data.expires_days) if data.expires_days else None
    token_id = conn.execute(
        api_tokens.insert()
        .values(
            user_id=user.id,
            name=data.name,
            prefix=token[:10],
            token_hash=_sha256(token),
            scopes=list(data.scopes),
            expires_at=expires,
            revoked=False,
            created_at=now,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    audit.record(
        conn,
        actor=actor,
        action="token.create",
        object_type="api_token",
        object_id=token_id,
        after={
            "user": data.username,
            "scopes": list(data.scopes),
            "prefix": token[:10],
            "expires_at": expires,
        },
    )
    return token


def resolve_token(
    conn: Connection, *, token: str, now: dt.datetime | None = None
) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    row = conn.execute(
        sa.select(api_tokens).where(api_tokens.c.token_hash == _sha256(token))
    ).first()
    if row is None or row.revoked:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return None
    # Compare in constant time anyway; the lookup above is by hash, so this is belt and braces.
    if not hmac.compare_digest(row.token_hash, _sha256(token)):
        return None
    return _principal_for_user(conn, int(row.user_id), tuple(row.scopes or ()))


def list_audit(conn: Connection, *, limit: int = 50, offset: int = 0) -> list[AuditEntryRead]:
    rows = conn.execute(
        sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    )
    return [AuditEntryRead.model_validate(dict(r._mapping)) for r in rows]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
