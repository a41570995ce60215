"""Shared CLI plumbing: the console, the CLI's language, and turning errors into one clear line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console

from cxo.errors import CxoError
from cxo.i18n import Translator, translator

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

_state = {"debug": False}


def set_debug(value: bool) -> None:
    _state["debug"] = value


def is_debug() -> bool:
    return _state["debug"]


@functools.cache
def cli_translator() -> Translator:
    """The CLI speaks the default locale of the settings (CXO_DEFAULT_LOCALE)."""
    try:
        from cxo.settings import get_settings

        return translator(get_settings().default_locale)
    except CxoError:
        return translator("en")


def _(message: str, /, **params: Any) -> str:
    return cli_translator()(message, **params)


def report_error(exc: BaseException) -> int:
    """Print one line (and a hint) for an error; return the exit code."""
    if isinstance(exc, CxoError):
        err_console.print(f"[bold red]{_('Error')}:[/] {_(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]{_('Hint')}: {_(exc.hint)}[/]", highlight=False)
        return exc.exit_code
    err_console.print(
        f"[bold red]{_('Unexpected error')}:[/] {type(exc).__name__}: {exc}", highlight=False
    )
    err_console.print(f"[dim]{_('Hint')}: {_('Run again with --debug to see the traceback.')}[/]")
    return 1


def exit_with(exc: BaseException) -> None:
    if is_debug():
        raise exc
    sys.exit(report_error(exc))
