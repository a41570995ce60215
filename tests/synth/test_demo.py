"""`cxo demo`: generate, import through the import path, resolve, analyse — and safe to repeat."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.customers.models import customers, source_records
from cxo.engines.models import customer_stage_stats
from cxo.imports.models import imports
from cxo.interactions.models import interactions
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.models import responses, surveys
from cxo.synth.demo import IMPORTS, run_demo


def _count(settings: Settings, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with connect(settings) as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )


def test_demo_end_to_end_and_rerun_changes_nothing(store: Settings) -> None:
    steps: list[str] = []
    first = run_demo(store, customers=1000, seed=3, step=lambda s, _d, _t: steps.append(s))
    assert first.generated and {"generate", "import", "resolve", "analyse"} <= set(steps)
    assert len(first.imports) == len(IMPORTS)
    for row in first.imports:
        assert row["read"] == row["accepted"] + row["quarantined"] + row["duplicates"], row
        assert row["accepted"] > 0, row
    n_records = _count(store, source_records)
    n_customers = _count(store, customers, customers.c.merged_into_id.is_(None))
    assert 1000 * 0.9 < n_customers < n_records
    linked = _count(store, interactions, interactions.c.customer_id.is_not(None))
    assert linked > 0.8 * _count(store, interactions)
    assert _count(store, customer_stage_stats) > 0
    # The demo survey has a definition from the library, takes answers, and its answers are
    # checked for data quality.
    assert first.survey["code"] == "relationship_2025"
    assert first.survey["public_link"].startswith("/s/l/")
    assert first.survey["flags"]["responses"] > 0
    with connect(store) as conn:
        live = conn.execute(
            sa.select(surveys.c.version).where(
                surveys.c.code == "relationship_2025", surveys.c.state == "live"
            )
        ).scalar_one()
        n_answered = conn.execute(
            sa.select(sa.func.count())
            .select_from(responses)
            .join(surveys, surveys.c.id == responses.c.survey_id)
            .where(surveys.c.code == "relationship_2025")
        ).scalar_one()
    assert live == 1 and n_answered == first.survey["flags"]["responses"]
    second = run_demo(store, customers=1000, seed=3)
    assert not second.generated
    assert all(
        r["accepted"] == 0 and r["duplicates"] + r["quarantined"] == r["read"]
        for r in second.imports
    )
    assert second.resolution["customers_created"] == 0 and second.resolution["links_changed"] == 0
    assert _count(store, source_records) == n_records
    assert _count(store, imports) == 2 * len(IMPORTS)
    assert second.survey["public_link"] == first.survey["public_link"]
