"""The `cxo` command line: one Typer app mounting each domain's command group."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from typer.exceptions import TyperException

from cxo import __version__
from cxo.cli_support import _, console, exit_with, set_debug
from cxo.governance.cli import audit_app, token_app, user_app

app = typer.Typer(
    name="cxo",
    help="cxo — customer experience optimization. Start with `cxo init`, then `cxo serve`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")


def _mount_pipeline() -> None:
    from cxo.engines.cli import app as pipeline_app

    app.add_typer(pipeline_app, name="pipeline", help="Run the batch analytics pipeline.")


_mount_pipeline()


def _mount_synth() -> None:
    from cxo.synth.cli import synth

    app.command("synth")(synth)


_mount_synth()


def _mount_identity() -> None:
    from cxo.identity.cli import customer_app, export_app, resolve

    app.command("resolve")(resolve)
    app.add_typer(customer_app, name="customer", help="Merge, unmerge and split customers.")
    app.add_typer(export_app, name="export", help="Export identities and golden records.")


_mount_identity()


def _mount_imports() -> None:
    from cxo.imports.cli import app as import_app

    app.add_typer(import_app, name="import", help="Import files from touchpoint systems.")


_mount_imports()


def _mount_surveys() -> None:
    from cxo.surveys.cli import app as survey_app

    app.add_typer(survey_app, name="survey", help="Survey instruments and surveys.")


_mount_surveys()


def _version(value: bool) -> None:
    if value:
        console.print(f"cxo {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    set_debug(debug)


@app.command()
def init() -> None:
    """Create the store or upgrade it to the newest schema (safe to repeat)."""
    from cxo.settings import get_settings
    from cxo.store.bootstrap import init_store

    settings = get_settings()
    with console.status(_("Preparing the store…")):
        result = init_store(settings)
    if result.changed:
        console.print(
            _(
                "Store ready at schema %(rev)s (was %(before)s).",
                rev=result.after,
                before=result.before or _("empty"),
            )
        )
    else:
        console.print(_("Store already at the newest schema (%(rev)s).", rev=result.after))


@app.command()
def config() -> None:
    """Print the effective settings, secrets masked."""
    from cxo.settings import get_settings

    table = Table(_("Setting"), _("Value"))
    for name, value in get_settings().masked().items():
        table.add_row(name, "—" if value is None else str(value))
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Server processes (PostgreSQL stores only; DuckDB allows one)."
        ),
    ] = 1,
) -> None:
    """Serve the web app and the JSON API."""
    from cxo.web.server import run

    run(host=host, port=port, workers=workers)


@app.command()
def demo(
    customers: Annotated[
        int, typer.Option(min=1000, max=1_000_000, help="Size of the demo bank (persons).")
    ] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed of the demo world.")] = 20261122,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Set up only; do not serve.")
    ] = False,
) -> None:
    """Build the demo bank (generate, import, resolve, analyse) and serve it; safe to repeat."""
    from cxo.synth.democli import build_demo
    from cxo.web.server import prepare_demo, run

    prepare_demo()
    build_demo(customers=customers, seed=seed)
    if not no_serve:
        run(host=host, port=port)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        console.print(_("Aborted."))
        raise SystemExit(130) from None
    except TyperException as exc:  # usage errors: unknown command or option, bad value
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except Exception as exc:
        exit_with(exc)
    if isinstance(code, int) and code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
