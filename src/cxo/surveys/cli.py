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


def _mount_exchange() -> None:
    # export-responses, import-responses and quality sit directly under `cxo survey`.
    from cxo.surveys import exchange_cli

    app.registered_commands.extend(exchange_cli.app.registered_commands)


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


class Source(StrEnum):
    interaction = "interaction"
    case = "case"


class By(StrEnum):
    total = "total"
    segment = "segment"
    channel = "channel"
    wave = "wave"


def _read_ids(path: Path) -> list[int]:
    """Customer ids from a CSV (a customer_id column, else the first) or one id per line."""
    import csv

    from cxo.surveys.distribute import MAX_LIST

    if not path.is_file():
        raise CxoError(_("No file %(path)s.", path=str(path)))
    ids: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        column = 0
        rows: list[list[str]] = []
        if header is not None:
            names = [h.strip().lower() for h in header]
            if "customer_id" in names:
                column = names.index("customer_id")
            else:
                rows.append(header)
        for n, row in enumerate([*rows, *reader], start=1):
            if not row or not row[column].strip():
                continue
            value = row[column].strip()
            if not value.isdigit():
                raise CxoError(
                    _(
                        "Line %(n)s of %(path)s is not a customer id: %(value)s",
                        n=n,
                        path=str(path),
                        value=value[:40],
                    ),
                    hint=_("Give one customer id per line, or a CSV with a customer_id column."),
                )
            ids.append(int(value))
            if len(ids) > MAX_LIST:
                raise CxoError(_("More than %(n)s customers in one wave.", n=f"{MAX_LIST:,}"))
    return ids


def _send_mail() -> None:
    from cxo.surveys.mailer import send_invitations

    with console.status(_("Sending e-mail…")):
        sent = send_invitations(get_settings())
    console.print(
        _(
            "E-mail: %(sent)s invitations sent, %(failed)s refused, %(reminders)s reminders; "
            "left out: opted out %(opted_out)s, address suppressed %(undeliverable)s.",
            undeliverable=f"{sent.undeliverable:,}",
            sent=f"{sent.sent:,}",
            failed=f"{sent.failed:,}",
            reminders=f"{sent.reminders:,}",
            opted_out=f"{sent.opted_out:,}",
        )
    )


@app.command("send")
def send(
    code: Annotated[str, typer.Argument()],
    segment: Annotated[str | None, typer.Option("--segment", help="Invite this segment.")] = None,
    customers_file: Annotated[
        Path | None,
        typer.Option(
            "--customers", help="File of customer ids (CSV with customer_id, or one per line)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name of the wave.")] = None,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, max=365, help="Days a link stays valid.")
    ] = None,
    reminder_days: Annotated[
        int, typer.Option("--reminder-days", min=1, max=90, help="Days before a reminder.")
    ] = 3,
    max_reminders: Annotated[
        int, typer.Option("--max-reminders", min=0, max=5, help="Reminders per invitation.")
    ] = 1,
    locale: Annotated[
        str | None,
        typer.Option("--locale", help="en or zh_CN for everyone (default: each customer's)."),
    ] = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Only queue the invitations (send later with `mail`).")
    ] = False,
) -> None:
    """Invite a segment or a list of customers by e-mail (respecting the contact cap)."""
    from cxo.i18n import normalise_locale
    from cxo.surveys.distribute import Audience, WaveCreate, create_wave

    if (segment is None) == (customers_file is None):
        raise CxoError(
            _("Give either --segment or --customers."),
            hint=_("A wave goes to one segment or to a list of customers."),
        )
    chosen_locale = normalise_locale(locale) if locale else None
    if locale and chosen_locale is None:
        raise CxoError(_("Unknown language %(locale)s; use en or zh_CN.", locale=locale))
    ids = _read_ids(customers_file) if customers_file is not None else None
    settings = get_settings()
    data = WaveCreate(
        survey_code=code,
        name=name or (segment or (customers_file.name if customers_file else code)),
        audience=Audience(segment=segment, customer_ids=ids, locale=chosen_locale),
        expires_days=expires_days,
        reminder_days=reminder_days,
        max_reminders=max_reminders,
    )
    with connect(settings, write=True) as conn:
        wave = create_wave(
            conn,
            data=data,
            secret=settings.get_secret_key().encode("utf-8"),
            cap_days=settings.survey_contact_cap_days,
            default_expiry_days=settings.survey_link_days,
            actor=CLI_ACTOR,
        )
    console.print(
        _(
            "Wave %(id)s: %(selected)s customers selected, %(queued)s invited, %(capped)s left out "
            "by the contact cap, %(no_email)s without e-mail, %(unknown)s unknown ids; "
            "left out: opted out %(opted_out)s, address suppressed %(undeliverable)s.",
            undeliverable=f"{wave.undeliverable:,}",
            id=wave.wave_id,
            selected=f"{wave.selected:,}",
            queued=f"{wave.queued:,}",
            capped=f"{wave.capped:,}",
            no_email=f"{wave.no_email:,}",
            unknown=f"{wave.unknown:,}",
            opted_out=f"{wave.opted_out:,}",
        )
    )
    if not no_send:
        _send_mail()


