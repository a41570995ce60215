"""JSON API for customers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel
from pydantic import Field as PydField

from cxo.customers import service
from cxo.customers.schemas import Customer360, CustomerRead, Page
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.identity import service as identity
from cxo.web.deps import Conn, SettingsDep, api_permission
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


@router.get("/customers/search", response_model=list[CustomerRead])
def search_customers(
    conn: Conn,
    principal: Annotated[Principal, api_permission("customers.read")],
    q: Annotated[str, Query(min_length=1, max_length=service.MAX_QUERY)],
) -> list[CustomerRead]:
    """Find customers by name (characters or pinyin), e-mail, phone (any format) or id."""
    can_see_pii = allowed(principal.role, principal.scopes, "customers.read_pii")
    return service.search_customers(conn, q, mask_pii=not can_see_pii)


@router.get("/customers/{customer_id:int}", response_model=Customer360)
def get_customer(
    conn: Conn,
    principal: Annotated[Principal, api_permission("customers.read")],
    customer_id: Annotated[int, Path(ge=1)],
    before: dt.datetime | None = None,
) -> Customer360:
    """The Customer 360 view: golden record, source records with why each was linked, and the
    timeline (newest first; pass ``timeline_next`` as ``before`` for older events). An alias id
    returns its surviving customer (``customer.requested_id`` keeps the id asked for)."""
    can_see_pii = allowed(principal.role, principal.scopes, "customers.read_pii")
    return service.customer_360(conn, customer_id, mask_pii=not can_see_pii, before=before)


class MergeRequest(BaseModel):
    first: int = PydField(ge=1)
    second: int = PydField(ge=1)
    reason: str | None = PydField(default=None, max_length=500)


class UnmergeRequest(BaseModel):
    alias: int | None = PydField(default=None, ge=1)
    reason: str | None = PydField(default=None, max_length=500)


class Reason(BaseModel):
    reason: str | None = PydField(default=None, max_length=500)


@router.post("/customers/merge")
def merge_customers(
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("customers.write")],
    body: MergeRequest,
) -> dict[str, int]:
    """Merge two customers: the older id survives; the other becomes its alias."""
    return identity.merge_customers(
        settings, actor=principal.actor, first=body.first, second=body.second, reason=body.reason
    )


@router.post("/customers/{customer_id:int}/unmerge")
def unmerge_customer(
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("customers.write")],
    customer_id: Annotated[int, Path(ge=1)],
    body: UnmergeRequest,
) -> dict[str, int]:
    """Undo a merge (the latest, unless ``alias`` names one); 409 if the customer was never merged."""
    return identity.unmerge_customer(
        settings,
        actor=principal.actor,
        customer_id=customer_id,
        alias=body.alias,
        reason=body.reason,
    )


@router.post("/records/{record_pk:int}/split")
def split_record(
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("customers.write")],
    record_pk: Annotated[int, Path(ge=1)],
    body: Reason,
) -> dict[str, int]:
    """Take one source record out of its customer into a new customer."""
    return identity.split_record(
        settings, actor=principal.actor, record_pk=record_pk, reason=body.reason
    )
