"""`cxo user …`, `cxo token …` and `cxo audit …`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from cxo.cli_support import _, console, err_console
from cxo.errors import CxoError
from cxo.governance import audit
from cxo.governance import service as gov
from cxo.governance.permissions import ROLES, SCOPES
from cxo.governance.schemas import TokenCreate, UserCreate
from cxo.settings import get_settings
from cxo.store.engine import connect

CLI_ACTOR = "cli"

user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect and verify the audit log.", no_args_is_help=True)


def _validation(exc: ValidationError) -> CxoError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    return CxoError(f"{field}: {first['msg']}")


def read_password(password_stdin: bool) -> str:
    """Read a password from stdin (one line) or from an interactive prompt with confirmation."""
    if password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CxoError(
                "No password on standard input.", hint="Pipe one line: echo PASS | cxo …"
            )
        return line
    first = typer.prompt(_("Password"), hide_input=True)
    second = typer.prompt(_("Repeat password"), hide_input=True)
    if first != second:
        raise CxoError("The two passwords differ.", hint="Run the command again.")
    return str(first)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (2-64 letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="Full name shown in the app.")] = None,
    locale: Annotated[str | None, typer.Option(help="en or zh_CN.")] = None,
) -> None:
    """Add a user; the password comes from a prompt or from stdin."""
    try:
        data = UserCreate(
            username=name,
            role=role,
            password=read_password(password_stdin),
            display_name=display_name,
            locale=locale,
        )
    except ValidationError as exc:
        raise _validation(exc) from None
    with connect(get_settings(), write=True) as conn:
        user = gov.create_user(conn, data=data, actor=CLI_ACTOR)
    console.print(_("Added user %(name)s with role %(role)s.", name=user.username, role=user.role))


@user_app.command("list")
def user_list() -> None:
    """List users."""
    with connect(get_settings()) as conn:
        users = gov.list_users(conn)
    table = Table(_("User name"), _("Role"), _("Active"), _("Last login"))
    for u in users:
        table.add_row(
            u.username,
            u.role,
            "yes" if u.active else "no",
            u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "—",
        )
    console.print(table)


@user_app.command("passwd")
def user_passwd(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Set a user's password (ends their web sessions)."""
    password = read_password(password_stdin)
    if len(password) < 4:
        raise CxoError("The password is too short (fewer than 4 characters).")
    with connect(get_settings(), write=True) as conn:
        gov.set_password(conn, username=name, password=password, actor=CLI_ACTOR)
    console.print(_("Password changed for %(name)s.", name=name))


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="The user the token acts as.")],
    scope: Annotated[
        list[str], typer.Option(help=f"Repeat for several: {', '.join(sorted(SCOPES))}.")
    ],
    name: Annotated[str | None, typer.Option(help="A label to recognise the token by.")] = None,
    expires_days: Annotated[int | None, typer.Option(help="Days until it expires.")] = None,
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    scopes = [s.strip() for item in scope for s in item.split(",") if s.strip()]
    try:
        data = TokenCreate(username=user, scopes=scopes, name=name, expires_days=expires_days)
    except ValidationError as exc:
        raise _validation(exc) from None
    with connect(get_settings(), write=True) as conn:
        token = gov.create_token(conn, data=data, actor=CLI_ACTOR)
    err_console.print(_("Token created. Keep it safe: it is shown only this once."))
    print(token)


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None,
        typer.Option(help="The head hash you recorded earlier; also detects a rewritten tail."),
    ] = None,
) -> None:
    """Recompute the audit chain; exit 0 when intact, 1 naming the first bad entry."""
    with connect(get_settings()) as conn:
        result = audit.verify(conn)
    if not result.ok:
        where = _("entry %(id)s", id=result.first_bad_id) if result.first_bad_id else _("the head")
        err_console.print(
            f"[bold red]{_('Audit chain broken at %(where)s', where=where)}:[/] {result.problem}"
        )
        raise typer.Exit(1)
    if expect_head and expect_head != result.head_hash:
        err_console.print(
            f"[bold red]{_('Audit chain head differs from the expected hash')}[/] "
            f"({result.head_hash})"
        )
        raise typer.Exit(1)
    console.print(
        _(
            "Audit chain intact: %(n)s entries, head %(head)s.",
            n=result.entries,
            head=result.head_hash,
        )
    )