@app.command("mail")
def mail() -> None:
    """Send queued invitations and the reminders that are due (run it from cron)."""
    _send_mail()


@app.command("trigger")
def trigger(
    code: Annotated[str, typer.Argument()],
    channel: Annotated[
        str | None, typer.Option("--channel", help="Interaction channel, e.g. phone.")
    ] = None,
    touchpoint: Annotated[
        str | None, typer.Option("--touchpoint", help="Interaction touchpoint.")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Interaction outcome, e.g. resolved.")
    ] = None,
    delay_hours: Annotated[int, typer.Option("--delay-hours", min=0, max=720)] = 0,
    on: Annotated[
        Source,
        typer.Option(
            "--on", help="interaction, or case (outcome = the case status, touchpoint = its team)."
        ),
    ] = Source.interaction,
) -> None:
    """Survey customers after interactions of a given channel, touchpoint or outcome, or after
    closed cases."""
    from cxo.surveys.distribute import TriggerCreate, create_trigger

    with connect(get_settings(), write=True) as conn:
        tid = create_trigger(
            conn,
            data=TriggerCreate(
                survey_code=code,
                source=on.value,
                channel=channel,
                touchpoint=touchpoint,
                outcome=outcome,
                delay_hours=delay_hours,
            ),
            actor=CLI_ACTOR,
        )
    console.print(_("Trigger %(id)s added; run `cxo survey run-triggers` regularly.", id=tid))


@app.command("run-triggers")
def run_triggers_command(
    no_send: Annotated[bool, typer.Option("--no-send", help="Only queue the invitations.")] = False,
) -> None:
    """Invite customers whose interactions matched a trigger, then send the e-mail."""
    from cxo.surveys.distribute import run_triggers

    settings = get_settings()
    with connect(settings, write=True) as conn:
        runs = run_triggers(
            conn,
            secret=settings.get_secret_key().encode("utf-8"),
            cap_days=settings.survey_contact_cap_days,
            expiry_days=settings.survey_link_days,
        )
    for r in runs:
        console.print(
            _(
                "Trigger %(id)s: %(matched)s interactions matched, %(queued)s invited, %(capped)s "
                "left out by the contact cap, %(no_email)s without e-mail; "
                "left out: opted out %(opted_out)s, address suppressed %(undeliverable)s.",
                undeliverable=f"{r.undeliverable:,}",
                id=r.trigger_id,
                matched=f"{r.matched:,}",
                queued=f"{r.queued:,}",
                capped=f"{r.capped:,}",
                no_email=f"{r.no_email:,}",
                opted_out=f"{r.opted_out:,}",
            )
        )
    if not no_send:
        _send_mail()


@app.command("fieldwork")
def fieldwork_command(
    code: Annotated[str, typer.Argument()],
    by: Annotated[By, typer.Option("--by", help="total, segment, channel or wave.")] = By.total,
) -> None:
    """Fieldwork: invited, sent, delivered, opened, started, completed and response rate."""
    from cxo.surveys.fieldwork import fieldwork

    with connect(get_settings()) as conn:
        fw = fieldwork(conn, code, by=by.value)
    stages = ("invited", "sent", "bounced", "delivered", "opened", "started", "completed")
    table = Table(
        _(by.value),
        *(_(f) for f in stages),
        _("opted out"),
        _("Response rate"),
        title=_("Fieldwork of %(code)s", code=code),
    )
    for r in [*fw.rows, fw.total] if len(fw.rows) > 1 else fw.rows or [fw.total]:
        rate = f"{r.response_rate:.1%}" if r.response_rate is not None else "—"
        table.add_row(
            _(r.key) if r.key in ("total", "link", "email", "trigger") else r.key,
            *(f"{getattr(r, f):,}" for f in stages),
            f"{r.opted_out:,}",
            rate,
        )
    console.print(table)


# --- opt-outs and bounces ----------------------------------------------------------------------


@app.command("opt-out")
def opt_out_command(
    customer_id: Annotated[int, typer.Argument(min=1, help="The customer's id.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept with the entry).")
    ] = None,
) -> None:
    """Stop all survey e-mail to a customer (and customers merged with them); audited."""
    from cxo.surveys.optout import add_optout

    with connect(get_settings(), write=True) as conn:
        entry, created = add_optout(
            conn, customer_id=customer_id, reason=reason[:300] if reason else None, actor=CLI_ACTOR
        )
    if created:
        console.print(_("Customer %(id)s is opted out of survey e-mail.", id=entry.customer_id))
    else:
        console.print(
            _(
                "Customer %(id)s has been opted out since %(since)s.",
                id=entry.customer_id,
                since=entry.since.strftime("%Y-%m-%d"),
            )
        )


@app.command("opt-in")
def opt_in_command(
    customer_id: Annotated[int, typer.Argument(min=1, help="The customer's id.")],
) -> None:
    """Take a customer off the opt-out list (invitations withheld meanwhile are not sent); audited."""
    from cxo.surveys.optout import remove_optout

    with connect(get_settings(), write=True) as conn:
        before = remove_optout(conn, customer_id=customer_id, actor=CLI_ACTOR)
    if before is None:
        console.print(_("Customer %(id)s was not opted out.", id=customer_id))
    else:
        console.print(_("Customer %(id)s may get survey e-mail again.", id=before.customer_id))


