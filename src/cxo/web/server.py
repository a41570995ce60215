"""Running the web server, and the demo set-up."""

from __future__ import annotations

import uvicorn

from cxo.cli_support import _, console
from cxo.errors import ConfigError
from cxo.governance import service as gov
from cxo.governance.schemas import UserCreate
from cxo.settings import get_settings
from cxo.store.bootstrap import init_store
from cxo.store.engine import connect, dispose_engines

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105  (the documented demo login, on 127.0.0.1 only)


def prepare_demo() -> None:
    """Initialise the store and make sure the demo admin exists (safe to repeat)."""
    settings = get_settings()
    with console.status(_("Preparing the demo store…")):
        init_store(settings)
        with connect(settings, write=True) as conn:
            if gov.find_user(conn, username=DEMO_USER) is None:
                gov.create_user(
                    conn,
                    data=UserCreate(
                        username=DEMO_USER,
                        role="admin",
                        password=DEMO_PASSWORD,
                        display_name="Demo administrator",
                    ),
                    actor="demo",
                )
    console.print(
        _(
            "Demo login: user %(user)s, password %(password)s (admin).",
            user=DEMO_USER,
            password=DEMO_PASSWORD,
        )
    )


def run(*, host: str, port: int, workers: int = 1) -> None:
    """Serve the app (after making sure the store schema is current).

    With ``workers`` > 1 (PostgreSQL only) uvicorn starts that many processes, each building the
    app from the environment's settings.
    """
    from cxo.web.app import create_app

    settings = get_settings()
    if workers > 1 and settings.is_duckdb:
        raise ConfigError(
            _("Several server processes need a PostgreSQL store."),
            hint=_("A DuckDB file has one writing process; use --workers 1 or CXO_DATABASE_URL."),
        )
    init_store(settings)
    console.print(
        _(
            "cxo is serving on http://%(host)s:%(port)s — press Ctrl+C to stop.",
            host=host,
            port=port,
        )
    )
    if workers > 1:
        dispose_engines()  # each worker process opens its own connections
        uvicorn.run(
            "cxo.web.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=True,
        )
        return
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)
