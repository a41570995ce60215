"""What every generator module receives for one chunk of persons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from pydantic import Field


class Stream(IntEnum):
    """One independent random stream per generator module (never renumber: it changes the data)."""

    PEOPLE = 1
    IDENTITY = 2
    BEHAVIOUR = 3
    VOICE = 4
    SYSTEMS = 5


@dataclass(frozen=True)
class ChunkContext:
    """One chunk: persons ``offset + 1 .. offset + n`` (person ids are 1-based and global)."""

    seed: int
    chunk_index: int
    offset: int
    n: int
    start: dt.date
    """First day of the observation period."""
    weeks: int
    """Length of the observation period, in weeks."""

    def rng(self, stream: Stream) -> np.random.Generator:
        """A generator that depends only on (seed, stream, chunk index): same seed, same data."""
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, int(stream), self.chunk_index])
        )

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(weeks=self.weeks)


def rate(default: float, description: str) -> Any:
    """A probability parameter: a pydantic field between 0 and 1 with help text."""
    return Field(default=default, ge=0, le=1, description=description)
