"""Transactions (BG/NBD + Gamma-Gamma) and interactions across channels and stages.

The purchase process is exactly the BG/NBD model of Fader, Hardie & Lee (2005) and spend is
exactly the Gamma-Gamma model of Fader & Hardie (2013), so a CLV model fitted to the generated
transactions must recover the stated parameters (see :mod:`cxo.synth.bgnbd`).

Experience drives defection through a Gaussian copula. Each person has a latent experience
propensity ``e ~ N(0, 1)`` (higher = worse: longer waits, fewer first-contact resolutions, more
complaints) and their BG/NBD dropout probability is::

    p = F⁻¹_Beta(a, b)( Φ(ρ·e + √(1-ρ²)·z) ),   z ~ N(0, 1)

so ``p ~ Beta(a, b)`` exactly (the marginal is untouched) while persons with bad experiences drop
out sooner. Interactions happen only while the person is alive (plus, for some defectors, a last
complaint shortly before they go). Everything is vectorised: no per-person Python loop. The contact
simulation itself lives in :mod:`cxo.synth.interactions_sim`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from cxo.synth.bgnbd import beta_ppf_of_normal
from cxo.synth.context import ChunkContext, Stream, rate
from cxo.synth.interactions_sim import (
    CONTACT_CHANNELS,
    MARKETS,
    SEGMENTS,
    WEEK_S,
    Incident,
    _cum,
    _draw_grouped,
    _draw_index,
    _ids,
    _incident_table,
    _interactions,
    _strings,
    _timestamps,
)
from cxo.synth.interactions_sim import OUTCOMES as OUTCOMES  # re-export (was defined here)
from cxo.synth.seasonality import Clock, PurchaseSeasonality, calendar_table

CITY_INFO: Final = {  # city: (UTC offset in hours, currency)
    "Shanghai": (8, "CNY"),
    "Beijing": (8, "CNY"),
    "Shenzhen": (8, "CNY"),
    "Guangzhou": (8, "CNY"),
    "Hangzhou": (8, "CNY"),
    "Chengdu": (8, "CNY"),
    "Hong Kong": (8, "HKD"),
    "London": (0, "GBP"),
    "Singapore": (8, "SGD"),
    "Sydney": (10, "AUD"),
}
MARKET_DEFAULT: Final = {"CN": (8, "CNY"), "HK": (8, "HKD"), "EN": (0, "GBP")}
CURRENCIES: Final = ("CNY", "HKD", "GBP", "SGD", "AUD")
PRODUCTS: Final = (
    "card payment",
    "transfer",
    "bill payment",
    "foreign exchange",
    "investment",
    "loan repayment",
)
PRODUCT_MIX: Final = np.array(  # by segment (rows as SEGMENTS)
    [
        [5, 3, 2, 0.3, 0.3, 1],
        [4, 3, 2, 1, 1.5, 1],
        [2, 3, 1, 2, 4, 1],
        [6, 3, 1, 0.3, 0.1, 0.3],
        [3, 5, 3, 1, 0.5, 2],
    ]
)
TX_CHANNELS: Final = ("app", "web", "branch", "phone", "other")


def _per_channel(*values: float) -> dict[str, float]:
    return dict(zip(CONTACT_CHANNELS, values, strict=True))


class BehaviourParams(BaseModel):
    """Purchase, spend and contact processes (all times in weeks unless stated)."""

    # --- BG/NBD purchase process (Fader, Hardie & Lee 2005; defaults: the CDNOW fit) ---
    bgnbd_r: float = Field(default=0.243, gt=0, description="BG/NBD r: shape of λ ~ Gamma(r, α)")
    bgnbd_alpha: float = Field(
        default=4.414, gt=0, description="BG/NBD α: rate of λ ~ Gamma(r, α), in weeks"
    )
    bgnbd_a: float = Field(default=0.793, gt=0, description="BG/NBD a: dropout p ~ Beta(a, b)")
    bgnbd_b: float = Field(default=2.426, gt=0, description="BG/NBD b: dropout p ~ Beta(a, b)")
    acquisition_weeks: float = Field(
        default=12.0,
        ge=0,
        description="First purchases (time 0 of the BG/NBD clock) are spread uniformly over this "
        "many weeks from the start, like CDNOW's 12-week cohort; T = weeks - first purchase",
    )
    purchase_seasonality: PurchaseSeasonality = Field(
        default_factory=PurchaseSeasonality,
        description="When purchases happen (hour, weekday, paydays, festivals per market); moves "
        "purchase times within each person's window without changing their number",
    )
    # --- Gamma-Gamma spend (Fader & Hardie 2013; defaults: the CDNOW fit) ---
    gg_p: float = Field(default=6.25, gt=0, description="Gamma-Gamma p: shape of each amount")
    gg_q: float = Field(default=3.74, gt=0, description="Gamma-Gamma q: shape of ν ~ Gamma(q, γ)")
    gg_gamma: float = Field(
        default=15.44, gt=0, description="Gamma-Gamma γ: rate of ν ~ Gamma(q, γ), in base units"
    )
    currency_units: dict[str, float] = Field(
        default={"CNY": 7.2, "HKD": 7.8, "GBP": 0.79, "SGD": 1.35, "AUD": 1.52},
        description="Local currency per base spend unit (Gamma-Gamma is scale-free: divide "
        "amounts by this to recover γ; p and q are unchanged)",
    )
    # --- experience ↔ defection copula ---
    copula_rho: float = Field(
        default=0.5,
        ge=-0.99,
        le=0.99,
        description="Gaussian-copula correlation between experience propensity e and the "
        "dropout probability's normal score (0 = experience carries no churn signal)",
    )
    # --- contact volume and channel mix ---
    contact_rate: float = Field(
        default=0.08, ge=0, description="Mean first contacts per person per week while alive"
    )
    contact_shape: float = Field(
        default=2.0, gt=0, description="Gamma shape of person-level contact-rate heterogeneity"
    )
    contact_experience: float = Field(
        default=0.3, description="log contact-rate change per unit of e (mean kept fixed)"
    )
    channel_mix: dict[str, tuple[float, float, float, float, float, float]] = Field(
        default={
            "mass": (0.15, 0.30, 0.15, 0.25, 0.07, 0.08),
            "affluent": (0.20, 0.25, 0.20, 0.20, 0.08, 0.07),
            "private": (0.35, 0.30, 0.10, 0.10, 0.12, 0.03),
            "youth": (0.04, 0.12, 0.14, 0.55, 0.03, 0.12),
            "sme": (0.25, 0.30, 0.20, 0.10, 0.10, 0.05),
        },
        description="Contact channel weights (branch, phone, web, app, email, chat) by segment",
    )
    digital_tech: float = Field(
        default=2.0,
        ge=0,
        description="Digital channels (web, app, chat) weight × exp(k·(tech - 0.5)), branch and "
        "phone × exp(-k·(tech - 0.5))",
    )
    no_web_account_digital: float = rate(
        0.3, "Digital weight factor for persons without web/app id"
    )
    anonymous_rate: float = rate(
        0.03,
        "Share of non-phone contacts with no customer reference (walk-ins, "
        "logged-out sessions); phone contacts are unidentified when the person has no CTI id",
    )
    # --- waits, handling, abandonment ---
    wait_median_seconds: dict[str, float] = Field(
        default=_per_channel(240, 75, 0, 0, 14_400, 40),
        description="Median wait per channel in normal times (email: time to first reply; web "
        "and app are self-service: no wait)",
    )
    wait_sigma: dict[str, float] = Field(
        default=_per_channel(0.7, 0.8, 0, 0, 0.9, 0.7),
        description="Log-normal σ of waits per channel",
    )
    wait_experience: float = Field(
        default=0.25, description="log wait change per unit of experience propensity e"
    )
    handle_median_seconds: dict[str, float] = Field(
        default=_per_channel(720, 330, 240, 150, 420, 480),
        description="Median handle (session) time per channel",
    )
    handle_sigma: dict[str, float] = Field(
        default=_per_channel(0.5, 0.6, 0.8, 0.7, 0.6, 0.5),
        description="Log-normal σ of handle times per channel",
    )
    patience_seconds: dict[str, float] = Field(
        default=_per_channel(1_800, 420, 0, 0, 1e9, 300),
        description="Mean (exponential) patience in the queue; abandoned when patience < wait",
    )
    self_service_failure: float = rate(0.08, "P(web/app journey abandoned) at e = 0")
    # --- first-contact resolution, transfers, complaints, repeats ---
    fcr_logit: dict[str, float] = Field(
        default=_per_channel(1.6, 1.2, 1.4, 1.6, 0.6, 1.0),
        description="Logit of first-contact resolution per channel at e = 0 and a typical wait",
    )
    fcr_experience: float = Field(default=0.5, description="FCR logit change per unit of -e")
    fcr_wait: float = Field(
        default=0.6, description="FCR logit fall per unit of log1p(wait / normal median)"
    )
    transfer_share: float = rate(0.35, "Share of unresolved assisted contacts transferred")
    complaint_logit: float = Field(
        default=-2.2, description="Logit of a complaint after a failed contact, at e = 0"
    )
    complaint_experience: float = Field(default=0.6, description="Complaint logit per unit of e")
    complaint_wait: float = Field(
        default=0.8, description="Complaint logit per unit of log1p(wait / normal median)"
    )
    repeat_rate: float = rate(0.55, "P(customer contacts again after a failed contact)")
    repeat_gap_days: float = Field(default=2.0, gt=0, description="Mean days until the repeat")
    repeat_same_channel: float = rate(0.5, "P(repeat uses the same channel; otherwise phone)")
    max_repeat_rounds: int = Field(default=3, ge=0, le=10, description="Repeat chains stop here")
    final_complaint_rate: float = rate(0.2, "P(a defector complains shortly before leaving), e = 0")
    final_complaint_experience: float = Field(
        default=0.8, description="Final-complaint logit per unit of e"
    )
    # --- seasonality and incidents ---
    weekday_contact_weights: tuple[float, float, float, float, float, float, float] = Field(
        default=(1.25, 1.1, 1.0, 1.0, 1.05, 0.7, 0.5),
        description="Contact volume by day of week, Monday first (branches close on Sunday)",
    )
    weekday_wait_multiplier: tuple[float, float, float, float, float, float, float] = Field(
        default=(1.35, 1.1, 1.0, 1.0, 1.05, 0.9, 0.85),
        description="Wait multiplier by day of week, Monday first",
    )
    peak_hour_wait_multiplier: float = Field(
        default=1.3, gt=0, description="Wait multiplier for contacts 11:00-14:00 local"
    )
    incidents: list[Incident] = Field(
        default=[
            Incident(
                week=20, channel="phone", wait_multiplier=3.0, label="Call-centre telephony outage"
            ),
            Incident(
                week=44, channel="chat", wait_multiplier=2.0, label="Chat vendor capacity cut"
            ),
            Incident(
                week=32,
                start_day=2,
                days=1,
                channel="app",
                failure_rate=0.9,
                switch_to_phone=0.7,
                label="Mobile app outage (login service down)",
            ),
            Incident(
                week=32,
                start_day=2,
                days=1,
                channel="phone",
                wait_multiplier=2.0,
                label="Phone queues during the app outage",
            ),
            Incident(
                week=56,
                channel="web",
                failure_rate=0.4,
                repeat_rate=0.85,
                label="Web login incident (one-time passwords not delivered)",
            ),
        ],
        description="Incidents: a channel's waits multiplied, web/app journeys failing, customers "
        "switching to the phone (incidents past the end are ignored)",
    )


# ---------------------------------------------------------------------------------------------
# helpers


def _decimal_cents(cents: NDArray[np.int64]) -> pa.Array:
    """Exact ``decimal128(18, 2)`` from integer cents (two's-complement 128-bit words)."""
    words = np.empty((cents.size, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), cents.size, [None, pa.py_buffer(words)])


def _lookup(column: pa.ChunkedArray, values: tuple[str, ...]) -> NDArray[np.int64]:
    idx = pc.index_in(column, value_set=pa.array(list(values), pa.string()))
    return np.asarray(idx.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# generator


def generate(persons: pa.Table, ctx: ChunkContext, params: BehaviourParams) -> dict[str, pa.Table]:
    """Transactions, interactions and their truth for one chunk of persons."""
    rng = ctx.rng(Stream.BEHAVIOUR)
    n = persons.num_rows
    weeks = float(ctx.weeks)
    epoch_s = dt.datetime.combine(ctx.start, dt.time(), tzinfo=dt.UTC).timestamp() if n else 0.0

    # Person attributes the processes condition on.
    mkt_idx = _lookup(persons["market"], MARKETS)
    cities = tuple(CITY_INFO)
    city_idx = pc.index_in(persons["city"], value_set=pa.array(cities, pa.string()))
    known = city_idx.is_valid().to_numpy(zero_copy_only=False)
    city_idx = np.asarray(city_idx.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    city_tz = np.array([CITY_INFO[c][0] for c in cities], dtype=np.float64)
    city_cur = np.array([CURRENCIES.index(CITY_INFO[c][1]) for c in cities])
    mkt_tz = np.array([MARKET_DEFAULT[m][0] for m in MARKETS], dtype=np.float64)
    mkt_cur = np.array([CURRENCIES.index(MARKET_DEFAULT[m][1]) for m in MARKETS])
    tz_h = np.where(known, city_tz[city_idx], mkt_tz[mkt_idx])
    cur_idx = np.where(known, city_cur[city_idx], mkt_cur[mkt_idx]).astype(np.int64)
    seg_idx = _lookup(persons["segment"], SEGMENTS)
    tech = persons["tech_affinity"].to_numpy()
    has_web = persons["web_id"].is_valid().to_numpy(zero_copy_only=False)

    # --- latent experience and the BG/NBD + Gamma-Gamma individual parameters --------------
    e = rng.standard_normal(n)
    z = rng.standard_normal(n)
    rho = params.copula_rho
    p_drop = beta_ppf_of_normal(rho * e + np.sqrt(1.0 - rho**2) * z, params.bgnbd_a, params.bgnbd_b)
    lam = rng.gamma(params.bgnbd_r, 1.0 / params.bgnbd_alpha, n)
    nu = rng.gamma(params.gg_q, 1.0 / params.gg_gamma, n)
    # Purchase times run on a seasonal clock (cxo.synth.seasonality): uniform in operational
    # time, so counts are exactly BG/NBD while timing follows paydays and festivals.
    clock = Clock(ctx.start, ctx.weeks, params.purchase_seasonality)
    acquisition = clock.forward(np.full(n, min(params.acquisition_weeks, weeks * 0.5)), mkt_idx)
    t0 = clock.inverse(rng.random(n) * acquisition, mkt_idx)
    T = weeks - t0

    # BG/NBD: Poisson(λ) purchases; after each repeat purchase the person drops out w.p. p, i.e.
    # dropout follows repeat purchase K ~ Geometric(p). Observed repeats x = min(N(T), K), and the
    # first x arrival times are the first x order statistics of N(T) uniforms on (0, T].
    n_poisson = rng.poisson(lam * T)
    k_drop = rng.geometric(p_drop)
    x = np.minimum(n_poisson, k_drop)
    owner = np.repeat(np.arange(n), n_poisson)
    keys = np.sort(owner + rng.random(owner.size))
    starts = np.cumsum(n_poisson) - n_poisson
    rank = np.arange(owner.size) - starts[owner]
    keep = rank < x[owner]
    rep_owner = owner[keep]
    y0 = clock.forward(t0, mkt_idx)  # operational time of the first purchase
    rep_y = y0[rep_owner] + (keys[keep] - rep_owner) * (weeks - y0[rep_owner])
    rep_t = np.maximum(clock.inverse(rep_y, mkt_idx[rep_owner]), t0[rep_owner])
    t_x = np.zeros(n)
    has_rep = x > 0
    last = np.cumsum(x)[has_rep] - 1
    t_x[has_rep] = rep_t[last] - t0[has_rep]
    dropped = k_drop <= n_poisson
    alive_end = np.where(dropped, t0 + t_x, weeks)  # weeks since start

    transactions = _transactions(
        rng,
        ctx,
        params,
        epoch_s,
        t0,
        rep_owner,
        rep_t,
        nu,
        tz_h,
        cur_idx,
        seg_idx,
        tech,
        persons["crm_id"].combine_chunks(),
    )
    interactions, ix_truth = _interactions(
        rng,
        ctx,
        params,
        persons,
        epoch_s,
        e,
        alive_end,
        dropped,
        tz_h,
        mkt_idx,
        seg_idx,
        tech,
        has_web,
    )

    expected = np.where(
        p_drop > 1e-9, -np.expm1(-lam * p_drop * T) / p_drop, lam * T
    )  # E[X(T) | λ, p], FHL (2005) eq. (7) conditional on λ and p
    scale = np.array([params.currency_units[c] for c in CURRENCIES])[cur_idx]
    dropout_week = np.floor(alive_end).astype(np.int32)
    truth = pa.table(
        {
            "person_id": persons["person_id"],
            "experience": pa.array(e, pa.float64()),
            "purchase_rate": pa.array(lam, pa.float64()),
            "dropout_probability": pa.array(p_drop, pa.float64()),
            "spend_rate": pa.array(nu, pa.float64()),
            "mean_spend": pa.array(params.gg_p / nu * scale, pa.float64()),
            "currency": _strings(CURRENCIES, cur_idx),
            "first_purchase_at": _timestamps(epoch_s, t0 * WEEK_S, tz_h),
            "T_weeks": pa.array(T, pa.float64()),
            "repeat_transactions": pa.array(x, pa.int64()),
            "last_repeat_weeks": pa.array(t_x, pa.float64()),
            "dropout_at": pa.array(
                np.round((epoch_s + alive_end * WEEK_S - tz_h * 3600) * 1e6).astype(np.int64),
                pa.timestamp("us", tz="UTC"),
                mask=~dropped,
            ),
            "dropout_week": pa.array(dropout_week, pa.int32(), mask=~dropped),
            "alive_at_end": pa.array(~dropped, pa.bool_()),
            "expected_repeat_transactions": pa.array(expected, pa.float64()),
        }
    )
    out = {
        "transactions": transactions,
        "interactions": interactions,
        "truth/customer_behaviour": truth,
        "truth/interactions": ix_truth,
    }
    if ctx.chunk_index == 0:
        out["truth/incidents"] = _incident_table(ctx, params)
        out["truth/purchase_calendar"] = calendar_table(
            ctx.start, ctx.weeks, params.purchase_seasonality
        )
    return out


def _transactions(
    rng: np.random.Generator,
    ctx: ChunkContext,
    params: BehaviourParams,
    epoch_s: float,
    t0: NDArray[np.float64],
    rep_owner: NDArray[np.int64],
    rep_t: NDArray[np.float64],
    nu: NDArray[np.float64],
    tz_h: NDArray[np.float64],
    cur_idx: NDArray[np.int64],
    seg_idx: NDArray[np.int64],
    tech: NDArray[np.float64],
    crm_ids: pa.Array,
) -> pa.Table:
    """The first purchase at ``t0`` plus the repeat purchases, each with a Gamma-Gamma amount."""
    n = t0.size
    owner = np.concatenate([np.arange(n), rep_owner])
    t = np.concatenate([t0, rep_t])
    order = np.argsort(owner * 1e4 + t)  # by person, then time (t < 10^4 weeks)
    owner, t = owner[order], t[order]
    m = owner.size
    units = np.array([params.currency_units[c] for c in CURRENCIES])
    base = rng.gamma(params.gg_p, 1.0, m) / nu[owner]  # Gamma(p, rate ν)
    cents = np.maximum(np.round(base * units[cur_idx[owner]] * 100), 1).astype(np.int64)
    amount = _decimal_cents(cents)
    product = _draw_grouped(rng, _cum(PRODUCT_MIX), seg_idx[owner])
    tt = tech[owner]
    ch_w = np.column_stack(
        [0.2 + 0.5 * tt, np.full(m, 0.15), 0.05 + 0.3 * (1 - tt), np.full(m, 0.05), np.full(m, 0.2)]
    )
    channel = _draw_index(rng, _cum(ch_w))
    crm = pc.take(crm_ids, pa.array(owner, pa.int32()))
    return pa.table(
        {
            "source_system": _strings(("crm",), np.zeros(m, dtype=np.int64)),
            "source_record_id": _ids(f"TX-{ctx.chunk_index:05d}-", m),
            "customer_ref": crm,
            "occurred_at": _timestamps(epoch_s, t * WEEK_S, tz_h[owner]),
            "amount": amount,
            "currency": _strings(CURRENCIES, cur_idx[owner]),
            "product": _strings(PRODUCTS, product),
            "channel": _strings(TX_CHANNELS, channel),
        }
    )
