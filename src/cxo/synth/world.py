"""`cxo synth`: generate the demo world chunk by chunk, with bounded memory and exact reproducibility."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from importlib.metadata import version
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from cxo.errors import CxoError
from cxo.synth import behaviour, identity, people, systems, voice
from cxo.synth.behaviour import BehaviourParams
from cxo.synth.context import ChunkContext
from cxo.synth.identity import IdentityParams
from cxo.synth.people import PeopleParams
from cxo.synth.systems import SystemsParams
from cxo.synth.voice import VoiceParams
from cxo.synth.writer import write_parts

MAX_CUSTOMERS = 10_000_000


class SynthConfig(BaseModel):
    """Every parameter of the demo world; written to ``truth.json``."""

    customers: int = Field(ge=1, le=MAX_CUSTOMERS, description="Number of ground-truth persons")
    seed: int = Field(default=20261122, ge=0, le=2**63 - 1, description="Random seed")
    chunk_size: int = Field(
        default=50_000,
        ge=100,
        le=1_000_000,
        description="Persons generated and written at a time (bounds memory; part of the seed's "
        "meaning, so keep it fixed to reproduce a world)",
    )
    start: dt.date = Field(default=dt.date(2025, 1, 6), description="First day observed (a Monday)")
    weeks: int = Field(default=78, ge=4, le=520, description="Weeks observed")
    people: PeopleParams = Field(default_factory=PeopleParams)
    systems: SystemsParams = Field(default_factory=SystemsParams)
    identity: IdentityParams = Field(default_factory=IdentityParams)
    behaviour: BehaviourParams = Field(default_factory=BehaviourParams)
    voice: VoiceParams = Field(default_factory=VoiceParams)


class OutputExists(CxoError):
    exit_code = 2


def prepare_output(out: Path, *, force: bool) -> None:
    """Make ``out`` ready: refuse a non-empty folder unless ``force``; check it is writable."""
    if out.exists() and not out.is_dir():
        raise CxoError(f"{out} exists and is not a folder.", hint="Choose another --out.")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExists(
                f"The output folder {out} is not empty.",
                hint="Add --force to replace its contents, or choose another --out.",
            )
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".cxo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CxoError(
            f"Cannot write to {out}: {exc.strerror}.", hint="Choose a folder you can write to."
        ) from None


def chunks(config: SynthConfig) -> list[ChunkContext]:
    out = []
    for i, offset in enumerate(range(0, config.customers, config.chunk_size)):
        out.append(
            ChunkContext(
                seed=config.seed,
                chunk_index=i,
                offset=offset,
                n=min(config.chunk_size, config.customers - offset),
                start=config.start,
                weeks=config.weeks,
            )
        )
    return out


def generate_chunk(config: SynthConfig, ctx: ChunkContext) -> dict[str, pa.Table]:
    """All tables of one chunk of persons, keyed by output name (``truth/…`` for ground truth)."""
    persons = people.generate(ctx, config.people)
    persons = systems.assign(persons, ctx, config.systems)
    persons = identity.add_identity(persons, ctx, config.identity)
    tables: dict[str, pa.Table] = {"truth/persons": persons}
    for name, table in identity.generate(persons, ctx, config.identity).items():
        tables[name] = table
    for name, table in behaviour.generate(persons, ctx, config.behaviour).items():
        tables[name] = table
    for name, table in voice.generate(persons, ctx, config.voice).items():
        tables[name] = table
    return tables


def write_chunk(config: SynthConfig, ctx: ChunkContext, out: Path, csv: bool) -> dict[str, int]:
    """Generate one chunk and write its part files; return rows written per table."""
    return write_parts(out, ctx.chunk_index, generate_chunk(config, ctx), csv=csv)


def _written(
    config: SynthConfig, out: Path, csv: bool, workers: int
) -> Iterator[tuple[ChunkContext, dict[str, int]]]:
    """Chunks in order, generated and written by ``workers`` processes, 2 × workers in flight.

    Each chunk depends only on (seed, chunk index) and is written to its own part files, so the
    output is the same for any ``workers``.
    """
    todo = chunks(config)
    if workers <= 1 or len(todo) <= 1:
        for ctx in todo:
            yield ctx, write_chunk(config, ctx, out, csv)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        queue: deque[tuple[ChunkContext, Future[dict[str, int]]]] = deque()
        pending = iter(todo)
        for ctx in islice(pending, 2 * workers):
            queue.append((ctx, pool.submit(write_chunk, config, ctx, out, csv)))
        while queue:
            ctx, future = queue.popleft()
            result = future.result()
            following = next(pending, None)
            if following is not None:
                queue.append((following, pool.submit(write_chunk, config, following, out, csv)))
            yield ctx, result


def default_workers(config: SynthConfig) -> int:
    """One process per core for worlds of several chunks; in-process for small ones."""
    n_chunks = -(-config.customers // config.chunk_size)
    return 1 if n_chunks < 4 else min(os.cpu_count() or 1, 8)


def synthesize(
    config: SynthConfig,
    out: Path,
    *,
    force: bool = False,
    csv: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write the world to ``out``; return rows written per table. ``progress`` gets persons done."""
    prepare_output(out, force=force)
    workers = default_workers(config) if workers is None else max(1, workers)
    totals: dict[str, int] = {}
    for ctx, counts in _written(config, out, csv, workers):
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
        if progress:
            progress(ctx.n)
    rows = dict(sorted(totals.items()))
    truth: dict[str, Any] = {
        "generator": "cxo synth",
        "versions": {p: version(p) for p in ("cxo", "numpy", "pyarrow")},
        "config": json.loads(config.model_dump_json()),
        "rows": rows,
    }
    (out / "truth").mkdir(exist_ok=True)
    (out / "truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    return rows
