"""Purchase seasonality: when in the period purchases happen, without changing how many.

BG/NBD fixes each person's purchase *count* in their window ``(t0, end]``; in the model the
purchase times are the order statistics of uniform draws on that window. Here they are the
order statistics of draws from a seasonal density instead: a market's purchase intensity
``s(t)`` (hour of day × day of week × paydays × festivals, mean 1 over the period) defines an
operational clock ``S(t) = ∫₀ᵗ s``, and a purchase at uniform operational time ``y`` happens at
calendar time ``S⁻¹(y)``. In operational time the process is exactly BG/NBD (so fitting the model to
``S(t)`` recovers the parameters exactly); in calendar time the counts per window are unchanged and
only their timing moves, so a BG/NBD fit on calendar times still recovers the parameters closely
(the intensity averages out over a long window).

The intensity is piecewise constant per local hour; the clock is piecewise linear, and both
directions are one ``np.interp`` per market.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from pydantic import BaseModel, Field

MARKETS: Final = ("CN", "HK", "EN")
HOURS_PER_WEEK: Final = 168


class SeasonalEvent(BaseModel):
    """A stretch of days when one or more markets buy more (or less) than usual."""

    label: str = Field(description="What it is, e.g. 'Singles' Day (11.11)'")
    markets: list[str] = Field(description="Markets affected: CN, HK, EN")
    start: dt.date = Field(description="First day (for a yearly event: any year, month-day used)")
    days: int = Field(default=1, ge=1, le=366, description="Number of days")
    multiplier: float = Field(gt=0, description="Purchase intensity factor on those days")
    yearly: bool = Field(default=False, description="Repeat on the same month-day every year")


def _cny(year_dates: tuple[str, ...], before: float, during: float) -> list[SeasonalEvent]:
    out = []
    for d in year_dates:
        day = dt.date.fromisoformat(d)
        out.append(
            SeasonalEvent(
                label=f"Chinese New Year shopping {day.year}",
                markets=["CN", "HK"],
                start=day - dt.timedelta(days=14),
                days=14,
                multiplier=before,
            )
        )
        out.append(
            SeasonalEvent(
                label=f"Chinese New Year holiday {day.year}",
                markets=["CN"],
                start=day,
                days=7,
                multiplier=during,
            )
        )
    return out


_CNY_DATES: Final = ("2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26")
_BLACK_FRIDAY: Final = ("2024-11-29", "2025-11-28", "2026-11-27", "2027-11-26")


def _default_events() -> list[SeasonalEvent]:
    yearly = [
        ("Singles' Day (11.11)", ["CN"], "2025-11-11", 1, 2.5),
        ("618 shopping festival", ["CN"], "2025-06-18", 1, 1.6),
        ("National Day Golden Week", ["CN"], "2025-10-01", 7, 1.3),
        ("Christmas shopping", ["EN"], "2025-12-01", 24, 1.4),
        ("Christmas shopping", ["HK"], "2025-12-15", 10, 1.3),
        ("Boxing Day sales", ["EN"], "2025-12-26", 1, 1.6),
        ("January lull", ["EN"], "2025-01-02", 28, 0.85),
    ]
    events = [
        SeasonalEvent(
            label=label,
            markets=markets,
            start=dt.date.fromisoformat(day),
            days=days,
            multiplier=mult,
            yearly=True,
        )
        for label, markets, day, days, mult in yearly
    ]
    events += [
        SeasonalEvent(
            label="Black Friday",
            markets=["EN"],
            start=dt.date.fromisoformat(d),
            multiplier=1.8,
        )
        for d in _BLACK_FRIDAY
    ]
    return events + _cny(_CNY_DATES, before=1.6, during=0.7)


_HOURS: Final = (
    "0.15 0.08 0.05 0.04 0.04 0.08 0.25 0.55 0.9 1.1 1.2 1.35 "
    "1.6 1.5 1.25 1.2 1.25 1.35 1.5 1.7 1.75 1.6 1.1 0.5"
)
_HOUR_WEIGHTS: Final = tuple(float(w) for w in _HOURS.split())


class PurchaseSeasonality(BaseModel):
    """When purchases happen: local hour, weekday, paydays and festivals, per market."""

    enabled: bool = Field(
        default=True, description="Warp purchase times by the intensity below (False: uniform)"
    )
    hour_weights: tuple[float, ...] = Field(
        default=_HOUR_WEIGHTS,
        min_length=24,
        max_length=24,
        description="Relative purchase intensity by local hour (0-23)",
    )
    weekday_weights: tuple[float, float, float, float, float, float, float] = Field(
        default=(0.92, 0.95, 0.95, 1.0, 1.12, 1.18, 0.88),
        description="Relative purchase intensity by day of week, Monday first",
    )
    payday: dict[str, int] = Field(
        default={"CN": 10, "HK": 0, "EN": 0},
        description="Payday (day of month; 0 = last day of the month) per market",
    )
    payday_multiplier: float = Field(
        default=1.35, gt=0, description="Intensity factor on payday and the days after it"
    )
    payday_days: int = Field(
        default=3, ge=1, le=10, description="Days of raised spending from payday on"
    )
    events: list[SeasonalEvent] = Field(
        default_factory=_default_events,
        description="Festivals and sales: Chinese New Year (before: 1.6×; mainland holiday week: "
        "0.7×), 11.11 (2.5×), 618, Golden Week, Christmas, Black Friday, Boxing Day, the "
        "January lull",
    )


def _event_days(event: SeasonalEvent, days: NDArray[np.datetime64]) -> NDArray[np.bool_]:
    if not event.yearly:
        first = np.datetime64(event.start, "D")
        return (days >= first) & (days < first + event.days)
    hit = np.zeros(days.size, bool)
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    for year in range(int(years.min()) - 1, int(years.max()) + 1):
        try:
            first = np.datetime64(event.start.replace(year=year), "D")
        except ValueError:  # 29 February
            first = np.datetime64(dt.date(year, 2, 28), "D")
        hit |= (days >= first) & (days < first + event.days)
    return hit


def daily_factors(start: dt.date, weeks: int, params: PurchaseSeasonality) -> NDArray[np.float64]:
    """Day-level intensity factors (markets × days): weekday × payday × events (not normalised)."""
    days = np.datetime64(start, "D") + np.arange(7 * weeks)
    dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = days.astype("datetime64[M]")
    dom = (days - month.astype("datetime64[D]")).astype(np.int64) + 1
    last = (days + 1).astype("datetime64[M]") != month
    out = np.empty((len(MARKETS), days.size))
    for m, market in enumerate(MARKETS):
        f = np.asarray(params.weekday_weights, dtype=np.float64)[dow]
        pay_day = params.payday.get(market)
        if pay_day is not None:
            is_pay = last if pay_day == 0 else dom == pay_day
            # payday and the following days (within the period)
            since = np.full(days.size, 10**6)
            idx = np.flatnonzero(is_pay)
            if idx.size:
                pos = np.searchsorted(idx, np.arange(days.size), side="right") - 1
                ok = pos >= 0
                since[ok] = np.arange(days.size)[ok] - idx[pos[ok]]
            f = f * np.where(since < params.payday_days, params.payday_multiplier, 1.0)
        for event in params.events:
            if market in event.markets:
                f = f * np.where(_event_days(event, days), event.multiplier, 1.0)
        out[m] = f
    return out


class Clock:
    """Operational time per market: ``forward`` maps weeks since the start to operational weeks,
    ``inverse`` maps back. Both are the identity when seasonality is disabled."""

    def __init__(self, start: dt.date, weeks: int, params: PurchaseSeasonality) -> None:
        self.enabled = params.enabled
        self.weeks = weeks
        if not self.enabled:
            return
        hourly = daily_factors(start, weeks, params)[:, :, None] * np.asarray(
            params.hour_weights, dtype=np.float64
        )
        hourly = hourly.reshape(len(MARKETS), -1)
        cum = np.concatenate([np.zeros((len(MARKETS), 1)), np.cumsum(hourly, axis=1)], axis=1)
        self.grid = np.arange(hourly.shape[1] + 1) / HOURS_PER_WEEK  # weeks
        self.cum = cum / cum[:, -1:] * weeks  # mean intensity 1: S(weeks) = weeks

    def _apply(
        self, t: NDArray[np.float64], market: NDArray[np.int64], inverse: bool
    ) -> NDArray[np.float64]:
        if not self.enabled:
            return np.asarray(t, dtype=np.float64)
        out = np.empty(t.size)
        for m in range(len(MARKETS)):
            sel = market == m
            xp, fp = (self.cum[m], self.grid) if inverse else (self.grid, self.cum[m])
            out[sel] = np.interp(t[sel], xp, fp)
        return out

    def forward(self, t: NDArray[np.float64], market: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._apply(t, market, inverse=False)

    def inverse(self, y: NDArray[np.float64], market: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._apply(y, market, inverse=True)


def calendar_table(start: dt.date, weeks: int, params: PurchaseSeasonality) -> pa.Table:
    """The truth: relative purchase intensity per market and day (mean 1 over the period)."""
    f = daily_factors(start, weeks, params)
    f = f / f.mean(axis=1, keepdims=True) if params.enabled else np.ones_like(f)
    days = np.datetime64(start, "D") + np.arange(f.shape[1])
    labels = []
    for market in MARKETS:
        names = [(ev, _event_days(ev, days)) for ev in params.events if market in ev.markets]
        labels += [
            "; ".join(ev.label for ev, hit in names if hit[d]) or None for d in range(days.size)
        ]
    return pa.table(
        {
            "date": pa.array(np.tile(days, len(MARKETS)), pa.date32()),
            "market": pa.array(np.repeat(MARKETS, days.size), pa.string()),
            "relative_intensity": pa.array(f.ravel(), pa.float64()),
            "events": pa.array(labels, pa.string()),
        }
    )
