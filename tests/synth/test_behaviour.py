"""The behaviour generator: exact BG/NBD + Gamma-Gamma marginals, experience-driven defection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats
from scipy.special import betaincinv, ndtr

from cxo.interactions import models
from cxo.synth import behaviour, people, systems
from cxo.synth.behaviour import BehaviourParams
from cxo.synth.bgnbd import beta_ppf_of_normal, fit_bgnbd, fit_gamma_gamma
from cxo.synth.context import ChunkContext
from cxo.synth.people import PeopleParams
from cxo.synth.seasonality import PurchaseSeasonality
from cxo.synth.systems import SystemsParams

START = dt.date(2025, 1, 6)
WEEK_US = 7 * 86_400 * 1_000_000


def _chunk(n: int, *, seed: int = 11, index: int = 0, weeks: int = 78) -> ChunkContext:
    return ChunkContext(
        seed=seed, chunk_index=index, offset=index * n, n=n, start=START, weeks=weeks
    )


def _persons(ctx: ChunkContext) -> pa.Table:
    return systems.assign(people.generate(ctx, PeopleParams()), ctx, SystemsParams())


def _run(
    ctx: ChunkContext, params: BehaviourParams | None = None
) -> tuple[pa.Table, dict[str, pa.Table]]:
    persons = _persons(ctx)
    return persons, behaviour.generate(persons, ctx, params or BehaviourParams())


@pytest.fixture(scope="module")
def world() -> tuple[pa.Table, dict[str, pa.Table]]:
    return _run(_chunk(50_000))


def _store_columns(table: object) -> set[str]:
    return {c.name for c in table.c} - {"id", "customer_id", "created_at"}  # type: ignore[attr-defined]


def _start_us() -> int:
    return int(dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC).timestamp() * 1_000_000)


def _rfm(tx: pa.Table, weeks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x, t_x, T (weeks) and the customer order, from the transactions table alone."""
    df = tx.select(["customer_ref"]).to_pandas()
    df["t"] = (tx["occurred_at"].cast(pa.int64()).to_numpy() - _start_us()) / WEEK_US
    g = df.groupby("customer_ref", sort=True)["t"]
    first, last, count = g.min(), g.max(), g.count()
    # T needs the person's local end of the period; callers take it from the truth file.
    return (
        (count - 1).to_numpy(),
        (last - first).to_numpy(),
        (weeks - first).to_numpy(),
        np.asarray(first.index),
    )


# --- contract ----------------------------------------------------------------------------------


