"""Oracle: the quality flags recover the bad responses `cxo synth` labels in truth/survey_truth.

A small world (4,000 persons, nearly all invited and answering: ~3,200 responses of which ~3.7 %
straight-liners, ~3.7 % speeders, ~1.1 % duplicates) goes through the ordinary long-format import
into a survey defined with the library instruments the world uses, then through
:func:`flag_responses`. Figures at seed 7 (the test allows some slack): straight-lining precision
0.99 / recall 1.00, speeding 0.93 / 0.94, duplicates 1.00 / 1.00, any flag against ``is_bad``
0.97 / 0.98.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from cxo.imports.mapping import load_mapping, parse_mapping
from cxo.imports.service import run_import
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.models import responses
from cxo.surveys.quality_service import flag_responses
from cxo.surveys.service import create_survey
from cxo.synth.demo import MAPPINGS, write_survey_export
from cxo.synth.voice import VoiceParams
from cxo.synth.world import SynthConfig, synthesize

# A survey with every instrument the demo world answers; the import names it explicitly.
CODE = "relationship_2025"
SPEC = f"""\
code: {CODE}
title: {{en: "Relationship survey", zh_CN: "客户关系调查"}}
pages:
  - questions:
      - use: nps
      - use: csat
      - use: ces
      - use: servqual
      - use: relationship_quality
      - use: loyalty
      - use: comment
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    config = SynthConfig(
        customers=4000, seed=7, weeks=8, voice=VoiceParams(invite_rate=0.9, response_rate=0.9)
    )
    synthesize(config, out, force=True, workers=1)
    write_survey_export(out)
    return out


def _pr(predicted: set[str], true: set[str]) -> tuple[float, float]:
    hit = len(predicted & true)
    return hit / max(1, len(predicted)), hit / max(1, len(true))


def test_flags_recover_the_labelled_bad_responses(store: Settings, world: Path) -> None:
    with connect(store, write=True) as conn:
        create_survey(conn, text=SPEC, actor="test")
    base = load_mapping(MAPPINGS / "survey_export.yaml").to_dict()
    base["columns"]["survey"] = {"value": CODE}
    summary = run_import(
        store,
        kind="responses",
        path=next((world / "survey_export").glob("part-*.parquet")),
        source="survey",
        actor="test",
        mapping=parse_mapping(base),
    )
    assert summary.quarantined == 0 and summary.accepted > 150_000
    with connect(store, write=True) as conn:
        counts = flag_responses(conn, survey_code=CODE, actor="test")
    with connect(store) as conn:
        rows = conn.execute(
            sa.select(responses.c.source_record_id, responses.c.quality_flags)
        ).all()
    flags = {rid: json.loads(f) if isinstance(f, str) else f for rid, f in rows}
    truth = pq.read_table(world / "truth" / "survey_truth").to_pylist()
    assert counts.checked == len(truth) == len(flags) > 3000

    def labelled(column: str) -> set[str]:
        return {t["source_record_id"] for t in truth if t[column]}

    def raised(name: str) -> set[str]:
        return {rid for rid, f in flags.items() if name in f}

    figures = {
        "straight_lining": _pr(raised("straight_lining"), labelled("is_straight_liner")),
        "speeding": _pr(raised("speeding"), labelled("is_speeder")),
        "duplicate": _pr(raised("duplicate"), labelled("is_duplicate")),
        "any": _pr({rid for rid, f in flags.items() if f}, labelled("is_bad")),
    }
    print("precision, recall:", {k: (round(p, 3), round(r, 3)) for k, (p, r) in figures.items()})
    minimum = {
        "straight_lining": (0.95, 0.97),
        "speeding": (0.85, 0.88),
        "duplicate": (0.97, 0.97),
        "any": (0.92, 0.95),
    }
    for name, (p, r) in figures.items():
        assert p >= minimum[name][0] and r >= minimum[name][1], (name, p, r)
    # Inconsistency has no label of its own; it should fire almost only on bad responses.
    inconsistent = raised("inconsistent")
    assert len(inconsistent - labelled("is_bad")) <= 0.01 * len(flags)
