"""Customer pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from cxo.customers import service
from cxo.customers.schemas import CustomerRead
from cxo.governance import audit
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
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
) -> Response:
    result = service.list_customers(
        conn,
        page=page,
        per_page=per_page,
        mask_pii=not allowed(principal.role, None, "customers.read_pii"),
    )
    template = "customers_table.html" if request.headers.get("hx-request") else "customers.html"
    return render(request, template, {"result": result})


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