@app.command("opt-outs")
def opt_outs_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="Rows to show.")] = 50,
) -> None:
    """List customers who opted out of survey e-mail, newest first."""
    from cxo.surveys.optout import SOURCE_LABELS, list_optouts

    with connect(get_settings()) as conn:
        total, rows = list_optouts(conn, limit=limit)
    if not rows:
        console.print(_("Nobody has opted out of survey e-mail."))
        return
    table = Table(
        _("Customer"), _("Since"), _("Source"), _("Invitation"), _("Reason"),
        title=_("Opted out of survey e-mail: %(n)s", n=f"{total:,}"),
    )  # fmt: skip
    for r in rows:
        table.add_row(
            str(r.customer_id),
            r.since.strftime("%Y-%m-%d %H:%M"),
            _(SOURCE_LABELS.get(r.source, r.source)),
            str(r.invitation_id or ""),
            escape(r.reason or ""),
        )
    console.print(table)


@app.command("suppressions")
def suppressions_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
) -> None:
    """List the e-mail suppression list (addresses that bounced, complained or were added)."""
    from cxo.surveys.suppress import SUPPRESSION_LABELS, list_suppressions

    with connect(get_settings()) as conn:
        total, rows = list_suppressions(conn, limit=limit)
    if not rows:
        console.print(_("No address is on the suppression list."))
        return
    table = Table(
        _("E-mail"), _("Since"), _("Reason"), _("Invitation"), _("Detail"),
        title=_("Suppressed addresses: %(n)s", n=f"{total:,}"),
    )  # fmt: skip
    for r in rows:
        table.add_row(
            escape(r.email),
            r.since.strftime("%Y-%m-%d %H:%M"),
            _(SUPPRESSION_LABELS.get(r.reason, r.reason)),
            str(r.invitation_id or ""),
            escape(r.detail or ""),
        )
    console.print(table)


@app.command("suppress")
def suppress_command(
    email: Annotated[str, typer.Argument(help="The address survey e-mail must not go to.")],
) -> None:
    """Put an address on the suppression list (audited)."""
    from cxo.surveys.suppress import add_suppression

    with connect(get_settings(), write=True) as conn:
        entry, created = add_suppression(conn, email=email, actor=CLI_ACTOR)
    if created:
        console.print(_("%(email)s is on the suppression list.", email=escape(entry.email)))
    else:
        console.print(
            _("%(email)s was already on the suppression list.", email=escape(entry.email))
        )


@app.command("unsuppress")
def unsuppress_command(
    email: Annotated[str, typer.Argument(help="The address to mail again.")],
) -> None:
    """Take an address off the suppression list (audited)."""
    from cxo.surveys.suppress import remove_suppression

    with connect(get_settings(), write=True) as conn:
        before = remove_suppression(conn, email=email, actor=CLI_ACTOR)
    if before is None:
        console.print(_("%(email)s is not on the suppression list.", email=escape(email)))
    else:
        console.print(_("%(email)s is off the suppression list.", email=escape(before.email)))


@app.command("bounces")
def bounces_command(
    path: Annotated[
        Path, typer.Argument(help="An mbox file or a Maildir folder from the bounce mailbox.")
    ],
) -> None:
    """Read bounces: hard bounces mark their invitations bounced; running twice changes nothing."""
    from cxo.surveys.bounces import apply, read_mailbox, sort_messages

    settings = get_settings()
    with console.status(_("Reading bounces…")):
        found = sort_messages(read_mailbox(path))
        with connect(settings, write=True) as conn:
            report = apply(
                conn, found, secret=settings.get_secret_key().encode("utf-8"), actor=CLI_ACTOR
            )
    console.print(
        _(
            "Read %(read)s messages: %(hard)s hard bounces (%(marked)s invitations marked "
            "bounced, %(already)s already marked, %(kept)s left alone because the link was opened), "
            "%(soft)s soft bounces (nothing changes), %(complaints)s spam complaints, "
            "%(unmatched)s bounces that match no invitation, %(not_bounce)s not bounces, "
            "%(unreadable)s unreadable. %(suppressed)s addresses added to the suppression list.",
            read=f"{report.read:,}",
            hard=f"{report.hard:,}",
            marked=f"{report.marked:,}",
            already=f"{report.already:,}",
            kept=f"{report.kept:,}",
            soft=f"{report.soft:,}",
            unmatched=f"{report.unmatched:,}",
            not_bounce=f"{report.not_bounce:,}",
            unreadable=f"{report.unreadable:,}",
            complaints=f"{report.complaints:,}",
            suppressed=f"{report.suppressed:,}",
        )
    )
    for where, reason in report.problems:
        console.print(escape(f"  {where}: {_(reason)}"))
    if report.unreadable > len(report.problems):
        console.print(_("  … and %(n)s more.", n=f"{report.unreadable - len(report.problems):,}"))


_mount_exchange()
