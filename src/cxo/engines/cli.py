"""`cxo pipeline …`: run the batch analytics pipeline on DuckDB, PostgreSQL or Spark."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from cxo.cli_support import _, console
from cxo.settings import get_settings

# The same actor name the other CLI commands write to the audit log.
CLI_ACTOR = "cli"

app = typer.Typer(help="Run the batch analytics pipeline.", no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"


@app.callback()
def pipeline() -> None:
    """Batch analytics: one code path on DuckDB (default), PostgreSQL or Spark."""


@app.command("run")
def run(
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            "-e",
            case_sensitive=False,
            help="Where to compute: duckdb (in process), postgres (CXO_DATABASE_URL or "
            "CXO_ANALYTICS_POSTGRES_URL) or spark (CXO_SPARK_MASTER; needs cxo[spark]).",
        ),
    ] = Engine.duckdb,
) -> None:
    """Compute customer stage statistics and replace the table customer_stage_stats."""
    from cxo.engines.pipeline import OUTPUT, run_pipeline

    settings = get_settings()
    with console.status(_("Running the pipeline on %(engine)s…", engine=engine.value)):
        result = run_pipeline(settings, engine.value, CLI_ACTOR)
    table = Table(
        _("Engine"),
        _("Inputs"),
        _("Table"),
        _("Rows written"),
        _("Seconds"),
        title=_("Pipeline run"),
    )
    table.add_row(
        result.engine,
        _("in place") if result.in_place else _("copied"),
        OUTPUT,
        f"{result.rows:,}",
        f"{result.seconds:.2f}",
    )
    console.print(table)
