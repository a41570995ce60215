"""Survey views shared by the pages, the API and the CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class SurveyRead(BaseModel):
    id: int
    code: str
    version: int
    state: str
    title: dict[str, str | None]
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    created_by: str | None = None
    versions: int = 1
    started: int = 0
    completed: int = 0

    def title_in(self, locale: str) -> str:
        value = self.title.get(locale) or self.title.get("en") or self.title.get("zh_CN")
        return value or self.code


class SurveyDetail(SurveyRead):
    spec: dict[str, Any]
    compiled: dict[str, Any]


class InstrumentRead(BaseModel):
    code: str
    version: int
    kind: str
    title: dict[str, str | None]
    citation: str
    scales: list[str]
    variants: dict[str, list[str]]
    dimensions: dict[str, dict[str, str | None]]
    items: int
