"""`cxo survey …`: create, edit, publish, close, list, show and export surveys; the library."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cxo.cli_support import _, console
from cxo.errors import CxoError
from cxo.settings import get_settings
from cxo.store.engine import connect

CLI_ACTOR = "cli"

app = typer.Typer(help="Survey instruments and surveys.", no_args_is_help=True)


class Format(StrEnum):
    yaml = "yaml"
    json = "json"


def _read_file(path: Path) -> bytes:
    from cxo.surveys.yamlio import MAX_DEFINITION_BYTES

    if not path.is_file():
        raise CxoError(_("No file %(path)s.", path=str(path)))
    if path.stat().st_size > MAX_DEFINITION_BYTES:
        raise CxoError(
            _(
                "%(path)s is too large for a survey definition (at most %(n)s bytes).",
                path=str(path),
                n=f"{MAX_DEFINITION_BYTES:,}",
            )
        )
    return path.read_bytes()


def _locale() -> str:
    try:
        return get_settings().default_locale
    except CxoError:
        return "en"


@app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="Survey definition, YAML or JSON.")],
) -> None:
    """Create a survey (version 1, draft) from a YAML or JSON definition."""
    from cxo.surveys.service import create_survey

    text = _read_file(file)
    with connect(get_settings(), write=True) as conn:
        s = create_survey(conn, text=text, actor=CLI_ACTOR)
    console.print(
        _(
            "Created survey %(code)s version %(version)s (draft, %(n)s questions).",
            code=s.code,
            version=s.version,
            n=sum(len(p["questions"]) for p in s.compiled["pages"]),
        )
    )
    console.print(_("Publish it with `cxo survey publish %(code)s`.", code=s.code))


@app.command("update")
def update(
    file: Annotated[Path, typer.Argument(help="Survey definition, YAML or JSON.")],
) -> None:
    """Edit a survey: a draft is replaced; a live or closed survey gets a new draft version."""
    from cxo.surveys.service import update_survey

    text = _read_file(file)
    with connect(get_settings(), write=True) as conn:
        s = update_survey(conn, text=text, actor=CLI_ACTOR)
    console.print(
        _("Survey %(code)s version %(version)s is a draft.", code=s.code, version=s.version)
    )


def _set_state(code: str, state: str, version: int | None) -> None:
    from cxo.surveys.service import set_state

    with connect(get_settings(), write=True) as conn:
        s = set_state(conn, code=code, state=state, version=version, actor=CLI_ACTOR)
    message = (
        _("Survey %(code)s version %(version)s is live.", code=s.code, version=s.version)
        if state == "live"
        else _("Survey %(code)s version %(version)s is closed.", code=s.code, version=s.version)
    )
    console.print(message)


VersionOpt = Annotated[
    int | None, typer.Option("--version", "-v", min=1, help="Version (default: the latest).")
]


@app.command("publish")
def publish(code: Annotated[str, typer.Argument()], version: VersionOpt = None) -> None:
    """Make a survey version live (the version live before it closes)."""
    _set_state(code, "live", version)


@app.command("close")
def close(code: Annotated[str, typer.Argument()], version: VersionOpt = None) -> None:
    """Stop a live survey taking answers."""
    _set_state(code, "closed", version)


@app.command("list")
def list_command() -> None:
    """List surveys (latest version of each) with their answers."""
    from cxo.surveys.service import list_surveys

    with connect(get_settings()) as conn:
        items = list_surveys(conn)
    if not items:
        console.print(_("No surveys yet. Create one with `cxo survey create FILE`."))
        return
    locale = _locale()
    table = Table(
        _("Code"), _("Version"), _("State"), _("Title"), _("Started"), _("Completed"),
        title=_("Surveys"),
    )  # fmt: skip
    for s in items:
        table.add_row(
            s.code,
            str(s.version),
            _(s.state),
            s.title_in(locale),
            f"{s.started:,}",
            f"{s.completed:,}",
        )
    console.print(table)


@app.command("show")
def show(code: Annotated[str, typer.Argument()], version: VersionOpt = None) -> None:
    """Show a survey's pages and questions."""
    from cxo.surveys.service import compiled, get_survey

    with connect(get_settings()) as conn:
        detail = get_survey(conn, code, version)
    survey = compiled(detail)
    locale = _locale()
    console.print(
        f"[bold]{escape(survey.title.get(locale))}[/bold]  "
        f"{detail.code} v{detail.version} · {_(detail.state)}"
    )
    for n, page in enumerate(survey.pages, start=1):
        heading = page.title.get(locale) if page.title else ""
        console.print(_("Page %(n)s", n=n) + (f" — {heading}" if heading else ""))
        for q in page.questions:
            extra = f" ({len(q.rows)} × {q.scale})" if q.type == "matrix" else ""
            flag = " *" if q.required else ""
            console.print(escape(f"  {q.code} [{_(q.type)}{extra}]{flag} {q.text.get(locale)}"))


@app.command("export")
def export(
    code: Annotated[str, typer.Argument()],
    version: VersionOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="yaml or json.")] = Format.yaml,
    compiled_form: Annotated[
        bool,
        typer.Option("--compiled", help="Export the compiled form (library items expanded)."),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write; default: stdout.")
    ] = None,
) -> None:
    """Export a survey definition as YAML or JSON (re-importable with `create` or `update`)."""
    from cxo.surveys.service import export_survey

    with connect(get_settings()) as conn:
        text = export_survey(
            conn, code, version=version, fmt=fmt.value, compiled_form=compiled_form
        )
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(_("Wrote %(path)s.", path=str(out)))


@app.command("instruments")
def instruments() -> None:
    """List the instrument library (use one in a survey with `use: CODE`)."""
    from cxo.surveys.service import list_instruments

    locale = _locale()
    table = Table(
        _("Code"), _("Version"), _("Title"), _("Items"), _("Scales"), title=_("Instrument library")
    )
    for i in list_instruments():
        title = i.title.get(locale) or i.title.get("en") or i.code
        table.add_row(i.code, str(i.version), title, str(i.items), ", ".join(i.scales))
    console.print(table)
