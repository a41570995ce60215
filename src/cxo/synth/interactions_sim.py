"""Interactions across channels and stages: contact volumes, waits, serving and outcomes.

:func:`_interactions` simulates one chunk's contacts for :func:`cxo.synth.behaviour.generate`:
primary contacts while the person is alive, repeats after failed contacts and some defectors' last
complaint, each served with a wait, abandonment, handle time, first-contact resolution, transfer or
complaint driven by the person's experience propensity ``e``. Also holds the channel, touchpoint
and team tables and the vectorised draw and Arrow helpers shared with the purchase process.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pydantic import BaseModel, Field, model_validator

from cxo.synth.contacts import fixed_width_strings
from cxo.synth.context import ChunkContext

if TYPE_CHECKING:
    from cxo.synth.behaviour import BehaviourParams

Channel = Literal["branch", "phone", "web", "app", "email", "chat"]
CONTACT_CHANNELS: Final = ("branch", "phone", "web", "app", "email", "chat")
BRANCH, PHONE, WEB, APP, EMAIL, CHAT = range(6)
QUEUED: Final = np.array([True, True, False, False, True, True])
"""Channels where a customer waits in a queue (email: the wait is the time to first reply)."""
ASSISTED: Final = np.array([True, True, False, False, False, True])
"""Channels where an agent serves the customer (transfers happen there)."""
SOURCE_SYSTEM: Final = ("branch", "cti", "web", "web", "web", "web")

# (touchpoint, stage, relative weight on branch, phone, web, app, email, chat)
TOUCHPOINTS: Final = (
    ("product enquiry", "engage", (3, 3, 3, 2, 2, 3)),
    ("offer response", "engage", (1, 1, 2, 2, 3, 1)),
    ("account opening", "transact", (3, 1, 2, 2, 0, 0)),
    ("card application", "transact", (1, 1, 2, 2, 0, 1)),
    ("loan application", "transact", (2, 1, 1, 1, 0, 0)),
    ("payment or transfer", "transact", (1, 1, 4, 6, 0, 0)),
    ("card delivery", "fulfil", (0, 2, 1, 1, 1, 1)),
    ("loan disbursement", "fulfil", (1, 1, 0, 0, 1, 0)),
    ("document upload", "fulfil", (0, 0, 2, 2, 2, 0)),
    ("balance enquiry", "service", (1, 2, 2, 3, 0, 1)),
    ("password reset", "service", (0, 2, 2, 2, 0, 2)),
    ("card dispute", "service", (1, 3, 1, 1, 2, 2)),
    ("fee query", "service", (1, 3, 1, 1, 2, 2)),
    ("address change", "service", (2, 1, 1, 1, 1, 1)),
    ("complaint", "service", (0, 0, 0, 0, 0, 0)),  # only the last contact of some defectors
)
COMPLAINT_TP: Final = len(TOUCHPOINTS) - 1
STAGES: Final = ("engage", "transact", "fulfil", "service")
# Team by (channel, stage); the market is appended, e.g. "Contact centre service (HK)".
TEAMS: Final = (
    "Branch network",
    "Contact centre sales",
    "Contact centre service",
    "Operations",
    "Digital banking",
    "Customer care email",
    "Digital chat",
)
TEAM_OF: Final = np.array(
    [
        [0, 0, 0, 0],  # branch
        [1, 1, 3, 2],  # phone
        [4, 4, 4, 4],  # web
        [4, 4, 4, 4],  # app
        [5, 5, 3, 5],  # email
        [6, 6, 6, 6],  # chat
    ]
)
OUTCOMES: Final = ("resolved", "transferred", "unresolved", "abandoned", "complaint")
RESOLVED, TRANSFERRED, UNRESOLVED, ABANDONED, COMPLAINT = range(5)
MARKETS: Final = ("CN", "HK", "EN")
SEGMENTS: Final = ("mass", "affluent", "private", "youth", "sme")

# Local hour-of-day profiles (24 weights) per contact channel.
_H = np.arange(24)
HOUR_PROFILE: Final = np.vstack(
    [
        np.where((_H >= 9) & (_H < 17), 1.0 + 0.3 * ((_H >= 11) & (_H < 14)), 0.0),  # branch
        np.where((_H >= 8) & (_H < 22), 1.0 + 0.4 * ((_H >= 10) & (_H < 12)), 0.0),  # phone
        0.15 + np.where((_H >= 7) & (_H < 23), 1.0 + 0.6 * ((_H >= 19) & (_H < 22)), 0.0),  # web
        0.2 + np.where((_H >= 7) & (_H < 24), 1.0 + 0.8 * ((_H >= 19) & (_H < 23)), 0.0),  # app
        0.3 + np.where((_H >= 8) & (_H < 20), 1.0, 0.0),  # email
        0.1 + np.where((_H >= 8) & (_H < 23), 1.0 + 0.4 * ((_H >= 12) & (_H < 14)), 0.0),  # chat
    ]
)
PEAK_HOURS: Final = (11, 12, 13)

WEEK_S: Final = 7 * 86_400.0


class Incident(BaseModel):
    """An operational incident on one channel: longer waits and/or failing digital journeys.

    It covers ``days`` days from day ``start_day`` of week ``week`` (local time). Examples: a
    call-centre telephony outage (phone waits × 3 for a week), an app outage day (app journeys
    fail and customers call instead), a web-login incident week (web journeys fail more often, so
    customers come back again and again).
    """

    week: int = Field(ge=0, description="Week of the observation period (0 = the first week)")
    start_day: int = Field(default=0, ge=0, le=6, description="First day within that week")
    days: int = Field(default=7, ge=1, le=366, description="Length in days")
    channel: Channel = Field(description="Affected contact channel")
    wait_multiplier: float = Field(default=1.0, gt=0, description="Factor applied to every wait")
    failure_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Web/app only: P(a self-service journey fails) during the incident, instead "
        "of the usual failure rate if that is lower",
    )
    switch_to_phone: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="P(a customer whose journey failed in the incident calls the bank the same "
        "day); those calls are the truth kind 'switch'",
    )
    repeat_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="P(the customer tries again after a failed contact in the incident), "
        "instead of the usual repeat_rate if that is lower (customers locked out keep trying)",
    )
    label: str = Field(default="", description="What happened, for the truth file")

    @model_validator(mode="after")
    def _digital_failure(self) -> Incident:
        if (self.failure_rate is not None or self.switch_to_phone) and self.channel not in (
            "web",
            "app",
        ):
            raise ValueError("failure_rate and switch_to_phone apply to web and app incidents")
        return self

    @property
    def first_day(self) -> int:
        return 7 * self.week + self.start_day


class _IncidentGrid:
    """Per (local day, channel): wait multiplier, journey failure floor and switch probability."""

    def __init__(self, incidents: list[Incident], weeks: int) -> None:
        n_days = 7 * weeks
        shape = (n_days, len(CONTACT_CHANNELS))
        self.wait = np.ones(shape)
        self.failure = np.zeros(shape)
        self.switch = np.zeros(shape)
        self.repeat = np.zeros(shape)
        self.active = np.zeros(shape, dtype=bool)
        for inc in incidents:
            if inc.first_day >= n_days:
                continue
            d = slice(inc.first_day, min(inc.first_day + inc.days, n_days))
            ch = CONTACT_CHANNELS.index(inc.channel)
            self.wait[d, ch] *= inc.wait_multiplier
            self.failure[d, ch] = np.maximum(self.failure[d, ch], inc.failure_rate or 0.0)
            self.switch[d, ch] = np.maximum(self.switch[d, ch], inc.switch_to_phone)
            self.repeat[d, ch] = np.maximum(self.repeat[d, ch], inc.repeat_rate or 0.0)
            self.active[d, ch] = True
        self.n_days = n_days

    def day(self, local_s: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.clip((local_s // 86_400).astype(np.int64), 0, self.n_days - 1)


# ---------------------------------------------------------------------------------------------
# helpers


def expit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function (numpy only: generator processes never import scipy)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x))), dtype=np.float64)


def _draw_index(rng: np.random.Generator, cum: NDArray[np.float64]) -> NDArray[np.int64]:
    """One categorical draw per row of ``cum`` (rows: cumulative probabilities ending in 1)."""
    u = np.asarray(rng.random(cum.shape[0]), dtype=np.float64)
    idx = (u[:, None] >= cum[:, :-1]).sum(axis=1)
    return np.asarray(idx, dtype=np.int64)


def _draw_grouped(
    rng: np.random.Generator, cum: NDArray[np.float64], group: NDArray[np.int64]
) -> NDArray[np.int64]:
    """One draw per element from row ``group[i]`` of ``cum`` (a few shared distributions).

    One ``searchsorted`` over the rows laid end to end, row g shifted by g: ``g + u`` lands in row
    g, whose values lie in [g, g + 1].
    """
    u = rng.random(group.size)
    k = cum.shape[1] - 1
    flat = (cum[:, :-1] + np.arange(cum.shape[0])[:, None]).ravel()
    idx = np.searchsorted(flat, group + u, side="right") - group * k
    return np.asarray(np.minimum(idx, k), dtype=np.int64)


def _draw_single(rng: np.random.Generator, cum: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    """``n`` categorical draws from one cumulative distribution."""
    u = rng.random(n)
    return np.asarray(np.searchsorted(cum[:-1], u, side="right"), dtype=np.int64)


def _cum(weights: NDArray[np.float64]) -> NDArray[np.float64]:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w, axis=-1)
    return np.asarray(c / c[..., -1:], dtype=np.float64)


def _strings(values: tuple[str, ...] | list[str], idx: NDArray[np.int64]) -> pa.Array:
    return pc.take(pa.array(list(values), pa.string()), pa.array(idx, pa.int32()))


def _ids(prefix: str, n: int) -> pa.Array:
    """``prefix`` + 1, 2, … ``n`` zero-padded to seven digits (``IX-00003-0000042``)."""
    if n >= 10**7 or not prefix.isascii():  # wider numbers: the general (slower) way
        nums = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
        return pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width=7, padding="0"), "")
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    pairs = np.empty((n, 4), dtype=np.uint16)  # the number as eight digits, two at a time
    nums = np.arange(1, n + 1, dtype=np.int32)
    for k in range(3, -1, -1):
        nums, pair = np.divmod(nums, 100)
        pairs[:, k] = _PAIRS[pair]
    out = np.empty((n, head.size + 7), dtype=np.uint8)
    out[:, : head.size] = head
    out[:, head.size :] = pairs.view(np.uint8).reshape(n, 8)[:, 1:]  # seven digits
    return fixed_width_strings(out.view(f"S{head.size + 7}").ravel())


_PAIRS: Final = np.frombuffer(
    "".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint16
)  # "00", "01", … "99" as two-byte units


def _timestamps(
    epoch_s: float, local_s: NDArray[np.float64], tz_h: NDArray[np.float64]
) -> pa.Array:
    us = np.round((epoch_s + local_s - tz_h * 3600.0) * 1e6).astype(np.int64)
    return pa.array(us, pa.timestamp("us", tz="UTC"))


# ---------------------------------------------------------------------------------------------
# interactions


class _Contacts:
    """Column arrays of a batch of contacts (one row per interaction)."""

    def __init__(
        self,
        owner: NDArray[np.int64],
        local_s: NDArray[np.float64],
        channel: NDArray[np.int64],
        touchpoint: NDArray[np.int64],
        kind: int,
    ) -> None:
        self.owner = owner
        self.local_s = local_s
        self.channel = channel
        self.touchpoint = touchpoint
        self.kind = np.full(owner.size, kind, dtype=np.int8)
        self.offered = np.zeros(owner.size)
        self.wait = np.zeros(owner.size)
        self.handle = np.zeros(owner.size)
        self.outcome = np.zeros(owner.size, dtype=np.int64)
        self.incident = np.zeros(owner.size, dtype=bool)

    FIELDS: Final = (
        "owner",
        "local_s",
        "channel",
        "touchpoint",
        "kind",
        "offered",
        "wait",
        "handle",
        "outcome",
        "incident",
    )

    @classmethod
    def concat(cls, parts: list[_Contacts]) -> _Contacts:
        out = cls.__new__(cls)
        for f in cls.FIELDS:
            setattr(out, f, np.concatenate([getattr(p, f) for p in parts]))
        return out

    def take(self, idx: NDArray[np.int64]) -> None:
        for f in self.FIELDS:
            setattr(self, f, getattr(self, f)[idx])


KIND: Final = ("primary", "repeat", "final_complaint", "switch")


def _vec(d: dict[str, float]) -> NDArray[np.float64]:
    return np.array([float(d[c]) for c in CONTACT_CHANNELS])


def _serve(
    rng: np.random.Generator,
    c: _Contacts,
    params: BehaviourParams,
    e: NDArray[np.float64],
    incidents: _IncidentGrid,
    start_wd: int,
) -> None:
    """Waits, abandonment, handle time, FCR, transfers and complaints for a batch of contacts."""
    m = c.owner.size
    ch = c.channel
    ee = e[c.owner]
    day = incidents.day(c.local_s)
    dow = (start_wd + (c.local_s // 86_400).astype(np.int64)) % 7
    hour = ((c.local_s % 86_400) // 3600).astype(np.int64)
    base = _vec(params.wait_median_seconds)[ch]
    mult = np.asarray(params.weekday_wait_multiplier)[dow] * np.where(
        (hour >= PEAK_HOURS[0]) & (hour <= PEAK_HOURS[-1]), params.peak_hour_wait_multiplier, 1.0
    )
    inc = incidents.wait[day, ch]
    c.incident = incidents.active[day, ch]
    offered = (
        base
        * mult
        * inc
        * np.exp(params.wait_experience * ee + _vec(params.wait_sigma)[ch] * rng.standard_normal(m))
    )
    queued = QUEUED[ch]
    patience = rng.exponential(1.0, m) * _vec(params.patience_seconds)[ch]
    fail_p = np.minimum(params.self_service_failure * np.exp(0.3 * ee), 1.0)
    fail_p = np.maximum(fail_p, incidents.failure[day, ch])
    abandoned = np.where(queued, patience < offered, rng.random(m) < fail_p)
    c.offered = offered
    c.wait = np.where(queued & abandoned, patience, offered)
    handle = _vec(params.handle_median_seconds)[ch] * np.exp(
        _vec(params.handle_sigma)[ch] * rng.standard_normal(m)
    )
    c.handle = np.where(abandoned, np.where(queued, np.nan, 0.4 * handle), handle)
    stress = np.where(base > 0, np.log1p(offered / np.where(base > 0, base, 1.0)) - np.log(2), 0.0)
    fcr = expit(_vec(params.fcr_logit)[ch] - params.fcr_experience * ee - params.fcr_wait * stress)
    resolved = ~abandoned & (rng.random(m) < fcr)
    complaint = ~resolved & (
        rng.random(m)
        < expit(
            params.complaint_logit
            + params.complaint_experience * ee
            + params.complaint_wait * stress
        )
    )
    assisted = ASSISTED[ch]
    transfer = (
        ~resolved & ~abandoned & ~complaint & assisted & (rng.random(m) < params.transfer_share)
    )
    outcome = np.full(m, UNRESOLVED)
    outcome[resolved] = RESOLVED
    outcome[transfer] = TRANSFERRED
    outcome[abandoned] = ABANDONED
    outcome[complaint] = COMPLAINT
    outcome[c.kind == 2] = COMPLAINT
    c.outcome = outcome


def _place_in_day(
    rng: np.random.Generator, day: NDArray[np.int64], channel: NDArray[np.int64], start_wd: int
) -> NDArray[np.float64]:
    """Local seconds since the start for a contact on ``day`` (days since the start) in opening hours."""
    # Branches close on Sunday: move those visits to Saturday.
    sunday = (channel == BRANCH) & ((start_wd + day) % 7 == 6)
    day = day - sunday
    hour = _draw_grouped(rng, _cum(HOUR_PROFILE), channel)
    return np.asarray(day * 86_400.0 + (hour + rng.random(day.size)) * 3600.0, dtype=np.float64)


def _interactions(
    rng: np.random.Generator,
    ctx: ChunkContext,
    params: BehaviourParams,
    persons: pa.Table,
    epoch_s: float,
    e: NDArray[np.float64],
    alive_end: NDArray[np.float64],
    dropped: NDArray[np.bool_],
    tz_h: NDArray[np.float64],
    mkt_idx: NDArray[np.int64],
    seg_idx: NDArray[np.int64],
    tech: NDArray[np.float64],
    has_web: NDArray[np.bool_],
) -> tuple[pa.Table, pa.Table]:
    """Contacts while alive: primary, repeats after failures, and some defectors' last complaint."""
    n = e.size
    start_wd = ctx.start.weekday()
    alive_s = alive_end * WEEK_S
    incidents = _IncidentGrid(params.incidents, ctx.weeks)
    tp_cum = _cum(np.array([t[2] for t in TOUCHPOINTS], dtype=np.float64).T + 1e-12)

    # --- primary contacts ---
    ce = params.contact_experience
    rate = (
        params.contact_rate
        * rng.gamma(params.contact_shape, 1.0 / params.contact_shape, n)
        * np.exp(ce * e - ce**2 / 2)
    )
    count = rng.poisson(rate * alive_end)
    owner = np.repeat(np.arange(n), count)
    mix = np.array([params.channel_mix[s] for s in SEGMENTS], dtype=np.float64)[seg_idx]
    tilt = params.digital_tech * (tech - 0.5)
    digital = np.array([0, 0, 1, 1, 0, 1], dtype=bool)
    factor = np.where(digital, np.exp(tilt)[:, None], np.exp(-tilt)[:, None])
    factor[:, digital] *= np.where(has_web, 1.0, params.no_web_account_digital)[:, None]
    channel = _draw_index(rng, _cum(mix * factor)[owner])
    tc = rng.random(owner.size) * alive_s[owner]
    week = (tc // WEEK_S).astype(np.int64)
    wd = np.asarray(params.weekday_contact_weights)[(start_wd + np.arange(7)) % 7]
    day = week * 7 + _draw_single(rng, _cum(wd), owner.size)
    local_s = _place_in_day(rng, day, channel, start_wd)
    local_s = np.where((local_s > alive_s[owner]) | (local_s < 0), tc, local_s)
    touchpoint = _draw_grouped(rng, tp_cum, channel)
    batch = _Contacts(owner, local_s, channel, touchpoint, 0)
    _serve(rng, batch, params, e, incidents, start_wd)
    parts = [batch]

    # --- outage switch: a customer whose app/web journey failed in an incident calls the same day
    failed = (batch.outcome == ABANDONED) & batch.incident
    p_switch = incidents.switch[incidents.day(batch.local_s), batch.channel]
    go = np.flatnonzero(failed & (rng.random(batch.owner.size) < p_switch))
    ls = batch.local_s[go] + 300.0 + rng.exponential(1_800.0, go.size)
    ok = ls < np.minimum(alive_s[batch.owner[go]], ctx.weeks * WEEK_S)
    go, ls = go[ok], ls[ok]
    switch = _Contacts(batch.owner[go], ls, np.full(go.size, PHONE), batch.touchpoint[go], 3)
    _serve(rng, switch, params, e, incidents, start_wd)
    parts = [_Contacts.concat([batch, switch])]

    # --- repeat contacts after a failed one (same touchpoint; same channel or phone) ---
    for _ in range(params.max_repeat_rounds):
        prev = parts[-1]
        p_repeat = np.maximum(
            params.repeat_rate, incidents.repeat[incidents.day(prev.local_s), prev.channel]
        )
        go = np.flatnonzero((prev.outcome != RESOLVED) & (rng.random(prev.owner.size) < p_repeat))
        if go.size == 0:
            break
        own = prev.owner[go]
        ch = np.where(rng.random(go.size) < params.repeat_same_channel, prev.channel[go], PHONE)
        gap_days = np.floor(rng.exponential(params.repeat_gap_days, go.size)).astype(np.int64)
        day = (prev.local_s[go] // 86_400).astype(np.int64) + gap_days
        ls = _place_in_day(rng, day, ch, start_wd)
        ls = np.where(ls <= prev.local_s[go], ls + 86_400.0, ls)
        ok = ls < np.minimum(alive_s[own], ctx.weeks * WEEK_S)
        batch = _Contacts(own[ok], ls[ok], ch[ok], prev.touchpoint[go][ok], 1)
        _serve(rng, batch, params, e, incidents, start_wd)
        parts.append(batch)

    # --- a last complaint shortly before some defectors leave ---
    logit = np.log(params.final_complaint_rate / max(1e-12, 1 - params.final_complaint_rate))
    complain = dropped & (rng.random(n) < expit(logit + params.final_complaint_experience * e))
    own = np.flatnonzero(complain)
    ch = np.array([PHONE, BRANCH, EMAIL, CHAT])[
        _draw_single(rng, _cum(np.array([0.5, 0.2, 0.2, 0.1])), own.size)
    ]
    day = ((alive_s[own] - rng.random(own.size) * 14 * 86_400) // 86_400).astype(np.int64)
    ls = _place_in_day(rng, np.maximum(day, 0), ch, start_wd)
    ls = np.where(ls > alive_s[own], alive_s[own] - rng.random(own.size) * 3600, ls)
    ls = np.maximum(ls, 0.0)
    batch = _Contacts(own, ls, ch, np.full(own.size, COMPLAINT_TP), 2)
    _serve(rng, batch, params, e, incidents, start_wd)
    parts.append(batch)

    c = _Contacts.concat(parts)
    # By person, then time: one float key (local_s < 10^9 s, so the owner dominates) sorts far
    # faster than a lexsort of two keys.
    c.take(np.argsort(c.owner * 1e9 + c.local_s))
    return _interaction_tables(rng, ctx, params, persons, epoch_s, c, tz_h, mkt_idx)


def _interaction_tables(
    rng: np.random.Generator,
    ctx: ChunkContext,
    params: BehaviourParams,
    persons: pa.Table,
    epoch_s: float,
    c: _Contacts,
    tz_h: NDArray[np.float64],
    mkt_idx: NDArray[np.int64],
) -> tuple[pa.Table, pa.Table]:
    m = c.owner.size
    take = pa.array(c.owner, pa.int32())
    # customer_ref: the person's id in the channel's system (phone: CTI or nothing; others fall
    # back to the CRM id); one take from the four id columns laid end to end.
    systems = ("crm", "web", "cti", "branch")
    cols = [persons[f"{s}_id"].combine_chunks() for s in systems]
    n = persons.num_rows
    valid = [col.is_valid().to_numpy(zero_copy_only=False)[c.owner] for col in cols]
    web_or_crm = np.where(valid[1], 1, 0)
    branch_or_crm = np.where(valid[3], 3, 0)
    system = np.where(
        c.channel == PHONE, 2, np.where(c.channel == BRANCH, branch_or_crm, web_or_crm)
    )
    anonymous = (c.channel != PHONE) & (rng.random(m) < params.anonymous_rate)
    missing = anonymous | ((c.channel == PHONE) & ~valid[2])
    ref_idx = pa.array(system * n + c.owner, pa.int64(), mask=missing)
    customer_ref = pc.take(pa.concat_arrays(cols), ref_idx)
    stage_of = np.array([STAGES.index(t[1]) for t in TOUCHPOINTS])
    stage = stage_of[c.touchpoint]
    team_names = [f"{t} ({mk})" for t in (*TEAMS, "Complaints") for mk in MARKETS]
    team_base = np.where(c.kind == 2, len(TEAMS), TEAM_OF[c.channel, stage])
    team = team_base * len(MARKETS) + mkt_idx[c.owner]
    tz = tz_h[c.owner]
    handle = np.nan_to_num(c.handle)
    ids = _ids(f"IX-{ctx.chunk_index:05d}-", m)
    table = pa.table(
        {
            "source_system": _strings(SOURCE_SYSTEM, c.channel),
            "source_record_id": ids,
            "customer_ref": customer_ref,
            "channel": _strings(CONTACT_CHANNELS, c.channel),
            "touchpoint": _strings([t[0] for t in TOUCHPOINTS], c.touchpoint),
            "stage": _strings(STAGES, stage),
            "started_at": _timestamps(epoch_s, c.local_s, tz),
            "ended_at": _timestamps(epoch_s, c.local_s + c.wait + handle, tz),
            "wait_seconds": pa.array(np.round(c.wait, 1), pa.float64()),
            "handle_seconds": pa.array(np.round(handle, 1), pa.float64(), mask=np.isnan(c.handle)),
            "outcome": _strings(OUTCOMES, c.outcome),
            "team": _strings(team_names, team),
        }
    )
    truth = pa.table(
        {
            "source_record_id": ids,
            "person_id": pc.take(persons["person_id"].combine_chunks(), take),
            "kind": _strings(KIND, c.kind.astype(np.int64)),
            "offered_wait_seconds": pa.array(c.offered, pa.float64()),
            "in_incident": pa.array(c.incident, pa.bool_()),
        }
    )
    return table, truth


def _incident_table(ctx: ChunkContext, params: BehaviourParams) -> pa.Table:
    rows = [i for i in params.incidents if i.first_day < 7 * ctx.weeks]
    starts = [ctx.start + dt.timedelta(days=i.first_day) for i in rows]
    return pa.table(
        {
            "week": pa.array([i.week for i in rows], pa.int32()),
            "starts_on": pa.array(starts, pa.date32()),
            "channel": pa.array([i.channel for i in rows], pa.string()),
            "wait_multiplier": pa.array([i.wait_multiplier for i in rows], pa.float64()),
            "label": pa.array([i.label for i in rows], pa.string()),
            "ends_on": pa.array(
                [s + dt.timedelta(days=i.days - 1) for s, i in zip(starts, rows, strict=True)],
                pa.date32(),
            ),
            "days": pa.array([i.days for i in rows], pa.int32()),
            "failure_rate": pa.array([i.failure_rate for i in rows], pa.float64()),
            "switch_to_phone": pa.array([i.switch_to_phone for i in rows], pa.float64()),
            "repeat_rate": pa.array([i.repeat_rate for i in rows], pa.float64()),
        }
    )
