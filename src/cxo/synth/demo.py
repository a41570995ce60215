"""`cxo demo`: the demo bank, end to end, through the same paths a user takes.

1. the store and the demo administrator;
2. the world from `cxo synth` (kept in ``CXO_HOME/demo-world/<customers>-<seed>`` and reused when it
   is already there);
3. every touchpoint file imported with ``cxo import`` and the mapping files shipped in
   ``cxo/synth/mappings`` — no back door into the tables;
4. identity resolution, then every analysis that exists.

Re-running is safe: imports of unchanged files only count duplicates, and resolution with no new
records changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxo.settings import Settings
from cxo.synth.world import SynthConfig, synthesize

MAPPINGS = Path(__file__).parent / "mappings"
DEMO_ACTOR = "demo"
DEFAULT_CUSTOMERS = 20_000
SURVEY_CODE = "relationship_2025"
SURVEY_FILE = MAPPINGS / "relationship_2025.yaml"

# (folder in the world, import kind, mapping file); sources come from the mapping files.
IMPORTS: tuple[tuple[str, str, str], ...] = (
    ("crm_customers", "customers", "crm_customers.yaml"),
    ("web_accounts", "customers", "web_accounts.yaml"),
    ("cti_callers", "customers", "cti_callers.yaml"),
    ("branch_members", "customers", "branch_members.yaml"),
    ("interactions", "interactions", "interactions.yaml"),
    ("transactions", "transactions", "transactions.yaml"),
    ("survey_export", "responses", "survey_export.yaml"),
)
INTERACTION_SOURCE = "contact"


@dataclass
class DemoSummary:
    world: Path
    generated: bool
    imports: list[dict[str, Any]] = field(default_factory=list)
    resolution: dict[str, Any] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)
    survey: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


Step = Callable[[str, int, int], None]
"""progress(step description, done, total)."""


def world_folder(settings: Settings, customers: int, seed: int) -> Path:
    return settings.ensure_home() / "demo-world" / f"{customers}-{seed}"


def ensure_world(settings: Settings, customers: int, seed: int, step: Step) -> tuple[Path, bool]:
    """The demo world for (customers, seed), generated unless an identical one is there."""
    config = SynthConfig(customers=customers, seed=seed)
    out = world_folder(settings, customers, seed)
    truth = out / "truth.json"
    if truth.exists():
        try:
            known = json.loads(truth.read_text(encoding="utf-8"))["config"]
        except (OSError, ValueError, KeyError):
            known = None
        if known == json.loads(config.model_dump_json()):
            return out, False
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        step("generate", done, customers)

    step("generate", 0, customers)
    synthesize(config, out, force=True, progress=advance)
    write_survey_export(out)
    return out, True


def write_survey_export(world: Path) -> Path:
    """The survey answers in long format, one row per answer, as a survey tool exports them."""
    responses = pq.read_table(world / "survey_responses")
    answers = pq.read_table(world / "survey_answers")
    folder = world / "survey_export"
    folder.mkdir(exist_ok=True)
    joined = answers.join(
        responses,
        keys="response_source_record_id",
        right_keys="source_record_id",
        join_type="inner",
    )
    joined = joined.rename_columns(
        ["response_id" if c == "response_source_record_id" else c for c in joined.column_names]
    )
    joined = joined.append_column("survey", pa.array([SURVEY_CODE] * joined.num_rows, pa.string()))
    order = pc.sort_indices(
        joined, [("response_id", "ascending"), ("item_code", "ascending"), ("scale", "ascending")]
    )
    path = folder / "part-00000.parquet"
    pq.write_table(joined.take(order), path)
    return path


def run_demo(
    settings: Settings,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = 20261122,
    step: Step | None = None,
) -> DemoSummary:
    from cxo.engines.pipeline import run_pipeline
    from cxo.identity.service import resolve_store
    from cxo.imports.mapping import load_mapping
    from cxo.imports.service import run_import

    say: Step = step or (lambda _s, _d, _t: None)
    started = time.perf_counter()
    world, generated = ensure_world(settings, customers, seed, say)
    if not (world / "survey_export").exists():
        write_survey_export(world)
    summary = DemoSummary(world=world, generated=generated)
    summary.survey = ensure_survey(settings)
    files = [
        (folder, kind, mapping, part)
        for folder, kind, mapping in IMPORTS
        for part in sorted((world / folder).glob("part-*.parquet"))
    ]
    for i, (folder, kind, mapping_file, part) in enumerate(files):
        say("import", i, len(files))
        mapping = load_mapping(MAPPINGS / mapping_file)
        source = mapping.source or INTERACTION_SOURCE
        result = run_import(
            settings,
            kind=kind,
            path=part,
            source=source,
            actor=DEMO_ACTOR,
            mapping=mapping,
            file_name=f"{folder}/{part.name}",
        )
        summary.imports.append({"file": f"{folder}/{part.name}", **_as_dict(result)})
    say("import", len(files), len(files))
    flag_survey(settings, summary)
    say("resolve", 0, 1)
    summary.resolution = resolve_store(settings, actor=DEMO_ACTOR).as_dict()
    say("resolve", 1, 1)
    say("analyse", 0, 1)
    run = run_pipeline(settings, "duckdb", DEMO_ACTOR)
    summary.analyses["customer_stage_stats"] = {"rows": run.rows, "seconds": round(run.seconds, 2)}
    say("analyse", 1, 1)
    summary.seconds = round(time.perf_counter() - started, 1)
    return summary


def ensure_survey(settings: Settings) -> dict[str, Any]:
    """The demo survey, defined from the instrument library, live, with one public link; made
    once (a re-run finds it)."""
    import sqlalchemy as sa

    from cxo.store.engine import connect
    from cxo.surveys import links, service
    from cxo.surveys.models import surveys

    with connect(settings, write=True) as conn:
        exists = conn.execute(sa.select(surveys.c.id).where(surveys.c.code == SURVEY_CODE)).first()
        if exists is None:
            service.create_survey(conn, text=SURVEY_FILE.read_bytes(), actor=DEMO_ACTOR)
            service.set_state(conn, code=SURVEY_CODE, state="live", actor=DEMO_ACTOR)
            links.create_link(
                conn, survey_code=SURVEY_CODE, actor=DEMO_ACTOR, label="Branch posters"
            )
        found = links.list_links(conn, SURVEY_CODE)
    return {"code": SURVEY_CODE, "public_link": found[0].path if found else None}


def flag_survey(settings: Settings, summary: DemoSummary) -> None:
    """Data-quality flags for the imported answers (straight-lining, speeding, ...)."""
    from cxo.store.engine import connect
    from cxo.surveys.quality_service import flag_responses

    with connect(settings, write=True) as conn:
        counts = flag_responses(conn, survey_code=SURVEY_CODE, actor=DEMO_ACTOR)
    summary.survey["flags"] = {
        "responses": counts.responses,
        "flagged": counts.flagged,
        **counts.per_flag,
    }


def _as_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "as_dict"):
        return dict(result.as_dict())
    if hasattr(result, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(result)
    return dict(vars(result))
