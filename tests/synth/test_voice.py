"""The survey generator: structural model recovery, truth labels, missingness and verbatims."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cxo.synth import people, systems, verbatims, voice
from cxo.synth.context import ChunkContext
from cxo.synth.people import PeopleParams
from cxo.synth.systems import SystemsParams

N_BIG = 30_000


def _ctx(n: int, chunk_index: int = 0, seed: int = 7) -> ChunkContext:
    return ChunkContext(
        seed=seed,
        chunk_index=chunk_index,
        offset=chunk_index * n,
        n=n,
        start=dt.date(2025, 1, 6),
        weeks=78,
    )


def _persons(ctx: ChunkContext) -> pa.Table:
    return systems.assign(people.generate(ctx, PeopleParams()), ctx, SystemsParams())


@pytest.fixture(scope="module")
def big() -> dict[str, pa.Table]:
    """Everyone invited and responding: about 30k responses."""
    ctx = _ctx(N_BIG)
    params = voice.VoiceParams(invite_rate=1.0, response_rate=1.0)
    return voice.generate(_persons(ctx), ctx, params)


@pytest.fixture(scope="module")
def answers(big: dict[str, pa.Table]) -> pd.DataFrame:
    return big["survey_answers"].to_pandas()


@pytest.fixture(scope="module")
def wide(big: dict[str, pa.Table], answers: pd.DataFrame) -> pd.DataFrame:
    """One row per response, one column per (scale, item_code)."""
    a = answers
    a = a[a["item_code"] != "comment"]
    w = a.pivot(
        index="response_source_record_id", columns=["scale", "item_code"], values="value_num"
    )
    truth = big["truth/survey_truth"].to_pandas().set_index("source_record_id")
    return w.reindex(truth.index)


def test_same_seed_same_tables_and_other_chunk_differs() -> None:
    ctx = _ctx(5_000)
    persons = _persons(ctx)
    a = voice.generate(persons, ctx, voice.VoiceParams())
    b = voice.generate(persons, ctx, voice.VoiceParams())
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name
    ctx1 = _ctx(5_000, chunk_index=1)
    c = voice.generate(_persons(ctx1), ctx1, voice.VoiceParams())
    assert "truth/segment_priorities" not in c  # written once, by chunk 0
    for name in c:  # stable schemas: the chunked writer casts every chunk to the first one
        assert c[name].schema == a[name].schema, name
    assert not c["survey_responses"].equals(a["survey_responses"])


def test_rates_of_fieldwork() -> None:
    ctx = _ctx(50_000)
    out = voice.generate(_persons(ctx), ctx, voice.VoiceParams())
    truth = out["truth/survey_truth"].to_pandas()
    originals = truth[~truth["is_duplicate"]]
    # 15 % invited × ~35 % respond (response rate scales with relationship orientation)
    assert 0.035 < len(originals) / 50_000 < 0.07
    completed = originals[~originals["is_breakoff"]]
    share = len(out["truth/verbatims"]) / len(truth[~truth["is_breakoff"]])
    assert 0.35 < share < 0.45, share
    assert len(completed) > 0
    resp = out["survey_responses"].to_pandas()
    assert resp["customer_ref"].str.startswith("CB-").all()
    assert resp["source_record_id"].is_unique


def test_locale_follows_market(big: dict[str, pa.Table]) -> None:
    resp = big["survey_responses"].to_pandas()
    truth = big["truth/survey_truth"].to_pandas()
    zh = (resp["locale"] == "zh_CN").groupby(truth["market"]).mean()
    assert zh["CN"] > 0.9 and 0.65 < zh["HK"] < 0.85 and zh["EN"] < 0.1
    assert set(resp["locale"]) == {"en", "zh_CN"}


def test_value_ranges_per_item(answers: pd.DataFrame) -> None:
    a = answers
    items = {i.code: i for i in voice.ITEMS}
    num = a[a["item_code"] != "comment"]
    lo = num["item_code"].map({c: i.low for c, i in items.items()})
    hi = num["item_code"].map({c: i.high for c, i in items.items()})
    assert ((num["value_num"] >= lo) & (num["value_num"] <= hi)).all()
    assert (num["value_num"] == np.round(num["value_num"])).all()
    assert set(num["item_code"]) == set(items) - {"comment"}
    sq = num[num["item_code"].str.startswith("sq")]
    assert set(sq["scale"]) == {"importance", "performance"}
    assert set(num.loc[~num["item_code"].str.startswith("sq"), "scale"]) == {"single"}
    com = a[a["item_code"] == "comment"]
    assert com["value_num"].isna().all() and com["value_text"].str.len().gt(0).all()


def test_bad_response_rates(big: dict[str, pa.Table]) -> None:
    t = big["truth/survey_truth"].to_pandas()
    orig = t[~t["is_duplicate"]]
    p = voice.VoiceParams()
    n = len(orig)

    def close(share: float, rate: float) -> bool:
        return abs(share - rate) < 4 * np.sqrt(rate * (1 - rate) / n)

    assert close(orig["is_straight_liner"].mean(), p.straight_liner_rate)
    assert close(orig["is_speeder"].mean(), p.speeder_rate * (1 - p.straight_liner_rate))
    assert close(t["is_duplicate"].sum() / n, p.duplicate_rate)
    assert close(orig["is_breakoff"].mean(), p.breakoff_rate * (1 - p.straight_liner_rate))
    assert (t["is_bad"] == (t["is_straight_liner"] | t["is_speeder"] | t["is_duplicate"])).all()
    # speeders are fast
    fast = t.loc[t["is_speeder"], "duration_s"].median()
    assert fast < 0.3 * t.loc[~t["is_speeder"], "duration_s"].median()


def test_straight_liners_are_constant(big: dict[str, pa.Table], wide: pd.DataFrame) -> None:
    t = big["truth/survey_truth"].to_pandas().set_index("source_record_id")
    grid = [c for c in wide.columns if c[1].startswith(("sq", "rq_", "loy_")) or c[1] == "ces"]
    sl = wide.loc[t["is_straight_liner"], grid]
    assert len(sl) > 100
    assert sl.notna().all().all()
    assert (sl.nunique(axis=1) == 1).all()
    clean = wide.loc[~t["is_straight_liner"] & ~t["is_breakoff"], grid]
    assert (clean.nunique(axis=1) > 1).mean() > 0.99


def test_duplicates_really_duplicate(big: dict[str, pa.Table], answers: pd.DataFrame) -> None:
    t = big["truth/survey_truth"].to_pandas()
    a = answers.set_index("response_source_record_id").sort_index(kind="stable")
    resp = big["survey_responses"].to_pandas().set_index("source_record_id")
    dups = t[t["is_duplicate"]]
    assert len(dups) > 100
    for _, row in dups.head(50).iterrows():
        copy = a.loc[[row["source_record_id"]]].reset_index(drop=True)
        orig = a.loc[[row["duplicate_of"]]].reset_index(drop=True)
        pd.testing.assert_frame_equal(copy, orig)
        assert (
            resp.loc[row["source_record_id"], "customer_ref"]
            == resp.loc[row["duplicate_of"], "customer_ref"]
        )
        assert (
            resp.loc[row["source_record_id"], "started_at"]
            > resp.loc[row["duplicate_of"], "started_at"]
        )
    assert t.loc[~t["is_duplicate"], "duplicate_of"].isna().all()


def test_missingness_rate(big: dict[str, pa.Table]) -> None:
    t = big["truth/survey_truth"].to_pandas()
    clean = t[~t["is_straight_liner"] & ~t["is_breakoff"]]
    k = 66
    rate = clean["items_missing"].sum() / (len(clean) * k)
    assert abs(rate - voice.VoiceParams().item_missing_rate) < 0.002
    assert (t.loc[t["is_straight_liner"], "items_missing"] == 0).all()
    broke = t[t["is_breakoff"]]
    assert broke["items_missing"].mean() > 10
    resp = big["survey_responses"].to_pandas()
    assert (resp["completed_at"].isna() == t["is_breakoff"]).all()


def test_priorities_differ_by_segment_and_are_recovered(
    big: dict[str, pa.Table], wide: pd.DataFrame
) -> None:
    pri = big["truth/segment_priorities"].to_pandas()
    dims = pri[pri["level"] == "dimension"]
    top = dims[dims["rank"] == 1].set_index("segment")["dimension"]
    assert top.nunique() >= 3, top.to_dict()
    items = pri[pri["level"] == "item"]
    ranks = items.groupby("segment")["rank"].apply(list)
    assert len(ranks) == 5 and all(sorted(r) == list(range(1, 23)) for r in ranks)
    # Observed means of clean responses match the true means per segment and item.
    t = big["truth/survey_truth"].to_pandas().set_index("source_record_id")
    clean = ~t["is_bad"] & ~t["is_breakoff"]
    for scale in ("importance", "performance"):
        obs = wide.loc[clean, scale].groupby(t.loc[clean, "segment"]).mean()
        for seg in ("mass", "private", "youth"):
            truth = items[items["segment"] == seg].set_index("item_code")[scale]
            err = (obs.loc[seg, truth.index] - truth).abs().max()
            assert err < 0.15, (scale, seg, err)


SEM_DESC = """
TAN =~ sq01 + sq02 + sq03 + sq04
REL =~ sq05 + sq06 + sq07 + sq08 + sq09
RES =~ sq10 + sq11 + sq12 + sq13
ASS =~ sq14 + sq15 + sq16 + sq17
EMP =~ sq18 + sq19 + sq20 + sq21 + sq22
SQ =~ TAN + REL + RES + ASS + EMP
TRU =~ rq_trust_1 + rq_trust_2 + rq_trust_3
BEN =~ rq_benev_1 + rq_benev_2 + rq_benev_3
COM =~ rq_commit_1 + rq_commit_2 + rq_commit_3
SAT =~ rq_sat_1 + rq_sat_2 + rq_sat_3
CON =~ rq_conflict_1 + rq_conflict_2 + rq_conflict_3
RQ =~ TRU + BEN + COM + SAT + CON
LOY =~ loy_repurchase + loy_recommend + loy_wallet + loy_switch
RQ ~ SQ
LOY ~ RQ + SQ
"""


@pytest.mark.slow
def test_semopy_recovers_structural_paths(big: dict[str, pa.Table], wide: pd.DataFrame) -> None:
    """Standardised estimates on clean complete cases, within 0.05 of the stated paths."""
    import semopy

    t = big["truth/survey_truth"].to_pandas().set_index("source_record_id")
    cols = [("performance", c) for c in voice.SQ_CODES] + [
        ("single", c) for c in (*voice.RQ_CODES, *voice.LOY_CODES)
    ]
    data = wide.loc[~t["is_bad"] & ~t["is_breakoff"], cols].dropna()
    data.columns = [c[1] for c in cols]
    assert len(data) > 8_000
    model = semopy.Model(SEM_DESC)
    model.fit(data)
    est = model.inspect(std_est=True)
    p = voice.VoiceParams()

    def std(lval: str, rval: str, op: str) -> float:
        row = est[(est["lval"] == lval) & (est["rval"] == rval) & (est["op"] == op)]
        return float(row["Est. Std"].iloc[0])

    paths = {("RQ", "SQ"): p.sq_to_rq, ("LOY", "RQ"): p.rq_to_loy, ("LOY", "SQ"): p.sq_to_loy}
    for (lval, rval), stated in paths.items():
        assert abs(std(lval, rval, "~") - stated) < 0.05, (lval, rval, std(lval, rval, "~"))
    # second-order loadings: sign and size (item discretisation attenuates a little)
    for dim, name in zip(voice.DIMENSIONS, ("TAN", "REL", "RES", "ASS", "EMP"), strict=True):
        assert abs(std(name, "SQ", "~") - p.sq_dimension_loadings[dim]) < 0.06
    for dim, name in zip(voice.RQ_DIMENSIONS, ("TRU", "BEN", "COM", "SAT", "CON"), strict=True):
        assert abs(std(name, "RQ", "~") - p.rq_dimension_loadings[dim]) < 0.06
    assert std("loy_switch", "LOY", "~") < -0.5
    items = est[(est["op"] == "~") & est["lval"].str.startswith(("sq", "rq_"))]
    assert items["Est. Std"].between(0.65, 0.85).all()


def test_distinct_sentences_in_100k_verbatims() -> None:
    """Report how many distinct texts a 100k sample holds (the grammar is not a few templates)."""
    rng = np.random.default_rng(3)
    n = 100_000
    dim = rng.integers(0, 5, n)
    sent = rng.integers(0, 3, n)
    lang = np.array(["en", "zh", "mixed"])[rng.choice(3, n, p=[0.35, 0.55, 0.10])]
    u = rng.random((n, verbatims.N_UNIFORMS))
    texts = [
        verbatims.compose(int(dim[i]), verbatims.SENTIMENTS[sent[i]], str(lang[i]), u[i], 0.12)
        for i in range(n)
    ]
    distinct = len(set(texts))
    sentences = [
        s for t in texts for s in t.replace("!", ".").replace("。", ".").split(".") if s.strip()
    ]
    print(
        f"\n100k verbatims: {distinct} distinct texts ({distinct / n:.1%}); "
        f"{len(set(sentences))} distinct sentences of {len(sentences)}"
    )
    assert distinct / n > 0.5
    by_lang = pd.Series(texts).groupby(lang).nunique() / pd.Series(lang).value_counts()
    assert (by_lang > 0.3).all(), by_lang.to_dict()


def test_verbatim_truth(big: dict[str, pa.Table], answers: pd.DataFrame) -> None:
    v = big["truth/verbatims"].to_pandas()
    t = big["truth/survey_truth"].to_pandas().set_index("source_record_id")
    assert set(v["language"]) == {"en", "zh", "mixed"}
    assert set(v["sentiment"]) == set(verbatims.SENTIMENTS)
    assert set(v["dimension"]) == set(voice.DIMENSIONS)
    # sentiment is driven by the latent performance on the chosen dimension
    lat = np.array([t.loc[r, f"sq_{d}"] for r, d in zip(v["source_record_id"], v["dimension"])])
    mean = pd.Series(lat).groupby(v["sentiment"].to_numpy()).mean()
    assert mean["negative"] < mean["neutral"] < mean["positive"]
    zh = v[v["language"] == "zh"]["text"]
    assert zh.str.contains(r"[\u4e00-\u9fff]").all()
    en = v[v["language"] == "en"]["text"]
    assert not en.str.contains(r"[\u4e00-\u9fff]").any()
    mixed = v[v["language"] == "mixed"]["text"]
    assert mixed.str.contains(r"[\u4e00-\u9fff]").all() and mixed.str.contains("[A-Za-z]").all()
    # answers carry the same text
    a = answers
    com = a[a["item_code"] == "comment"].set_index("response_source_record_id")["value_text"]
    assert (com.loc[v["source_record_id"]].to_numpy() == v["text"].to_numpy()).all()
