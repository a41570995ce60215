"""What the import service returns: summaries, import rows, previews and quarantined rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class ImportSummary(BaseModel):
    """The outcome of one import. ``read == accepted + quarantined + duplicates`` always holds."""

    import_id: int
    kind: str
    source: str
    file_name: str
    file_format: str
    encoding: str | None = None
    file_bytes: int
    file_sha256: str | None = None
    state: str = "done"
    read: int = 0
    accepted: int = 0
    """New records, and (customers) stored records changed by the file."""
    updated: int = 0
    """Of the accepted: stored customer records the file changed."""
    quarantined: int = 0
    duplicates: int = 0
    """Rows already in the store unchanged, or repeating an earlier row of the file (for customers:
    superseded by a later row of the same record)."""
    duplicates_in_file: int = 0
    """Of the duplicates: rows whose key appears earlier (customers: later) in the file."""
    reasons: dict[str, int] = Field(default_factory=dict)
    """Quarantined rows per reason code."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Each mapped cxo field and where it came from."""
    unmapped_columns: list[str] = Field(default_factory=list)
    previous_import_id: int | None = None
    """An earlier finished import of the very same file bytes (same kind and source), if any."""
    seconds: float = 0.0

    def counts(self) -> dict[str, Any]:
        return self.model_dump(
            include={"read", "accepted", "updated", "quarantined", "duplicates", "reasons"}
        )


class ImportRead(BaseModel):
    """An ``imports`` row."""

    id: int
    kind: str
    source_system: str
    file_name: str
    file_format: str | None
    file_bytes: int | None
    encoding: str | None
    state: str
    rows_read: int
    rows_accepted: int
    rows_updated: int
    rows_quarantined: int
    rows_duplicate: int
    message: str | None
    actor: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class QuarantineRow(BaseModel):
    row_number: int
    reason: str
    detail: str | None
    raw: str | None


class PreviewProblem(BaseModel):
    field: str
    reason: str
    detail: str


class PreviewRow(BaseModel):
    row_number: int
    source: dict[str, str | None]
    """The row's source columns as read."""
    values: dict[str, Any]
    """The cxo fields after mapping and parsing (None where empty or not parsed)."""
    problems: list[PreviewProblem] = Field(default_factory=list)


class Preview(BaseModel):
    """The first rows of a file as an import would read and map them; nothing is written."""

    file_name: str
    file_format: str
    file_bytes: int
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    columns: list[str]
    kind: str | None
    fields: dict[str, str] = Field(default_factory=dict)
    """Each mapped cxo field and where it comes from (empty without a kind)."""
    auto_mapped: list[str] = Field(default_factory=list)
    """Fields mapped because a column has their name."""
    unmapped_columns: list[str] = Field(default_factory=list)
    rows: list[PreviewRow] = Field(default_factory=list)
