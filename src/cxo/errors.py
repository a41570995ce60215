"""Errors a user can act on: one line saying what happened and a hint saying what to do."""

from __future__ import annotations


class CxoError(Exception):
    """An error shown to the user as one clear line (plus a hint), never as a traceback."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(CxoError):
    """Settings are malformed or inconsistent."""

    exit_code = 2


class StoreUnavailable(CxoError):
    """The database cannot be reached or opened."""

    exit_code = 3
    http_status = 503


class StoreLocked(StoreUnavailable):
    """The embedded DuckDB file is held by another process (usually `cxo serve`)."""

    exit_code = 4


class NotFound(CxoError):
    http_status = 404


class Conflict(CxoError):
    http_status = 409


class PermissionDenied(CxoError):
    http_status = 403


class AuthenticationFailed(CxoError):
    http_status = 401
