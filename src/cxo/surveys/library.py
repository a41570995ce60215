"""The instrument library: versioned YAML files shipped in ``cxo/surveys/library/``.

Each file is one instrument (SERVQUAL, relationship quality, loyalty, NPS, CSAT, CES, comment) at one
version, every item worded in English and 简体中文. A survey names an instrument with
``use: <code>`` (and optionally ``version``); compiling copies the items into the survey, so a new
library version never changes a survey already written.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cxo.errors import NotFound
from cxo.surveys.definition import Text

LIBRARY_DIR = Path(__file__).parent / "library"


class ScaleDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    prompt: Text | None = None
    labels: dict[int, Text] = Field(default_factory=dict)


class LibraryItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    text: Text
    dimension: str | None = None
    reverse: bool = False


class Instrument(BaseModel):
    """One instrument at one version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    version: int = Field(ge=1)
    kind: str = Field(description="servqual | rq | loyalty | nps | csat | ces | comment")
    title: Text
    citation: str = ""
    scales: dict[str, ScaleDef]
    default_scales: list[str]
    variants: dict[str, list[str]] = Field(default_factory=dict)
    dimensions: dict[str, Text] = Field(default_factory=dict)
    items: list[LibraryItem] = Field(min_length=1)

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.version}"


@functools.cache
def instruments() -> dict[tuple[str, int], Instrument]:
    """Every shipped instrument by (code, version)."""
    found: dict[tuple[str, int], Instrument] = {}
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            inst = Instrument.model_validate(yaml.safe_load(fh))
        found[(inst.code, inst.version)] = inst
    return found


def latest() -> list[Instrument]:
    """The newest version of each instrument, in a stable order."""
    best: dict[str, Instrument] = {}
    for (code, version), inst in instruments().items():
        if code not in best or version > best[code].version:
            best[code] = inst
    return [best[c] for c in sorted(best)]


def get_instrument(code: str, version: int | None = None) -> Instrument:
    """One instrument; the newest version unless ``version`` is given."""
    if version is not None:
        inst = instruments().get((code, version))
    else:
        inst = next((i for i in latest() if i.code == code), None)
    if inst is None:
        known = ", ".join(i.code for i in latest())
        raise NotFound(
            f"No instrument {code!r}" + (f" version {version}" if version else "") + ".",
            hint=f"The library has: {known}.",
        )
    return inst
