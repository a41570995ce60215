"""JSON twin of the home page."""

from __future__ import annotations

from typing import Annotated

from cxo.governance.service import Principal
from cxo.overview.service import Overview, overview
from cxo.web.deps import Conn, api_permission
from cxo.web.routing import api_router

router = api_router(tags=["overview"])


@router.get("/overview", response_model=Overview)
def get_overview(
    conn: Conn, principal: Annotated[Principal, api_permission("customers.read")]
) -> Overview:
    """Live counts of what the store holds."""
    return overview(conn)
