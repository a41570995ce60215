"""`cxo synth`: write the demo world to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cxo.cli_support import _, console
from cxo.errors import CxoError
from cxo.synth import MAX_CUSTOMERS


def synth(
    customers: Annotated[int, typer.Option(help=f"Persons to generate (1 to {MAX_CUSTOMERS:,}).")],
    out: Annotated[Path, typer.Option(help="Output folder (must be empty, or use --force).")],
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same bytes.")
    ] = 20261122,
    csv: Annotated[bool, typer.Option("--csv", help="Also write CSV files.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty output folder.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Processes (default: one per core for large worlds)."),
    ] = None,
) -> None:
    """Generate the demo world (a retail bank) with its ground truth, as Parquet files."""
    # Imported here: the generator pulls in numpy and pandas, which every other command (and
    # every process the generator spawns) would otherwise pay for at start-up.
    from cxo.synth.world import SynthConfig, prepare_output, synthesize

    try:
        config = SynthConfig(customers=customers, seed=seed)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CxoError(
            f"--{first['loc'][0]}: {first['msg']}", hint="See `cxo synth --help`."
        ) from None
    prepare_output(out, force=force)  # fail before the progress bar appears
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(_("Generating customers"), total=customers)
        rows = synthesize(
            config,
            out,
            force=force,
            csv=csv,
            workers=workers,
            progress=lambda n: bar.advance(task, n),
        )
    table = Table(_("File"), _("Rows"))
    for name, n in rows.items():
        table.add_row(f"{name}/", f"{n:,}")
    console.print(table)
    console.print(_("Ground truth and parameters: %(path)s", path=str(out / "truth.json")))