def test_outputs_match_the_store_tables(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    assert set(out) >= {
        "transactions",
        "interactions",
        "truth/customer_behaviour",
        "truth/incidents",
    }
    # customer_ref is the file's name for the store's customer_record_id (see the mapping files).
    store_i = _store_columns(models.interactions) - {"customer_record_id"}
    store_t = _store_columns(models.transactions) - {"customer_record_id"}
    assert set(out["interactions"].column_names) == store_i | {"customer_ref"}
    assert set(out["transactions"].column_names) == store_t | {"customer_ref"}
    assert out["transactions"].schema.field("amount").type == pa.decimal128(18, 2)


def test_same_seed_same_data_and_chunks_differ() -> None:
    _, a = _run(_chunk(2_000))
    _, b = _run(_chunk(2_000))
    for name in a:
        assert a[name].equals(b[name]), name
    _, c = _run(_chunk(2_000, index=1))
    assert not a["transactions"]["amount"].equals(c["transactions"]["amount"])
    assert "truth/incidents" not in c  # written once per world


def test_interaction_values(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    ix = out["interactions"]
    assert set(pc.unique(ix["channel"]).to_pylist()) <= set(models.CHANNELS)
    assert set(pc.unique(ix["stage"]).to_pylist()) == set(models.STAGES)
    assert set(pc.unique(ix["outcome"]).to_pylist()) == set(behaviour.OUTCOMES)
    assert pc.min(ix["wait_seconds"]).as_py() >= 0
    assert pc.min(ix["handle_seconds"]).as_py() > 0
    assert ix["wait_seconds"].null_count == 0
    assert pc.all(pc.greater_equal(ix["ended_at"], ix["started_at"])).as_py()
    assert pc.count_distinct(ix["source_record_id"]).as_py() == ix.num_rows
    start = _start_us() - 10 * 3_600_000_000  # earliest local midnight in UTC (Sydney)
    started = ix["started_at"].cast(pa.int64()).to_numpy()
    assert started.min() >= start
    assert started.max() < start + 78 * WEEK_US + 10 * 3_600_000_000
    # Abandoned queue contacts have no handle time; everything else does.
    abandoned_queue = pc.and_(
        pc.equal(ix["outcome"], "abandoned"), pc.is_in(ix["channel"], pa.array(["phone", "chat"]))
    )
    assert pc.all(pc.is_null(pc.filter(ix["handle_seconds"], abandoned_queue))).as_py()


def test_customer_ref_belongs_to_the_person(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    persons, out = world
    ix = out["interactions"].to_pandas()
    who = out["truth/interactions"].to_pandas()
    assert (ix["source_record_id"] == who["source_record_id"]).all()
    ids = persons.select(["person_id", "crm_id", "web_id", "cti_id", "branch_id"]).to_pandas()
    joined = who[["person_id"]].merge(ids, on="person_id", how="left")
    ref = ix["customer_ref"]
    own = (
        ref.isna()
        | (ref == joined["crm_id"])
        | (ref == joined["web_id"])
        | (ref == joined["cti_id"])
        | (ref == joined["branch_id"])
    )
    assert own.all()
    phone = ix["channel"] == "phone"
    assert (ref[phone].isna() == joined["cti_id"][phone].isna()).all()  # unidentified callers
    assert 0.01 < ref[~phone].isna().mean() < 0.06  # anonymous contacts
    tx = out["transactions"]
    assert set(pc.unique(tx["customer_ref"]).to_pylist()) == set(persons["crm_id"].to_pylist())


def test_currency_follows_market(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    persons, out = world
    tx = out["transactions"].select(["customer_ref", "currency", "amount"]).to_pandas()
    p = persons.select(["crm_id", "market", "city"]).to_pandas()
    j = tx.merge(p, left_on="customer_ref", right_on="crm_id")
    assert (j.loc[j.market == "CN", "currency"] == "CNY").all()
    assert (j.loc[j.market == "HK", "currency"] == "HKD").all()
    assert (j.loc[j.city == "London", "currency"] == "GBP").all()
    assert (j.loc[j.city == "Sydney", "currency"] == "AUD").all()
    assert (j["amount"].astype(float) > 0).all()


# --- truth ---------------------------------------------------------------------------------------


def test_transactions_are_the_stated_purchase_history(
    world: tuple[pa.Table, dict[str, pa.Table]],
) -> None:
    persons, out = world
    truth = out["truth/customer_behaviour"].to_pandas()
    truth["crm_id"] = persons["crm_id"].to_pylist()
    x, t_x, _, order = _rfm(out["transactions"], 78)
    truth = truth.set_index("crm_id").loc[order]
    assert (truth["repeat_transactions"].to_numpy() == x).all()
    np.testing.assert_allclose(truth["last_repeat_weeks"].to_numpy(), t_x, atol=1e-6)
    # E[X(T) | λ, p] averages to the observed repeat count.
    assert x.mean() == pytest.approx(truth["expected_repeat_transactions"].mean(), rel=0.05)


def test_marginals_are_exact_despite_the_copula(
    world: tuple[pa.Table, dict[str, pa.Table]],
) -> None:
    _, out = world
    t = out["truth/customer_behaviour"]
    prm = BehaviourParams()
    p = t["dropout_probability"].to_numpy()
    assert stats.kstest(p, stats.beta(prm.bgnbd_a, prm.bgnbd_b).cdf).pvalue > 1e-3
    lam = t["purchase_rate"].to_numpy()
    assert stats.kstest(lam, stats.gamma(prm.bgnbd_r, scale=1 / prm.bgnbd_alpha).cdf).pvalue > 1e-3
    e = t["experience"].to_numpy()
    assert stats.kstest(e, "norm").pvalue > 1e-3
    # The copula ties p to experience: Spearman ρ_s = (6/π)·asin(ρ/2) for a Gaussian copula.
    rho_s = stats.spearmanr(e, p).statistic
    assert rho_s == pytest.approx(6 / np.pi * np.arcsin(prm.copula_rho / 2), abs=0.02)


def test_tabulated_beta_quantile_is_accurate() -> None:
    s = np.random.default_rng(0).normal(0, 2, 200_000)
    exact = betaincinv(0.793, 2.426, ndtr(s))
    tail = exact > 1e-12  # below that the table clamps p to 1e-12 (such a person never leaves)
    assert np.abs(beta_ppf_of_normal(s, 0.793, 2.426) / exact - 1)[tail].max() < 1e-6
    for a, b in [(0.3, 5.0), (4.0, 0.7)]:
        # Far-tail shapes: scipy's own inverse is the limit here; absolute error stays tiny.
        exact = betaincinv(a, b, ndtr(s))
        assert np.abs(beta_ppf_of_normal(s, a, b) - exact).max() < 5e-5


def test_bad_experience_raises_defection(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    t = out["truth/customer_behaviour"].to_pandas()
    dropped = (~t["alive_at_end"]).astype(float)
    r, pvalue = stats.pearsonr(t["experience"], dropped)
    assert r > 0.05
    assert pvalue < 1e-10
    # …and the signal is observable: defectors complained more often.
    ix = out["interactions"].to_pandas()
    ix["person_id"] = out["truth/interactions"]["person_id"].to_numpy()
    ix = ix.merge(t[["person_id", "alive_at_end"]], on="person_id")
    share = ix.groupby("alive_at_end")["outcome"].apply(lambda o: (o == "complaint").mean())
    assert share[False] > 1.3 * share[True]  # per contact: defectors complain more often


def test_no_contact_after_dropout(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    ix = pa.table(
        {
            "person_id": out["truth/interactions"]["person_id"],
            "started_at": out["interactions"]["started_at"],
        }
    )
    t = out["truth/customer_behaviour"].select(["person_id", "dropout_at"])
    j = ix.join(t, "person_id").filter(pc.is_valid(pc.field("dropout_at")))
    assert j.num_rows > 0
    assert pc.all(pc.less_equal(j["started_at"], j["dropout_at"])).as_py()


def test_incident_week_triples_phone_waits(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    inc = out["truth/incidents"].to_pylist()
    phone = next(i for i in inc if i["channel"] == "phone" and i["days"] == 7)
    ix = out["interactions"].select(["channel", "started_at", "wait_seconds"]).to_pandas()
    ix["offered"] = out["truth/interactions"]["offered_wait_seconds"].to_numpy()
    ix["in_incident"] = out["truth/interactions"]["in_incident"].to_numpy()
    started = out["interactions"]["started_at"].cast(pa.int64()).to_numpy()
    ix["week"] = (started - _start_us() + 8 * 3_600_000_000) // WEEK_US
    p = ix[ix.channel == "phone"]
    week = p["week"]
    close = abs(week - phone["week"]) <= 5
    during = p[p.in_incident & close]
    assert set(week[p.in_incident & close]) <= {phone["week"], phone["week"] + 1}  # UTC vs local
    near = p[(~p.in_incident) & close]
    ratio = during["offered"].mean() / near["offered"].mean()
    assert ratio == pytest.approx(phone["wait_multiplier"], rel=0.12)
    # Recorded waits (abandoners leave early) still rise steeply, and so does abandonment.
    assert during["wait_seconds"].median() > 2 * near["wait_seconds"].median()


def test_weekly_seasonality(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    _, out = world
    ix = out["interactions"].select(["channel", "started_at"]).to_pandas()
    local = ix["started_at"].dt.tz_convert("Asia/Shanghai")
    dow = local.dt.day_of_week
    counts = dow.value_counts()
    assert counts[0] > 1.8 * counts[6]  # Mondays are busier than Sundays
    branch_hours = local[ix.channel == "branch"].dt.hour
    assert ((branch_hours >= 9) & (branch_hours < 17)).mean() > 0.55  # most are CN/HK local


# --- parameter recovery --------------------------------------------------------------------------


@pytest.mark.slow
def test_bgnbd_and_gamma_gamma_parameters_are_recovered() -> None:
    """Fit the reference estimators to 100k generated customers (two 50k chunks).

    Tolerances: BG/NBD r and α within 5 %, a and b within 15 %; Gamma-Gamma p, q, γ within 10 %.
    At CDNOW's 2,357 customers the standard errors are about 5 % (r), 9 % (α), 24 % (a) and 29 %
    (b); at 100k customers with twice the observation window they shrink to roughly 0.7, 1.2, 3
    and 4 %, so these bounds sit at 3-7 standard errors: a wrong generator fails, noise does not.
    """
    prm = BehaviourParams()
    xs, txs, Ts, xz, zbars = [], [], [], [], []
    for index in range(2):
        ctx = _chunk(50_000, seed=2024, index=index)
        _, out = _run(ctx, prm)
        truth = out["truth/customer_behaviour"]
        x = truth["repeat_transactions"].to_numpy()
        xs.append(x)
        txs.append(truth["last_repeat_weeks"].to_numpy())
        Ts.append(truth["T_weeks"].to_numpy())
        # Gamma-Gamma from the transactions themselves, in base units, repeat purchases only.
        tx = out["transactions"].select(["customer_ref", "occurred_at", "amount", "currency"])
        df = tx.to_pandas()
        df["base"] = df["amount"].astype(float) / df["currency"].map(prm.currency_units)
        df = df.sort_values(["customer_ref", "occurred_at"])
        df["rank"] = df.groupby("customer_ref").cumcount()
        rep = df[df["rank"] > 0].groupby("customer_ref")["base"].agg(["count", "mean"])
        xz.append(rep["count"].to_numpy())
        zbars.append(rep["mean"].to_numpy())
    fit = fit_bgnbd(np.concatenate(xs), np.concatenate(txs), np.concatenate(Ts))
    assert fit.n == 100_000
    assert fit.r == pytest.approx(prm.bgnbd_r, rel=0.05)
    assert fit.alpha == pytest.approx(prm.bgnbd_alpha, rel=0.05)
    assert fit.a == pytest.approx(prm.bgnbd_a, rel=0.15)
    assert fit.b == pytest.approx(prm.bgnbd_b, rel=0.15)
    gg = fit_gamma_gamma(np.concatenate(xz), np.concatenate(zbars))
    assert gg.p == pytest.approx(prm.gg_p, rel=0.10)
    assert gg.q == pytest.approx(prm.gg_q, rel=0.10)
    assert gg.gamma == pytest.approx(prm.gg_gamma, rel=0.10)


# --- purchase seasonality ---------------------------------------------------------------------


def _local(persons: pa.Table, table: pa.Table, key: str, column: str) -> pd.DataFrame:
    """``table`` with the person's market and the local timestamp of ``column``."""
    people_ = persons.select([key, "market", "city"]).to_pandas()
    df = table.to_pandas().merge(people_, on=key, how="left")
    offset = df["city"].map(lambda c: behaviour.CITY_INFO[c][0])
    df["local"] = df[column].dt.tz_convert(None) + pd.to_timedelta(offset, unit="h")
    df["date"] = df["local"].dt.normalize()
    return df


def _daily_ratio(df: pd.DataFrame, day: str, span: int = 3) -> float:
    """Count on ``day`` over the mean count on the same weekday ``span`` weeks either side."""
    daily = df.groupby("date").size()
    d = pd.Timestamp(day)
    ref = [daily.get(d + pd.Timedelta(weeks=k), 0) for k in range(-span, span + 1) if k]
    return float(daily.get(d, 0) / np.mean(ref))


def test_seasonality_moves_purchase_times_not_counts(
    world: tuple[pa.Table, dict[str, pa.Table]],
) -> None:
    persons, out = world
    ctx = _chunk(50_000)
    flat = BehaviourParams(purchase_seasonality=PurchaseSeasonality(enabled=False))
    plain = behaviour.generate(persons, ctx, flat)
    seasonal, uniform = out["truth/customer_behaviour"], plain["truth/customer_behaviour"]
    # Same person parameters; the counts keep their distribution (only T moves a little, with
    # the first purchase), while the timing differs.
    for column in ("purchase_rate", "dropout_probability", "spend_rate"):
        assert seasonal[column].equals(uniform[column]), column
    x_s = seasonal["repeat_transactions"].to_numpy()
    x_u = uniform["repeat_transactions"].to_numpy()
    assert x_s.mean() == pytest.approx(x_u.mean(), rel=0.03)
    assert (x_s == 0).mean() == pytest.approx((x_u == 0).mean(), abs=0.01)
    assert not seasonal["last_repeat_weeks"].equals(uniform["last_repeat_weeks"])

    by_crm = persons.rename_columns(
        ["customer_ref" if c == "crm_id" else c for c in persons.column_names]
    )
    tx = _local(by_crm, out["transactions"], "customer_ref", "occurred_at")
    cn, en = tx[tx.market == "CN"], tx[tx.market == "EN"]
    assert _daily_ratio(cn, "2025-11-11") > 2.2  # Singles' Day (2.5×, on the payday week)
    before = cn[(cn.date >= "2026-02-03") & (cn.date < "2026-02-17")].shape[0] / 14
    during = cn[(cn.date >= "2026-02-17") & (cn.date < "2026-02-24")].shape[0] / 7
    assert before > 1.8 * during  # shopping before Chinese New Year, quiet during the holiday
    xmas = en[(en.date >= "2025-12-01") & (en.date < "2025-12-25")].shape[0]
    october = en[(en.date >= "2025-10-06") & (en.date < "2025-10-30")].shape[0]
    assert xmas > 1.2 * october
    assert (tx["local"].dt.hour < 6).mean() < 0.04  # few purchases at night
    cal = out["truth/purchase_calendar"].to_pandas()
    assert cal.groupby("market")["relative_intensity"].mean().round(9).eq(1).all()
    assert "Singles' Day (11.11)" in set(cal.loc[cal.date == dt.date(2025, 11, 11), "events"])


# --- digital incidents ------------------------------------------------------------------------


def _contacts(persons: pa.Table, out: dict[str, pa.Table]) -> pd.DataFrame:
    ix = out["interactions"].select(["source_record_id", "channel", "started_at", "outcome"])
    ix = ix.join(out["truth/interactions"], "source_record_id")
    df = _local(persons, ix, "person_id", "started_at")
    df["day"] = (df["date"] - pd.Timestamp(START)).dt.days
    return df


def _incident(out: dict[str, pa.Table], channel: str) -> dict[str, object]:
    return next(
        i
        for i in out["truth/incidents"].to_pylist()
        if i["channel"] == channel and i["failure_rate"] is not None
    )


def test_app_outage_day_is_detectable(world: tuple[pa.Table, dict[str, pa.Table]]) -> None:
    persons, out = world
    inc = _incident(out, "app")
    day = (inc["starts_on"] - START).days
    df = _contacts(persons, out)
    app = df[df.channel == "app"]
    failed = app.groupby("day")["outcome"].apply(lambda o: (o == "abandoned").mean())
    others = failed[(abs(failed.index - day) <= 28) & (failed.index != day)]
    assert failed[day] > 0.7 and others.max() < 0.25  # app journeys fail that day only
    phone = df[df.channel == "phone"].groupby("day").size()
    same_weekday = [phone[day + 7 * k] for k in (-3, -2, -1, 1, 2, 3)]
    assert phone[day] > 1.2 * np.mean(same_weekday)  # customers call instead
    switch = df[df.kind == "switch"]
    assert len(switch) > 30 and set(switch.channel) == {"phone"}
    assert set(switch.day) <= {day, day + 1}  # the same evening at the latest


def test_web_login_incident_raises_repeat_contacts(
    world: tuple[pa.Table, dict[str, pa.Table]],
) -> None:
    persons, out = world
    inc = _incident(out, "web")
    first = (inc["starts_on"] - START).days
    df = _contacts(persons, out)
    web = df[df.channel == "web"].copy()
    web["week"] = (web.day - first) // 7  # 0 = the incident week
    per_week = web.groupby("week").agg(
        failed=("outcome", lambda o: (o == "abandoned").mean()),
        repeats=("kind", lambda k: (k == "repeat").sum()),
    )
    around = per_week.loc[[-4, -3, -2, 2, 3, 4]]
    assert per_week.loc[0, "failed"] > 3 * around["failed"].mean()
    assert per_week.loc[0, "repeats"] > 1.6 * around["repeats"].mean()
    flagged = web[web.in_incident]
    assert set(flagged.week) <= {-1, 0, 1}  # local days vs the UTC-day estimate
