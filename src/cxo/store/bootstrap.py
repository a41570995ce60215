"""`cxo init`: create or upgrade the store (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from cxo.settings import Settings
from cxo.store import migrate
from cxo.store.engine import connect


@dataclass(frozen=True)
class InitResult:
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def init_store(settings: Settings) -> InitResult:
    """Create the schema, or upgrade it to the newest revision; a no-op when already current."""
    if settings.is_duckdb:
        settings.ensure_home()
    with connect(settings) as conn:
        before, after = migrate.upgrade(conn)
    return InitResult(before, after)
