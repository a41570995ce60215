"""`cxo survey export-responses | import-responses | quality`: survey data in and out, and its
quality flags. Mounted under ``cxo survey`` (see :mod:`cxo.cli`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxo.cli_support import _, console, err_console
from cxo.errors import CxoError
from cxo.imports.errors import ImportFileError
from cxo.settings import get_settings
from cxo.store.engine import connect

CLI_ACTOR = "cli"

app = typer.Typer(help="Survey responses in and out, and their data quality.", no_args_is_help=True)


class Locale(StrEnum):
    en = "en"
    zh_CN = "zh_CN"


CodeArg = Annotated[str, typer.Argument(help="The survey's code.", show_default=False)]


@contextmanager
def _localized() -> Iterator[None]:
    """Show import errors in the CLI's language."""
    try:
        yield
    except ImportFileError as exc:
        raise exc.localized(_) from None


@app.command("export-responses")
def export_responses_command(
    code: CodeArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="File to write: .csv, .xlsx or .sav (SPSS).", show_default=False
        ),
    ],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Only this version (default: all).")
    ] = None,
    locale: Annotated[
        Locale, typer.Option("--locale", help="Language of labels and value labels.")
    ] = Locale.en,
    include_flagged: Annotated[
        bool, typer.Option("--include-flagged", help="Include responses flagged for quality.")
    ] = False,
    include_partial: Annotated[
        bool, typer.Option("--include-partial", help="Include responses not completed.")
    ] = False,
) -> None:
    """Export responses, one row per response, with labels (CSV, Excel or SPSS)."""
    from cxo.surveys.exchange import Selection, export_format, export_responses

    if out.is_dir():
        raise CxoError(
            _("%(path)s is a folder.", path=str(out)), hint=_("Give a file name for --out.")
        )
    export_format(out)
    selection = Selection(include_flagged=include_flagged, include_partial=include_partial)
    with connect(get_settings()) as conn:
        s = export_responses(
            conn, code, out, version=version, locale=locale.value, selection=selection
        )
    console.print(
        _(
            "Wrote %(rows)s responses and %(columns)s columns to %(path)s.",
            rows=f"{s.rows:,}",
            columns=s.columns,
            path=str(out),
        ),
        highlight=False,
    )
    if s.skipped_flagged:
        console.print(
            _(
                "Left out %(n)s flagged responses (add --include-flagged to export them).",
                n=f"{s.skipped_flagged:,}",
            )
        )
    if s.skipped_partial:
        console.print(
            _(
                "Left out %(n)s responses not completed (add --include-partial to export them).",
                n=f"{s.skipped_partial:,}",
            )
        )
    if s.unchecked:
        err_console.print(
            _(
                "%(n)s responses have not been checked for quality; run `cxo survey quality "
                "%(code)s` first.",
                n=f"{s.unchecked:,}",
                code=code,
            ),
            highlight=False,
        )


@app.command("import-responses")
def import_responses_command(
    code: CodeArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8, GB18030…), .xlsx or .sav, one row per response.", show_default=False
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", "-s", help="The system the file comes from (the response ids' namespace)."
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            "-m",
            help="YAML mapping of the file's columns to items (default: an export's column names).",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", "-e", help="Text encoding of a CSV file (default: detected)."),
    ] = None,
) -> None:
    """Import responses from a wide file (one row per response) into a survey's answers."""
    from cxo.imports.cli import show_summary
    from cxo.surveys.exchange_import import import_wide
    from cxo.surveys.exchange_mapping import load_wide_mapping

    with _localized():
        parsed = load_wide_mapping(mapping) if mapping else None
        summary = import_wide(
            get_settings(),
            code=code,
            path=file,
            source=source,
            actor=CLI_ACTOR,
            mapping=parsed,
            encoding=encoding,
        )
    show_summary(summary)


@app.command("quality")
def quality_command(
    code: CodeArg,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check", help="Recompute the flags first (default) or only count."
        ),
    ] = True,
) -> None:
    """Flag responses for straight-lining, speeding, inconsistency and duplicates; show counts."""
    from cxo.surveys.quality import FLAGS
    from cxo.surveys.quality_service import flag_counts, flag_responses

    settings = get_settings()
    if check:
        with connect(settings, write=True) as conn:
            counts = flag_responses(conn, survey_code=code, actor=CLI_ACTOR)
    else:
        with connect(settings) as conn:
            counts = flag_counts(conn, survey_code=code)
    labels = {
        "straight_lining": _("Straight-lining"),
        "speeding": _("Speeding"),
        "inconsistent": _("Inconsistent answers"),
        "duplicate": _("Duplicates"),
    }
    table = Table(
        _("Flag"),
        _("Responses"),
        title=_("Data quality of %(code)s", code=code),
        title_justify="left",
    )
    table.add_row(_("Responses"), f"{counts.responses:,}", style="bold")
    table.add_row(_("Checked"), f"{counts.checked:,}")
    for name in FLAGS:
        table.add_row("  " + labels[name], f"{counts.per_flag.get(name, 0):,}")
    table.add_row(_("Flagged (any flag)"), f"{counts.flagged:,}", style="bold")
    table.add_row("  " + _("of which included by an analyst"), f"{counts.overridden:,}")
    console.print(table)
    if counts.median_seconds is not None:
        console.print(
            _("Median duration: %(s)s s.", s=f"{counts.median_seconds:,.0f}"), highlight=False
        )
    if check:
        console.print(_("%(n)s responses changed.", n=f"{counts.changed:,}"))
    console.print(
        _("Flagged responses are kept and left out of analysis and exports unless included."),
        highlight=False,
    )
