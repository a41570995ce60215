"""`cxo resolve`, `cxo customer merge|unmerge|split` and `cxo export identities|customers`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxo.cli_support import _, console
from cxo.settings import get_settings

CLI_ACTOR = "cli"

customer_app = typer.Typer(help="Merge, unmerge and split customers by hand.", no_args_is_help=True)
export_app = typer.Typer(help="Export identities and golden records.", no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def resolve(
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Re-cluster every record and retrain the model (default: only new records are "
            "matched against the resolved ones, with the last run's model).",
        ),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option("--engine", "-e", case_sensitive=False, help="duckdb (default) or spark."),
    ] = Engine.duckdb,
) -> None:
    """Resolve customer source records into customers with stable ids and golden records."""
    from cxo.identity.service import resolve_store

    steps = {"read": _("Reading records…"), "match": _("Matching…"), "write": _("Writing…")}
    with console.status(steps["read"]) as status:
        summary = resolve_store(
            get_settings(),
            actor=CLI_ACTOR,
            engine=engine.value,
            full=full,
            progress=lambda step: status.update(steps.get(step, step)),
        )
    table = Table(
        _("Measure"), _("Value"), title=_("Identity resolution run %(id)s", id=summary.run_id)
    )
    rows = [
        (_("Mode"), _("full") if summary.mode == "full" else _("incremental")),
        (_("Records"), f"{summary.records:,}"),
        (_("New records"), f"{summary.new_records:,}"),
        (_("Clusters"), f"{summary.clusters:,}"),
        (_("Customers created"), f"{summary.customers_created:,}"),
        (_("Customers merged"), f"{summary.customers_merged:,}"),
        (_("Links changed"), f"{summary.links_changed:,}"),
        (_("Activity rows linked"), f"{summary.activity_linked:,}"),
        (_("Seconds"), f"{summary.seconds:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


@customer_app.command("merge")
def merge(
    first: Annotated[int, typer.Argument(help="A customer id.")],
    second: Annotated[int, typer.Argument(help="Another customer id.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the audit log).")
    ] = None,
) -> None:
    """Merge two customers: the older id stays, the other becomes its alias."""
    from cxo.identity.service import merge_customers

    out = merge_customers(
        get_settings(), actor=CLI_ACTOR, first=first, second=second, reason=reason
    )
    console.print(
        _(
            "Customer %(alias)s is now an alias of customer %(survivor)s (%(n)s records moved).",
            alias=out["alias"],
            survivor=out["survivor"],
            n=out["records_moved"],
        )
    )


@customer_app.command("unmerge")
def unmerge(
    customer_id: Annotated[int, typer.Argument(help="The merged customer.")],
    alias: Annotated[
        int | None, typer.Option("--alias", help="Which alias to restore (default: the latest).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the audit log).")
    ] = None,
) -> None:
    """Undo a merge: the alias becomes a customer again with its own records."""
    from cxo.identity.service import unmerge_customer

    out = unmerge_customer(
        get_settings(), actor=CLI_ACTOR, customer_id=customer_id, alias=alias, reason=reason
    )
    console.print(
        _(
            "Customer %(restored)s is a customer again (%(n)s records moved back from %(customer)s).",
            restored=out["restored"],
            n=out["records_moved"],
            customer=out["customer"],
        )
    )


@customer_app.command("split")
def split(
    record: Annotated[
        int, typer.Argument(help="The source record id (see `cxo export identities`).")
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the audit log).")
    ] = None,
) -> None:
    """Take one source record out of its customer into a new customer."""
    from cxo.identity.service import split_record

    out = split_record(get_settings(), actor=CLI_ACTOR, record_pk=record, reason=reason)
    console.print(
        _(
            "Record %(record)s is now customer %(new)s (was part of %(old)s).",
            record=out["record"],
            new=out["new_customer"],
            old=out["customer"],
        )
    )


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"


def _format(path: Path, fmt: Format | None) -> str:
    if fmt is not None:
        return fmt.value
    return "parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv"


FormatOption = Annotated[
    Format | None,
    typer.Option("--format", "-f", help="csv or parquet (default: from the file name)."),
]


@export_app.command("identities")
def export_identities(
    file: Annotated[Path, typer.Argument(help="Where to write (.csv or .parquet).")],
    fmt: FormatOption = None,
) -> None:
    """Every source record and the customer it belongs to: source_system, source_record_id,
    customer_id."""
    from cxo.customers.exports import export_identities as run

    n = run(get_settings(), file, _format(file, fmt), actor=CLI_ACTOR)
    console.print(_("Wrote %(n)s identities to %(file)s.", n=f"{n:,}", file=str(file)))


@export_app.command("customers")
def export_customers(
    file: Annotated[Path, typer.Argument(help="Where to write (.csv or .parquet).")],
    fmt: FormatOption = None,
    mask_pii: Annotated[
        bool, typer.Option("--mask-pii", help="Mask names, e-mails and phones.")
    ] = False,
) -> None:
    """Every live golden customer record."""
    from cxo.customers.exports import export_customers as run

    n = run(get_settings(), file, _format(file, fmt), actor=CLI_ACTOR, mask_pii=mask_pii)
    console.print(_("Wrote %(n)s customers to %(file)s.", n=f"{n:,}", file=str(file)))
