"""Customer pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from cxo.customers import service
from cxo.customers.schemas import CustomerRead
from cxo.governance import audit
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.identity import service as identity
from cxo.store.engine import connect
from cxo.web.deps import Conn, SettingsDep, page_permission
from cxo.web.export import csv_cell
from cxo.web.render import render
from cxo.web.routing import page_router

router = page_router()


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("customers.read")],
    page: Annotated[int, Query(ge=1, le=10_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 50,
    q: Annotated[str, Query(max_length=service.MAX_QUERY)] = "",
) -> Response:
    mask = not allowed(principal.role, None, "customers.read_pii")
    found = service.search_customers(conn, q, mask_pii=mask) if q.strip() else None
    result = (
        None
        if found is not None
        else service.list_customers(conn, page=page, per_page=per_page, mask_pii=mask)
    )
    template = "customers_table.html" if request.headers.get("hx-request") else "customers.html"
    return render(request, template, {"result": result, "found": found, "q": q})


@router.get("/customers/{customer_id:int}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("customers.read")],
    customer_id: Annotated[int, Path(ge=1, le=2**62)],
    before: dt.datetime | None = None,
) -> Response:
    """Customer 360: the golden record, its source records and why each was linked, and the
    timeline across channels (older events load in place)."""
    mask = not allowed(principal.role, None, "customers.read_pii")
    if before is not None and request.headers.get("hx-request"):
        detail = service.customer_detail(conn, customer_id, mask_pii=mask)
        events, nxt = service.timeline(conn, detail.id, before=before)
        return render(
            request, "customer_timeline.html", {"events": events, "next": nxt, "cid": detail.id}
        )
    view = service.customer_360(conn, customer_id, mask_pii=mask, before=before)
    return render(
        request,
        "customer.html",
        {
            "view": view,
            "c": view.customer,
            "can_write": allowed(principal.role, None, "customers.write"),
            "events": view.timeline,
            "next": view.timeline_next,
            "cid": view.customer.id,
        },
    )


@router.post("/customers/{customer_id:int}/merge")
def merge_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("customers.write")],
    customer_id: Annotated[int, Path(ge=1, le=2**62)],
    other: Annotated[int, Form(ge=1, le=2**62)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    out = identity.merge_customers(
        settings, actor=principal.actor, first=customer_id, second=other, reason=reason or None
    )
    return RedirectResponse(f"/customers/{out['survivor']}", status_code=303)


@router.post("/customers/{customer_id:int}/unmerge")
def unmerge_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("customers.write")],
    customer_id: Annotated[int, Path(ge=1, le=2**62)],
    alias: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    out = identity.unmerge_customer(
        settings, actor=principal.actor, customer_id=customer_id, alias=alias, reason=reason or None
    )
    return RedirectResponse(f"/customers/{out['customer']}", status_code=303)


@router.post("/records/{record_pk:int}/split")
def split_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("customers.write")],
    record_pk: Annotated[int, Path(ge=1, le=2**62)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    out = identity.split_record(
        settings, actor=principal.actor, record_pk=record_pk, reason=reason or None
    )
    return RedirectResponse(f"/customers/{out['customer']}", status_code=303)


@router.get("/customers/export.csv")
def export_customers_csv(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("customers.read")],
) -> Response:
    """All golden records as CSV (UTF-8 with BOM, so Excel reads Chinese names), masked by role."""
    mask = not allowed(principal.role, None, "customers.read_pii")
    with connect(settings, write=True) as conn:
        audit.record(
            conn,
            actor=principal.actor,
            action="customers.export",
            object_type="customers",
            after={"format": "csv", "pii_masked": mask},
        )

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(list(CustomerRead.model_fields))
        yield "\ufeff" + buf.getvalue()
        with connect(settings) as conn:
            for c in service.iter_customers(conn, mask_pii=mask):
                buf.seek(0)
                buf.truncate()
                writer.writerow([csv_cell(v) for v in c.model_dump().values()])
                yield buf.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )
