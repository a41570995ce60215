"""`cxo synth`: generate the demo world chunk by chunk, with bounded memory and exact reproducibility."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import queue
import shutil
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from cxo.errors import CxoError
from cxo.synth import MAX_CUSTOMERS, behaviour, bgnbd, identity, people, systems, voice
from cxo.synth.behaviour import BehaviourParams
from cxo.synth.context import ChunkContext
from cxo.synth.identity import IdentityParams
from cxo.synth.people import PeopleParams
from cxo.synth.systems import SystemsParams
from cxo.synth.voice import VoiceParams
from cxo.synth.writer import write_parts


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


def _init_worker(tables: dict[tuple[float, float], Any]) -> None:
    """Pool initialiser: the Beta quantile tables come from the parent (no scipy import here)."""
    bgnbd.preset_beta_tables(tables)


def _feed(
    pool: ProcessPoolExecutor,
    todo: deque[ChunkContext],
    lock: threading.Lock,
    results: queue.SimpleQueue[tuple[ChunkContext, Future[dict[str, int]]] | None],
    submit: Callable[[ChunkContext], Future[dict[str, int]]],
    slots: int,
) -> None:
    """Keep each pool process busy with one chunk from the front of ``todo``; pass results on."""
    running: dict[Future[dict[str, int]], ChunkContext] = {}
    try:
        while True:
            with lock:  # taken, not held while submitting: a submit can block (spawn start-up)
                taken = [todo.popleft() for _ in range(min(slots - len(running), len(todo)))]
            for ctx in taken:
                running[submit(ctx)] = ctx
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results.put((running.pop(future), future))
    finally:
        results.put(None)


def _start_method() -> str:
    """``fork`` on Linux: a worker starts in milliseconds instead of re-importing numpy, pyarrow
    and the generator (2-3 s of CPU each). Elsewhere ``spawn`` (fork is unsafe on macOS).
    ``CXO_SYNTH_START_METHOD`` overrides (for tests and measurements)."""
    wanted = os.environ.get("CXO_SYNTH_START_METHOD")
    if wanted:
        return wanted
    linux = sys.platform.startswith("linux")
    return "fork" if linux and "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _written(
    config: SynthConfig, out: Path, csv: bool, workers: int
) -> Iterator[tuple[ChunkContext, dict[str, int]]]:
    """Chunks generated and written by this process and ``workers - 1`` worker processes.

    Each chunk depends only on (seed, chunk index) and is written to its own part files, so the
    output is the same for any ``workers`` and in whatever order chunks finish (they are yielded
    as they finish). The pool takes chunks from the front of the list, this process from the
    back: it starts at once (with ``spawn``, while the pool's processes are still importing), and
    nobody waits at the end for a chunk queued behind another.
    """
    todo = deque(chunks(config))
    if workers <= 1 or len(todo) <= 1:
        for ctx in todo:
            yield ctx, write_chunk(config, ctx, out, csv)
        return
    b = config.behaviour
    tables = {(b.bgnbd_a, b.bgnbd_b): bgnbd.beta_ppf_table(b.bgnbd_a, b.bgnbd_b)}
    lock = threading.Lock()
    results: queue.SimpleQueue[tuple[ChunkContext, Future[dict[str, int]]] | None]
    results = queue.SimpleQueue()
    method = _start_method()
    with ProcessPoolExecutor(
        workers - 1,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(tables,),
    ) as pool:
        if method == "fork":
            # Forked processes start at once with everything imported (and the Beta table built
            # above); fork them now, from this thread, before any generating work runs here.
            pool.submit(int).result()
        feeder = threading.Thread(
            target=_feed,
            args=(
                pool,
                todo,
                lock,
                results,
                lambda ctx: pool.submit(write_chunk, config, ctx, out, csv),
                workers - 1,
            ),
            daemon=True,
        )
        feeder.start()
        fed = False  # the feeder has sent its last result
        try:
            while True:
                with lock:
                    mine = todo.pop() if todo else None
                if mine is None:
                    break
                yield mine, write_chunk(config, mine, out, csv)
                while not fed and not results.empty():
                    item = results.get()
                    if item is None:
                        fed = True
                    else:
                        yield item[0], item[1].result()
            while not fed and (item := results.get()) is not None:
                yield item[0], item[1].result()
        finally:
            with lock:
                todo.clear()  # on an error: the feeder stops submitting
            feeder.join()


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
