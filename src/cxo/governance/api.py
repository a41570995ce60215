"""JSON API for the caller's identity, users and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from cxo.governance import audit
from cxo.governance import service as gov
from cxo.governance.schemas import AuditEntryRead, UserRead
from cxo.governance.service import Principal
from cxo.web.deps import Conn, api_permission, token_principal
from cxo.web.routing import api_router

router = api_router(tags=["governance"])


class Me(BaseModel):
    username: str
    role: str
    scopes: list[str]


class AuditVerifyRead(BaseModel):
    ok: bool
    entries: int
    head_hash: str
    first_bad_id: int | None
    problem: str | None


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(token_principal)]) -> Me:
    """Who the token belongs to."""
    return Me(username=principal.username, role=principal.role, scopes=list(principal.scopes or ()))


@router.get("/users", response_model=list[UserRead])
def users(
    conn: Conn, principal: Annotated[Principal, api_permission("users.manage")]
) -> list[UserRead]:
    return gov.list_users(conn)


@router.get("/audit", response_model=list[AuditEntryRead])
def audit_entries(
    conn: Conn,
    principal: Annotated[Principal, api_permission("audit.read")],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditEntryRead]:
    """The newest audit entries first."""
    return gov.list_audit(conn, limit=limit, offset=offset)


@router.get("/audit/verify", response_model=AuditVerifyRead)
def audit_verify(
    conn: Conn, principal: Annotated[Principal, api_permission("audit.read")]
) -> AuditVerifyRead:
    r = audit.verify(conn)
    return AuditVerifyRead(
        ok=r.ok,
        entries=r.entries,
        head_hash=r.head_hash,
        first_bad_id=r.first_bad_id,
        problem=r.problem,
    )
