"""JSON API for customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from cxo.customers import service
from cxo.customers.schemas import CustomerRead, Page
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.web.deps import Conn, api_permission
from cxo.web.routing import api_router

router = api_router(tags=["customers"])


@router.get("/customers", response_model=Page[CustomerRead])
def list_customers(
    conn: Conn,
    principal: Annotated[Principal, api_permission("customers.read")],
    page: Annotated[int, Query(ge=1, le=10_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 50,
) -> Page[CustomerRead]:
    """Golden customer records, paginated. PII is masked unless the token may read it."""
    can_see_pii = allowed(principal.role, principal.scopes, "customers.read_pii")
    return service.list_customers(conn, page=page, per_page=per_page, mask_pii=not can_see_pii)
