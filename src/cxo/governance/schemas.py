"""Pydantic schemas for users and tokens."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field, field_validator

from cxo.governance.permissions import ROLES, SCOPES

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: str
    password: str = Field(min_length=4, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    locale: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if not USERNAME_RE.match(v):
            raise ValueError("use 2-64 letters, digits or . _ @ -")
        return v

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in ROLES:
            raise ValueError(f"must be one of {', '.join(ROLES)}")
        return v


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: str
    locale: str | None
    active: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime


class TokenCreate(BaseModel):
    username: str
    scopes: list[str] = Field(min_length=1)
    name: str | None = Field(default=None, max_length=100)
    expires_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: list[str]) -> list[str]:
        unknown = [s for s in v if s not in SCOPES]
        if unknown:
            raise ValueError(
                f"unknown scope {unknown[0]!r}; choose from {', '.join(sorted(SCOPES))}"
            )
        return sorted(set(v))


class AuditEntryRead(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    before_state: object | None
    after_state: object | None
