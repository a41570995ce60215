"""The home page, and honest placeholders for the areas still to come."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from cxo.governance.service import Principal
from cxo.overview.service import overview
from cxo.web.charts import bar_chart
from cxo.web.deps import Conn, page_permission, require_page
from cxo.web.render import NAV, render, request_translator
from cxo.web.routing import page_router

router = page_router()


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, conn: Conn, principal: Annotated[Principal, page_permission("home.view")]
) -> Response:
    o = overview(conn)
    _ = request_translator(request)
    chart = None
    if o.interactions:
        chart = bar_chart(
            labels=[_(stage) for stage in o.interactions_by_stage],
            values=list(o.interactions_by_stage.values()),
            title="",
            y_title=_("Interactions"),
        )
    return render(request, "home.html", {"o": o, "stage_chart": chart})


# Areas whose capability arrives with a later issue: each shows what it will hold and what to do
# now. A later issue replaces the route by registering its own router before this one.
PLANNED_AREAS = ("/journey", "/voc", "/value", "/cases", "/treatments")


def _planned(path: str, permission: str) -> None:
    dep = require_page(permission)

    def area(request: Request) -> Response:
        return render(request, "area.html", {"area": path.strip("/")})

    area.__name__ = f"area_{path.strip('/')}"
    router.add_api_route(
        path, area, methods=["GET"], response_class=HTMLResponse, dependencies=[Depends(dep)]
    )


for _item in NAV:
    if _item.path in PLANNED_AREAS:
        _planned(_item.path, _item.permission)
