"""Ground-truth persons: market, city, demographics, segment, attitudes and households.

Only what other generators need to condition on lives here; names, contact details and source
records are added by :mod:`cxo.synth.identity`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from cxo.synth.context import ChunkContext, Stream

MARKETS: Final = ("CN", "HK", "EN")
CITIES: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "CN": (
        ("Shanghai", 0.30),
        ("Beijing", 0.25),
        ("Shenzhen", 0.15),
        ("Guangzhou", 0.12),
        ("Hangzhou", 0.10),
        ("Chengdu", 0.08),
    ),
    "HK": (("Hong Kong", 1.0),),
    "EN": (("London", 0.45), ("Singapore", 0.30), ("Sydney", 0.25)),
}
SEGMENTS: Final = ("mass", "affluent", "private", "youth", "sme")
INCOME_BANDS: Final = ("low", "middle", "upper_middle", "high", "very_high")


class PeopleParams(BaseModel):
    """How the bank's customer base is made up."""

    market_shares: dict[str, float] = Field(
        default={"CN": 0.60, "HK": 0.25, "EN": 0.15}, description="Share of persons per market"
    )
    household_rate: float = Field(
        default=0.20,
        ge=0,
        le=0.9,
        description="Probability that a person lives with the previous person (shared address and "
        "landline; a hard non-match for identity resolution)",
    )
    sme_rate: float = Field(
        default=0.06, ge=0, le=0.5, description="Share of small-business owners"
    )


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([o[0] for o in options], dtype=object)
    p = np.array([o[1] for o in options])
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def generate(ctx: ChunkContext, params: PeopleParams) -> pa.Table:
    """The persons of one chunk, one row each, ordered by ``person_id``."""
    rng = ctx.rng(Stream.PEOPLE)
    n = ctx.n
    shares = np.array([params.market_shares.get(m, 0.0) for m in MARKETS])
    market = np.array(MARKETS, dtype=object)[rng.choice(3, size=n, p=shares / shares.sum())]
    city = np.empty(n, dtype=object)
    for m in MARKETS:
        idx = np.flatnonzero(market == m)
        city[idx] = _choice(rng, CITIES[m], idx.size)
    age = np.clip(np.round(rng.gamma(2.6, 8.0, n) + 18), 18, 92).astype(np.int16)
    gender = np.where(rng.random(n) < 0.51, "F", "M").astype(object)
    # Income rises with age to the fifties, then falls; a latent z drives band and segment.
    z = rng.normal(0, 1, n) + 0.6 * np.exp(-(((age - 50) / 15.0) ** 2)) - 0.3
    band_idx = np.digitize(z, [-0.8, 0.2, 0.9, 1.6])
    income_band = np.array(INCOME_BANDS, dtype=object)[band_idx]
    segment = np.where(band_idx >= 4, "private", np.where(band_idx >= 3, "affluent", "mass"))
    segment = np.where((age < 28) & (band_idx <= 2), "youth", segment)
    segment = np.where(rng.random(n) < params.sme_rate, "sme", segment).astype(object)
    tech = np.clip(rng.normal(0.75 - 0.008 * (age - 18), 0.18), 0, 1)
    price = np.clip(rng.normal(0.65 - 0.12 * band_idx, 0.15), 0, 1)
    relation = np.clip(rng.normal(0.35 + 0.006 * (age - 18), 0.2), 0, 1)
    person_id = np.arange(ctx.offset + 1, ctx.offset + n + 1, dtype=np.int64)
    # Households: a person joins the previous person's household (same market and city).
    joins = rng.random(n) < params.household_rate
    joins[0] = False
    # A run of joiners belongs to the person just before the run (the head).
    head = np.maximum.accumulate(np.where(joins, 0, np.arange(n)))
    household = person_id[head]
    market, city = market[head], city[head]
    return pa.table(
        {
            "person_id": person_id,
            "household_id": household,
            "market": pa.array(market, pa.string()),
            "city": pa.array(city, pa.string()),
            "age": pa.array(age, pa.int16()),
            "gender": pa.array(gender, pa.string()),
            "income_band": pa.array(income_band, pa.string()),
            "segment": pa.array(segment, pa.string()),
            "tech_affinity": pa.array(tech, pa.float64()),
            "price_sensitivity": pa.array(price, pa.float64()),
            "relationship_orientation": pa.array(relation, pa.float64()),
        }
    )
