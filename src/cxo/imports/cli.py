"""`cxo import …`: import files from touchpoint systems, list imports, download the quarantine."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cxo.cli_support import _, console, err_console
from cxo.errors import CxoError
from cxo.imports.errors import ImportFileError
from cxo.imports.fields import REASONS
from cxo.imports.schemas import ImportSummary
from cxo.settings import get_settings
from cxo.store.engine import connect

# The same actor name the other CLI commands write to the audit log.
CLI_ACTOR = "cli"

app = typer.Typer(
    help="Import customers, interactions, transactions or survey responses from files.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="CSV/TSV/TXT (UTF-8, UTF-8 with BOM, GB18030…), .xlsx, .parquet or .jsonl file.",
        show_default=False,
    ),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        "-s",
        help="The system the file comes from, e.g. crm or branch (default: the mapping's source).",
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", "-m", help="YAML mapping of cxo fields to the file's columns."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", "-e", help="Text encoding of a CSV file (default: detected)."),
]


@contextmanager
def _localized() -> Iterator[None]:
    """Show import errors in the CLI's language."""
    try:
        yield
    except ImportFileError as exc:
        raise exc.localized(_) from None


class _Bar:
    """A progress bar on stderr, shown from the first progress report, only on a terminal."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not err_console.is_terminal:
            return
        if self.bar is None:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(_("Reading %(name)s", name=self.name), total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done, total=total)
        if done >= total:
            self.bar.update(self.task, description=_("Writing to the store…"))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _import(
    kind: str, file: Path, source: str | None, mapping_path: Path | None, encoding: str | None
) -> None:
    settings = get_settings()
    bar = _Bar(file.name)
    try:
        with _localized():
            from cxo.imports.mapping import Mapping, load_mapping
            from cxo.imports.service import run_import

            mapping: Mapping | None = load_mapping(mapping_path) if mapping_path else None
            summary = run_import(
                settings,
                kind=kind,
                path=file,
                source=source,
                actor=CLI_ACTOR,
                mapping=mapping,
                encoding=encoding,
                progress=bar,
            )
    finally:
        bar.close()
    show_summary(summary)


def show_summary(s: ImportSummary) -> None:
    """The reconciliation table: read = accepted + quarantined + duplicates."""
    title = _(
        "Import %(id)s: %(kind)s from %(source)s (%(file)s)",
        id=s.import_id,
        kind=_(s.kind),
        source=s.source,
        file=s.file_name,
    )
    table = Table(_("Rows"), _("Count"), title=title, title_justify="left")
    table.add_row(_("Read"), f"{s.read:,}", style="bold")
    table.add_row(_("Accepted"), f"{s.accepted:,}")
    if s.kind == "customers":
        table.add_row("  " + _("of which updated a stored record"), f"{s.updated:,}")
    table.add_row(_("Quarantined"), f"{s.quarantined:,}")
    for code, n in s.reasons.items():
        label = _(REASONS[code]) if code in REASONS else code
        table.add_row(f"  {code} ({label})", f"{n:,}")
    table.add_row(_("Duplicates"), f"{s.duplicates:,}")
    if s.duplicates_in_file:
        table.add_row("  " + _("repeated within the file"), f"{s.duplicates_in_file:,}")
    console.print(table)
    details = [
        _("Format: %(format)s", format=s.file_format)
        + (", " + _("encoding: %(encoding)s", encoding=s.encoding) if s.encoding else ""),
        _("%(seconds)s s, %(rate)s rows/s", seconds=f"{s.seconds:.1f}", rate=_rate(s)),
    ]
    console.print(" · ".join(details), highlight=False)
    if s.unmapped_columns:
        console.print(
            _("Columns not imported: %(columns)s", columns=", ".join(s.unmapped_columns)),
            highlight=False,
        )
    if s.previous_import_id is not None:
        console.print(
            _("The same file was imported before (import %(id)s).", id=s.previous_import_id)
        )
    if s.quarantined:
        console.print(
            _(
                "Download the quarantined rows: cxo import quarantine %(id)s --out %(file)s",
                id=s.import_id,
                file=f"quarantine-{s.import_id}.csv",
            ),
            highlight=False,
        )


def _rate(s: ImportSummary) -> str:
    return f"{s.read / s.seconds:,.0f}" if s.seconds > 0 else "—"


@app.command("customers")
def import_customers(
    file: FileArg,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Import customer records of one source system (updates records already imported)."""
    _import("customers", file, source, mapping, encoding)


@app.command("interactions")
def import_interactions(
    file: FileArg,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Import interactions (contacts on any channel); never changes stored ones."""
    _import("interactions", file, source, mapping, encoding)


@app.command("transactions")
def import_transactions(
    file: FileArg,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Import transactions; never changes stored ones."""
    _import("transactions", file, source, mapping, encoding)


@app.command("responses")
def import_responses(
    file: FileArg,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Import survey responses, one row per answer (long format)."""
    _import("responses", file, source, mapping, encoding)


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 20,
) -> None:
    """List recent imports, newest first, with their counts."""
    with connect(get_settings()) as conn:
        from cxo.imports.service import list_imports

        items = list_imports(conn, limit=limit)
    table = Table(
        _("ID"),
        _("Kind"),
        _("Source"),
        _("File"),
        _("State"),
        _("Read"),
        _("Accepted (updated)"),
        _("Quarantined"),
        _("Duplicates"),
        _("Finished"),
    )
    for i in items:
        table.add_row(
            str(i.id),
            _(i.kind),
            i.source_system,
            i.file_name,
            _(i.state),
            f"{i.rows_read:,}",
            f"{i.rows_accepted:,} ({i.rows_updated:,})",
            f"{i.rows_quarantined:,}",
            f"{i.rows_duplicate:,}",
            i.finished_at.strftime("%Y-%m-%d %H:%M") if i.finished_at else "—",
        )
    console.print(table)
    failed = [i for i in items if i.state == "failed" and i.message]
    for i in failed[:5]:
        console.print(_("Import %(id)s failed: %(message)s", id=i.id, message=i.message))


@app.command("quarantine")
def quarantine_command(
    import_id: Annotated[int, typer.Argument(help="The import's id (see `cxo import list`).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="CSV file to write (UTF-8 with BOM for Excel); default: stdout."
        ),
    ] = None,
) -> None:
    """Download the quarantined rows of an import: row_number, reason, detail, raw."""
    settings = get_settings()
    if out is not None and out.is_dir():
        raise CxoError(
            _("%(path)s is a folder.", path=str(out)), hint=_("Give a file name for --out.")
        )
    with connect(settings) as conn:
        from cxo.imports.service import get_import, iter_quarantine

        get_import(conn, import_id=import_id)
        rows = iter_quarantine(conn, import_id=import_id)
        if out is None:
            n = _write_csv(sys.stdout, rows)
            err_console.print(_("%(n)s quarantined rows.", n=f"{n:,}"))
            return
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            n = _write_csv(fh, rows)
    console.print(_("Wrote %(n)s quarantined rows to %(path)s.", n=f"{n:,}", path=str(out)))


def _write_csv(fh: TextIO, rows: Iterator[object]) -> int:
    writer = csv.writer(fh)
    writer.writerow(["row_number", "reason", "detail", "raw"])
    n = 0
    for row in rows:
        writer.writerow([row.row_number, row.reason, row.detail, row.raw])  # type: ignore[attr-defined]
        n += 1
    return n
