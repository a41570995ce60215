"""Data-quality flags: each rule on hand-made answers, and the batch service on both stores."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys import exchange_cli
from cxo.surveys.models import responses
from cxo.surveys.quality import (
    Facts,
    duplicates,
    excluded,
    flag_names,
    inconsistency,
    median,
    response_flags,
    speeding,
    straight_lining,
)
from cxo.surveys.quality_service import analysis_response_ids, flag_counts, flag_responses
from cxo.surveys.yamlio import parse_and_compile
from tests.surveys.exchange_helpers import CODE, add_responses, make_survey

RELATIONSHIP = """\
code: relationship
title: {en: "Relationship", zh_CN: "关系"}
pages:
  - questions:
      - use: nps
      - use: servqual
      - use: relationship_quality
      - use: loyalty
      - use: comment
"""
SURVEY = parse_and_compile(RELATIONSHIP)[1]
SQ = [f"sq{i:02d}" for i in range(1, 23)]
RQ = [f"rq_{d}_{k}" for d in ("trust", "benev", "commit", "sat", "conflict") for k in (1, 2, 3)]
LOY = ["loy_repurchase", "loy_recommend", "loy_wallet", "loy_switch"]


def honest(**over: float) -> dict[tuple[str, str], Any]:
    """A plausible, differentiated response; ``over`` sets single items by code."""
    got: dict[tuple[str, str], Any] = {("nps", "single"): 8.0}
    for i, code in enumerate(SQ):
        got[(code, "importance")] = float(5 + i % 3)
        got[(code, "performance")] = float(3 + i % 4)
    for i, code in enumerate(RQ):
        got[(code, "single")] = 2.0 + i % 2 if "conflict" in code else float(4 + i % 3)
    got.update({("loy_repurchase", "single"): 6.0, ("loy_recommend", "single"): 6.0})
    got.update({("loy_wallet", "single"): 4.0, ("loy_switch", "single"): 2.0})
    got[("comment", "single")] = "ok"
    for code, value in over.items():
        got[(code, "single")] = value
    return got


def grid(
    value: float, scales: tuple[str, ...] = ("importance", "performance", "single")
) -> dict[tuple[str, str], Any]:
    got = honest()
    for key in list(got):
        if (
            key[1] in scales
            and key[0] != "nps"
            and key[0] != "comment"
            and not key[0].startswith("loy")
        ):
            got[key] = value
    return got


def test_straight_lining() -> None:
    assert straight_lining(SURVEY, honest()) is None
    every = straight_lining(SURVEY, grid(7.0))
    assert every is not None and every["countable"] == 3 and len(every["grids"]) == 3
    # one straight grid of three: a strong opinion, not straight-lining…
    assert straight_lining(SURVEY, grid(7.0, ("importance",))) is None
    # …two of three is
    two = straight_lining(SURVEY, grid(6.0, ("importance", "performance")))
    assert two is not None and {g["grid"] for g in two["grids"]} == {
        "servqual_importance",
        "servqual_performance",
    }
    # agreeing equally with conflict and satisfaction items contradicts itself
    rq_only = straight_lining(SURVEY, grid(6.0, ("single",)))
    assert rq_only is not None and rq_only["reverse_keyed"] == ["relationship_quality"]
    assert (
        straight_lining(SURVEY, grid(4.0, ("single",))) is None
    )  # the midpoint is no contradiction
    # near-zero variance: one answer a point off in 22 rows still counts
    near = grid(5.0, ("importance", "performance"))
    near[("sq03", "importance")] = 6.0
    assert straight_lining(SURVEY, near) is not None
    # a grid with fewer than five answered rows is not judged
    few = {k: v for k, v in grid(7.0).items() if k[1] == "single" and k[0].startswith("rq_trust")}
    assert straight_lining(SURVEY, few) is None


def test_speeding() -> None:
    assert speeding(None, 60, 400.0) is None
    assert speeding(100.0, 0, 400.0) is None
    floor = speeding(100.0, 60, None)  # 2 s × 60 items = 120 s
    assert floor is not None and floor["floor"] == 120.0
    assert speeding(150.0, 60, None) is None
    relative = speeding(150.0, 60, 400.0)  # 150 < 40 % of 400
    assert relative is not None and relative["share_of_median"] == 0.375
    assert speeding(170.0, 60, 400.0) is None
    assert median([3.0, 1.0, 2.0]) == 2.0 and median([1.0, 4.0]) == 2.5 and median([]) is None


def test_inconsistency() -> None:
    assert inconsistency(SURVEY, honest()) is None
    angry_but_happy = honest(**{c: 7.0 for c in RQ if "conflict" in c or "sat" in c})
    found = inconsistency(SURVEY, angry_but_happy)
    assert found is not None
    pairs = {(c["reverse"], c["regular"]) for c in found["contradictions"]}
    assert ("conflict", "sat") in pairs
    switching_loyalist = inconsistency(SURVEY, honest(loy_switch=7.0, loy_repurchase=7.0))
    assert switching_loyalist is not None
    assert switching_loyalist["contradictions"][0]["regular"] == "repurchase"
    promoter_who_wont_recommend = inconsistency(SURVEY, honest(nps=10.0, loy_recommend=1.0))
    assert promoter_who_wont_recommend is not None
    assert promoter_who_wont_recommend["contradictions"][0]["gap"] == 1.0
    assert inconsistency(SURVEY, honest(nps=8.0, loy_recommend=5.0)) is None


def test_response_flags_combine_and_name_each_flag() -> None:
    assert response_flags(SURVEY, honest(), seconds=400.0, survey_median=420.0) == {}
    bad = response_flags(SURVEY, grid(7.0), seconds=30.0, survey_median=420.0)
    assert flag_names(bad) == ["inconsistent", "speeding", "straight_lining"]


def test_duplicates() -> None:
    t = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

    def f(i: int, minutes: int, **kw: Any) -> Facts:
        return Facts(id=i, order=(t + dt.timedelta(minutes=minutes), i), **kw)

    found = duplicates(
        [
            f(2, 5, customer="c1"),
            f(1, 0, customer="c1"),  # earliest of c1: the original
            f(3, 0, customer="c2", invitation=10),
            f(4, 9, customer="c2", invitation=11),  # another wave: not a duplicate
            f(5, 1, invitation=12),
            f(6, 2, invitation=12),
            f(7, 0, client="h", signature="s1"),
            f(8, 1, client="h", signature="s1"),
            f(9, 2, client="h", signature="s2"),
        ]
    )
    assert found == {
        2: {"of": 1, "by": "customer"},
        6: {"of": 5, "by": "invitation"},
        8: {"of": 7, "by": "client"},
    }


@pytest.mark.parametrize(
    ("flags", "override", "out"),
    [
        (None, None, False),
        ({}, None, False),
        ({"speeding": {}}, None, True),
        ({"speeding": {}}, True, False),
        ({}, False, True),
        (["duplicate"], None, True),
    ],
)
def test_excluded(flags: Any, override: bool | None, out: bool) -> None:
    assert excluded(flags, override) is out


def test_flag_responses_writes_changes_only_and_analysis_follows(
    any_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = make_survey(any_store)
    ids = add_responses(any_store, sid, 25, quality_flags=None)
    # a second response of customer C0002, a day later
    ids += add_responses(
        any_store, sid, 1, start=30, customer_record_id="C0002", quality_flags=None
    )
    t0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
    with connect(any_store, write=True) as conn:
        r = responses.c
        # response 3 raced through
        conn.execute(
            responses.update()
            .where(r.id == ids[3])
            .values(completed_at=t0 + dt.timedelta(hours=3, seconds=20))
        )
        conn.execute(responses.update().where(r.id == ids[9]).values(include_override=False))
    with connect(any_store, write=True) as conn:
        counts = flag_responses(conn, survey_code=CODE, actor="test")
    assert counts.checked == 26 and counts.changed == 26
    assert counts.per_flag["speeding"] >= 1 and counts.per_flag["duplicate"] == 1
    with connect(any_store) as conn:
        stored = {
            i: json.loads(f) if isinstance(f, str) else f
            for i, f in conn.execute(sa.select(responses.c.id, responses.c.quality_flags))
        }
        used = analysis_response_ids(conn, survey_code=CODE)
        assert flag_counts(conn, survey_code=CODE).per_flag == counts.per_flag
    assert stored[ids[25]]["duplicate"] == {"of": ids[2], "by": "customer"}
    assert "speeding" in stored[ids[3]]
    flagged = {i for i, f in stored.items() if f}
    assert used == sorted(set(ids) - flagged - {ids[9]})
    with connect(any_store, write=True) as conn:
        assert flag_responses(conn, survey_code=CODE).changed == 0
    with connect(any_store, write=True) as conn:
        conn.execute(
            responses.update().where(responses.c.id == ids[3]).values(include_override=True)
        )
    with connect(any_store) as conn:
        assert ids[3] in analysis_response_ids(conn, survey_code=CODE)

    monkeypatch.setattr(exchange_cli, "get_settings", lambda: any_store)
    result = CliRunner().invoke(exchange_cli.app, ["quality", CODE])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "Duplicates" in x)
    assert " 1 " in line
    assert "0 responses changed" in result.output
