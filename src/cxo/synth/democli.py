"""The progress display and summary of `cxo demo`."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cxo.cli_support import _, console
from cxo.settings import get_settings
from cxo.synth.demo import run_demo


def build_demo(*, customers: int, seed: int) -> None:
    labels = {
        "generate": _("Generating the demo bank"),
        "import": _("Importing files"),
        "resolve": _("Resolving identities"),
        "analyse": _("Running analyses"),
    }
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def step(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(labels.get(name, name), total=total)
            bar.update(tasks[name], completed=done, total=total)

        summary = run_demo(get_settings(), customers=customers, seed=seed, step=step)
    table = Table(
        _("File"), _("Read"), _("Accepted"), _("Duplicates"), _("Quarantined"), title=_("Imported")
    )
    for row in summary.imports:
        table.add_row(
            row["file"],
            f"{row.get('read', 0):,}",
            f"{row.get('accepted', 0):,}",
            f"{row.get('duplicates', 0):,}",
            f"{row.get('quarantined', 0):,}",
        )
    console.print(table)
    res = summary.resolution
    console.print(
        _(
            "%(records)s records resolved into customers: %(created)s new, %(merged)s merged.",
            records=f"{res.get('records', 0):,}",
            created=f"{res.get('customers_created', 0):,}",
            merged=f"{res.get('customers_merged', 0):,}",
        )
    )
    survey = summary.survey
    flags = survey.get("flags", {})
    console.print(
        _(
            "Survey %(code)s is live: %(responses)s responses, %(flagged)s flagged for data "
            "quality; public link %(link)s.",
            code=survey.get("code", ""),
            responses=f"{flags.get('responses', 0):,}",
            flagged=f"{flags.get('flagged', 0):,}",
            link=survey.get("public_link") or "—",
        )
    )
    console.print(_("Demo ready in %(s)s s.", s=summary.seconds))
