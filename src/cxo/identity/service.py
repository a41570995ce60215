"""Identity resolution against the store: stable customer ids, golden records, merge and unmerge.

The engine (:mod:`cxo.identity.engine`) clusters source records; this module is the I/O edge:

* it reads the current links and runs the engine — a full run over every customer source record,
  or an incremental one that compares only the unlinked records (their payloads read, the others'
  normalised features taken from a cache) against the resolved ones — and turns the clusters into
  customer ids that survive re-runs (:mod:`cxo.identity.stable_ids`);
* it writes what changed: new customers, merges (the older id stays, the other becomes an alias),
  one new link per record whose customer changed (old links are kept, inactive, as history),
  golden records for every customer whose records changed (:mod:`cxo.identity.survivorship`), and
  the customer of interactions and transactions (by ``customer_record_id``);
* manual merge, unmerge and split write constraints that every later run respects.

Reads happen in one transaction, the engine runs outside any transaction, and the writes happen
in one short write transaction that first checks no other run finished in between.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.cases.models import cases
from cxo.customers.models import (
    customers,
    identity_constraints,
    identity_links,
    resolution_runs,
)
from cxo.errors import Conflict, CxoError, NotFound
from cxo.governance import audit
from cxo.identity import survivorship
from cxo.identity.normalise import FEATURE_COLUMNS, features_fingerprint
from cxo.identity.romanise import search_name
from cxo.identity.stable_ids import IdPlan, incremental_scope, plan_ids, plan_incremental
from cxo.imports.fields import CUSTOMER_FIELDS
from cxo.settings import Settings
from cxo.store import bulk
from cxo.store.engine import connect
from cxo.store.metadata import utcnow

FIELD_NAMES = tuple(f.name for f in CUSTOMER_FIELDS)
MAX_CANNOT_LINK_PAIRS = 10_000
Progress = Callable[[str], None]


class NothingToResolve(CxoError):
    """The store holds no customer source records."""


@dataclass(frozen=True)
class ResolveSummary:
    run_id: int
    mode: str
    engine: str
    records: int
    new_records: int
    clusters: int
    customers_created: int
    customers_merged: int
    links_changed: int
    deterministic_links: int
    probabilistic_links: int
    activity_linked: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _engine(name: str) -> Literal["duckdb", "spark"]:
    if name not in ("duckdb", "spark"):
        raise CxoError(f"Unknown resolution engine {name!r}.", hint="Use duckdb or spark.")
    return "spark" if name == "spark" else "duckdb"


# -- reading ------------------------------------------------------------------------------------


def _json_field(conn: Connection, name: str) -> str:
    if bulk.is_duckdb(conn):
        return f"json_extract_string(payload, '$.{name}')"
    return f"payload->>'{name}'"


def load_records(
    conn: Connection, record_pks: Sequence[int] | pa.Array | pa.ChunkedArray | None = None
) -> pa.Table:
    """Customer source records as the engine reads them: ``record_pk``, ``source_system``, fields."""
    fields = ", ".join(f"{_json_field(conn, n)} AS {n}" for n in FIELD_NAMES)
    select = f"SELECT id AS record_pk, source_system, {fields} FROM source_records"  # noqa: S608
    if record_pks is None:
        data = bulk.query_arrow(conn, f"{select} ORDER BY id")
    elif len(record_pks) == 0:
        return _empty_records()
    else:
        if isinstance(record_pks, pa.Array | pa.ChunkedArray):
            ids = pa.table({"record_pk": record_pks.cast(pa.int64())})
        else:
            ids = pa.table({"record_pk": pa.array(record_pks, pa.int64())})
        with bulk.staged(conn, ids) as name:
            data = bulk.query_arrow(
                conn,
                f"{select} WHERE id IN (SELECT record_pk FROM {name}) ORDER BY id",  # noqa: S608
            )
    if data.num_rows == 0:
        return _empty_records()
    return data.cast(_records_schema())


def _records_schema() -> pa.Schema:
    return pa.schema(
        [("record_pk", pa.int64()), ("source_system", pa.string())]
        + [(n, pa.string()) for n in FIELD_NAMES]
    )


def _empty_records() -> pa.Table:
    return _records_schema().empty_table()


def _payload_hashes(conn: Connection) -> pa.Table:
    """record_pk → payload_hash of every customer source record."""
    data = bulk.query_arrow(
        conn, "SELECT id AS record_pk, payload_hash FROM source_records ORDER BY id"
    )
    return pa.table(
        {
            "record_pk": data["record_pk"].cast(pa.int64()),
            "payload_hash": data["payload_hash"].cast(pa.string()),
        }
    )


# -- normalised features kept between runs -------------------------------------------------------
# An incremental run normalises only the records it has not seen: the features of the others are
# kept in files under the data folder, keyed by record and payload hash (features are a function
# of the payload alone, so a row is valid wherever that pair matches; a changed normaliser or name
# table gets a new folder name: normalise.features_fingerprint). A full run writes the folder
# anew; an incremental run adds one part with what it normalised, and folds the parts into one
# when there are many or some rows went stale. The parts are uncompressed Arrow IPC files, read
# memory-mapped: a 1M-record cache opens in milliseconds instead of the second Parquet took. It
# is a cache: a missing or unreadable part costs time only.

MAX_CACHE_PARTS = 8


def _feature_cache(settings: Settings) -> Path:
    return settings.home / "identity" / f"features-{features_fingerprint()}"


def _cache_parts(settings: Settings) -> list[Path]:
    path = _feature_cache(settings)
    return sorted(path.glob("part-*.arrow")) if path.is_dir() else []


def read_cache_file(path: Path) -> pa.Table:
    """One part of the feature cache (memory-mapped)."""
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


@dataclass
class _Cache:
    features: pa.Table | None
    """The valid rows, one per record, without their payload hash."""
    stale: int
    """Rows of the files that are no longer valid (payload changed, record gone, duplicate), and
    one for each part that could not be used: a reason to fold the parts into one."""


def _load_cache(settings: Settings, hashes: pa.Table) -> _Cache:
    """The cached features still valid for ``hashes`` (record_pk, payload_hash), one row each."""
    parts = []
    unusable = 0
    for part in _cache_parts(settings):
        try:
            table = read_cache_file(part)
        except (OSError, pa.ArrowException):
            unusable += 1
            continue
        if table.num_rows and set(FEATURE_COLUMNS) | {"payload_hash"} <= set(table.column_names):
            parts.append(table.select([*FEATURE_COLUMNS, "payload_hash"]))
        else:
            unusable += 1
    if not parts:
        return _Cache(None, unusable)
    cached = pa.concat_tables(parts)
    at = pc.index_in(cached["record_pk"], value_set=hashes["record_pk"])
    current = pc.take(hashes["payload_hash"], pc.fill_null(at, 0))
    valid = pc.fill_null(pc.and_(pc.is_valid(at), pc.equal(cached["payload_hash"], current)), False)
    kept = cached.drop(["payload_hash"])
    if not pc.all(valid).as_py():  # filtering copies every column: only when something is stale
        kept = kept.filter(valid)
    if len(parts) > 1 and pc.count_distinct(kept["record_pk"]).as_py() != kept.num_rows:
        # a payload changed and changed back: two valid rows, with the same features
        first = pc.index_in(kept["record_pk"], value_set=pc.unique(kept["record_pk"]))
        keep = np.zeros(kept.num_rows, bool)
        keep[np.unique(first.to_numpy(), return_index=True)[1]] = True
        kept = kept.filter(pa.array(keep))
    stale = unusable + cached.num_rows - kept.num_rows
    return _Cache(kept if kept.num_rows else None, stale)


def _with_hashes(hashes: pa.Table, features: pa.Table) -> pa.Table:
    table = features.select(list(FEATURE_COLUMNS))
    at = pc.index_in(table["record_pk"], value_set=hashes["record_pk"])
    return table.append_column(
        "payload_hash", pc.take(hashes["payload_hash"], pc.fill_null(at, 0))
    ).filter(pc.is_valid(at))


def _write_feature_cache(
    settings: Settings,
    hashes: pa.Table,
    fresh: pa.Table | None,
    *,
    replace: bool,
    cache: _Cache | None = None,
) -> None:
    """Add ``fresh`` features to the cache (``replace``: they are the whole cache from now on).

    ``cache``: what this run read from it; with many parts or stale rows, the valid rows and
    ``fresh`` are written as one part that replaces the others.
    """
    if fresh is None or fresh.num_rows == 0:
        return
    folder = _feature_cache(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        old = _cache_parts(settings)
        if not replace and cache is not None and (len(old) >= MAX_CACHE_PARTS or cache.stale):
            if cache.features is not None:
                kept = cache.features
                kept = kept.filter(pc.invert(pc.is_in(kept["record_pk"], fresh["record_pk"])))
                fresh = pa.concat_tables([kept, fresh.select(list(FEATURE_COLUMNS))])
            replace = True
        table = _with_hashes(hashes, fresh)
        part = folder / f"part-{time.time_ns():020d}-{os.getpid()}.arrow"
        tmp = part.with_suffix(".tmp")
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=1 << 20)
        os.replace(tmp, part)
        for stale in old if replace else []:
            stale.unlink(missing_ok=True)
    except OSError:  # a cache: the next run normalises again
        return


def links_table(conn: Connection) -> pa.Table:
    """``record_pk``, ``customer_id``: the live customer each record is linked to now."""
    data = bulk.query_arrow(
        conn,
        "SELECT source_record_pk AS record_pk, customer_id FROM identity_links WHERE active "
        "ORDER BY source_record_pk",
    )
    return pa.table(
        {
            "record_pk": data["record_pk"].cast(pa.int64()),
            "customer_id": data["customer_id"].cast(pa.int64()),
        }
    )


def current_links(conn: Connection) -> dict[int, int]:
    """record_pk -> the live customer each record is linked to now."""
    return _as_dict(links_table(conn))


def _as_dict(links: pa.Table) -> dict[int, int]:
    return dict(zip(links["record_pk"].to_pylist(), links["customer_id"].to_pylist(), strict=True))


def load_constraints(conn: Connection) -> pa.Table:
    rows = conn.execute(
        sa.select(
            identity_constraints.c.record_a,
            identity_constraints.c.record_b,
            identity_constraints.c.kind,
        ).order_by(identity_constraints.c.id)
    ).all()
    return pa.table(
        {
            "record_a": pa.array([int(r[0]) for r in rows], pa.int64()),
            "record_b": pa.array([int(r[1]) for r in rows], pa.int64()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def _last_run(conn: Connection) -> tuple[int, dict[str, Any] | None]:
    row = conn.execute(
        sa.select(resolution_runs.c.id, resolution_runs.c.model)
        .order_by(resolution_runs.c.id.desc())
        .limit(1)
    ).all()  # fetched to the end: DuckDB takes no other work while a result is open
    if not row:
        return 0, None
    model = row[0].model
    if isinstance(model, str):
        model = json.loads(model)
    return int(row[0].id), model


# -- the run -------------------------------------------------------------------------------------


def resolve_store(
    settings: Settings,
    *,
    actor: str,
    engine: str = "duckdb",
    full: bool = False,
    progress: Progress | None = None,
) -> ResolveSummary:
    """Resolve every customer source record into customers; see the module docstring."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    say("read")
    with connect(settings) as conn:
        links = links_table(conn)
        hashes = _payload_hashes(conn)
        constraints = load_constraints(conn)
        last_run, model = _last_run(conn)
        incremental = not full and model is not None and links.num_rows > 0
        cache = _load_cache(settings, hashes) if incremental else None
        cached = None if cache is None else cache.features
        if cached is None:
            records = load_records(conn)
        else:  # the new records, and resolved ones whose features the cache lacks
            pks = hashes["record_pk"]
            known = pc.and_(pc.is_in(pks, links["record_pk"]), pc.is_in(pks, cached["record_pk"]))
            records = load_records(conn, pks.filter(pc.invert(known)))
    if hashes.num_rows == 0:
        raise NothingToResolve(
            "There are no customer records to resolve.",
            hint="Import some first: `cxo import customers FILE --source NAME`.",
        )
    say("match")
    if incremental:
        assert model is not None
        assert cache is not None
        plan, previous, assignments, stats, clusters = _match_incremental(
            settings, records, links, hashes, cache, model, constraints
        )
        mode = "incremental"
    else:
        from cxo.identity.engine import resolve

        result = resolve(records, constraints=constraints, engine=_engine(engine))
        _write_feature_cache(settings, hashes, result.features, replace=True)
        assignments, model, stats = result.assignments, result.model, result.stats
        previous = _as_dict(links)
        plan = plan_ids(
            dict(
                zip(
                    assignments["record_pk"].to_pylist(),
                    assignments["cluster"].to_pylist(),
                    strict=True,
                )
            ),
            previous,
        )
        clusters = int(pc.count_distinct(assignments["cluster"]).as_py())
        mode = "full"
    new_records = hashes.num_rows - int(
        pc.sum(pc.is_in(hashes["record_pk"], links["record_pk"])).as_py() or 0
    )
    say("write")
    with connect(settings, write=True) as conn:
        if _last_run(conn)[0] != last_run:
            raise Conflict(
                "Another resolution run finished while this one was running.",
                hint="Run `cxo resolve` again.",
            )
        summary = _write_plan(
            conn,
            settings,
            plan=plan,
            links=previous,
            records=records,
            assignments=assignments,
            meta={
                "mode": mode,
                "engine": engine,
                "records": hashes.num_rows,
                "new_records": new_records,
                "clusters": clusters,
                "deterministic_links": int(stats.get("deterministic_edges", 0)),
                "probabilistic_links": int(stats.get("probabilistic_edges", 0)),
                "model": model,
                "actor": actor,
            },
            started=started,
        )
        audit.record(
            conn,
            actor=actor,
            action="identity.resolve",
            object_type="resolution_run",
            object_id=summary.run_id,
            after=summary.as_dict(),
        )
    return summary


def _match_incremental(
    settings: Settings,
    records: pa.Table,
    links: pa.Table,
    hashes: pa.Table,
    cache: _Cache,
    model: dict[str, Any],
    constraints: pa.Table,
) -> tuple[IdPlan, dict[int, int], pa.Table | None, dict[str, Any], int]:
    """Match the unlinked ``records`` against the linked ones.

    ``records`` holds the new records' fields and those of linked records the ``cache`` lacks;
    the other linked records take part through their cached features alone. Returns the plan,
    which covers only the records whose customer can change (:func:`stable_ids.plan_incremental`),
    the current links of those records, the engine's assignments and stats, and how many
    customers there will be.
    """
    from cxo.identity.engine import resolve_incremental

    customers_now = int(pc.count_distinct(links["customer_id"]).as_py())
    linked = pc.is_in(records["record_pk"], links["record_pk"])
    new = records.filter(pc.invert(linked))
    if new.num_rows == 0:
        return IdPlan(record_customer={}), {}, None, {}, customers_now
    offset = int(pc.max(hashes["record_pk"]).as_py()) + 1
    existing = pa.table(
        {
            "record_pk": links["record_pk"],
            "cluster": pc.add(links["customer_id"], pa.scalar(offset, pa.int64())),
        }
    )
    uncached = records.filter(linked)
    if uncached.num_rows:
        existing = existing.join(uncached, keys="record_pk", join_type="left outer")
    result = resolve_incremental(
        new, existing, model=model, constraints=constraints, existing_features=cache.features
    )
    _write_feature_cache(settings, hashes, result.features, replace=False, cache=cache)
    assignments = result.assignments
    new_clusters = dict(
        zip(assignments["record_pk"].to_pylist(), assignments["cluster"].to_pylist(), strict=True)
    )
    bridges = [(int(a), int(b)) for a, b in result.stats.get("bridges", [])]
    scope = incremental_scope(new_clusters, bridges, offset)
    in_scope = links.filter(pc.is_in(links["customer_id"], pa.array(sorted(scope), pa.int64())))
    previous = _as_dict(in_scope)  # the linked records of the plan, exactly
    plan = plan_incremental(previous, new_clusters, bridges, offset)
    clusters = customers_now - len(scope) + len(set(plan.record_customer.values()))
    return plan, previous, assignments, result.stats, clusters


def _write_plan(
    conn: Connection,
    settings: Settings,
    *,
    plan: IdPlan,
    links: dict[int, int],
    records: pa.Table,
    assignments: pa.Table | None,
    meta: dict[str, Any],
    started: float,
) -> ResolveSummary:
    now = utcnow()
    run_id = bulk.next_ids(conn, "resolution_runs_id_seq", 1)[0]
    placeholders = sorted(plan.new_customers, reverse=True)  # -1, -2, … in cluster order
    new_ids = dict(
        zip(placeholders, bulk.next_ids(conn, "customers_id_seq", len(placeholders)), strict=True)
    )
    if new_ids:
        n = len(new_ids)
        ts = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
        bulk.append_rows(
            conn,
            customers,
            pa.table(
                {
                    "id": pa.array(list(new_ids.values()), pa.int64()),
                    "created_at": ts,
                    "updated_at": ts,
                }
            ),
        )
    for alias, survivor in plan.merges:
        _merge_rows(conn, alias=alias, survivor=survivor, now=now)
    final = {r: new_ids.get(c, c) for r, c in plan.record_customer.items()}
    changed = [r for r, c in final.items() if links.get(r) != c]
    _relink(conn, changed, final, assignments, run_id=run_id, now=now)
    affected = {final[r] for r in changed} | {links[r] for r in changed if r in links}
    affected |= {s for _, s in plan.merges}
    affected -= {a for a, _ in plan.merges}
    refresh_golden(conn, settings, affected, records=records, final=final)
    # a full run may move anything; an incremental one only the records it relinked
    activity = link_activity(conn, None if meta["mode"] == "full" else changed)
    summary = ResolveSummary(
        run_id=run_id,
        mode=meta["mode"],
        engine=meta["engine"],
        records=meta["records"],
        new_records=meta["new_records"],
        clusters=meta["clusters"],
        customers_created=len(new_ids),
        customers_merged=len(plan.merges),
        links_changed=len(changed),
        deterministic_links=meta["deterministic_links"],
        probabilistic_links=meta["probabilistic_links"],
        activity_linked=activity,
        seconds=round(time.perf_counter() - started, 3),
    )
    conn.execute(
        resolution_runs.insert().values(
            id=run_id,
            mode=summary.mode,
            engine=summary.engine,
            records=summary.records,
            new_records=summary.new_records,
            clusters=summary.clusters,
            customers_created=summary.customers_created,
            customers_merged=summary.customers_merged,
            deterministic_links=summary.deterministic_links,
            probabilistic_links=summary.probabilistic_links,
            model=meta["model"],
            actor=meta["actor"],
            seconds=summary.seconds,
            created_at=now,
        )
    )
    return summary


def _merge_rows(conn: Connection, *, alias: int, survivor: int, now: dt.datetime) -> None:
    """Make ``alias`` an alias of ``survivor``; earlier aliases of ``alias`` follow it."""
    conn.execute(
        customers.update()
        .where(customers.c.merged_into_id == alias)
        .values(merged_into_id=survivor, updated_at=now)
    )
    conn.execute(
        customers.update()
        .where(customers.c.id == alias)
        .values(merged_into_id=survivor, updated_at=now)
    )
    # Cases were opened for the customer, not for a record: they follow it.
    conn.execute(cases.update().where(cases.c.customer_id == alias).values(customer_id=survivor))


def _relink(
    conn: Connection,
    changed: Sequence[int],
    final: dict[int, int],
    assignments: pa.Table | None,
    *,
    run_id: int | None,
    now: dt.datetime,
    method: str | None = None,
    explanation: dict[str, Any] | None = None,
) -> None:
    """Deactivate the current links of ``changed`` records and link each to ``final[record]``."""
    if not changed:
        return
    ids = pa.table({"record_pk": pa.array(list(changed), pa.int64())})
    with bulk.staged(conn, ids) as name:
        conn.execute(
            sa.text(
                f"UPDATE identity_links SET active = false WHERE active AND source_record_pk IN "  # noqa: S608
                f"(SELECT record_pk FROM {name})"
            )
        )
    how: dict[int, tuple[str, float | None, str]] = {}
    if assignments is not None and method is None:
        for pk, m, w, e in zip(
            assignments["record_pk"].to_pylist(),
            assignments["method"].to_pylist(),
            assignments["match_weight"].to_pylist(),
            assignments["explanation"].to_pylist(),
            strict=True,
        ):
            how[pk] = (m, w, e)
    default = (method or "deterministic", None, json.dumps(explanation or {}, ensure_ascii=False))
    methods, weights, explanations = [], [], []
    for r in changed:
        m, w, e = how.get(r, default)
        methods.append("deterministic" if m == "singleton" else m)
        weights.append(w)
        explanations.append(e if isinstance(e, str) else json.dumps(e or {}, ensure_ascii=False))
    n = len(changed)
    data = pa.table(
        {
            "id": pa.array(bulk.next_ids(conn, "identity_links_id_seq", n), pa.int64()),
            "source_record_pk": pa.array(list(changed), pa.int64()),
            "customer_id": pa.array([final[r] for r in changed], pa.int64()),
            "method": pa.array(methods, pa.string()),
            "match_weight": pa.array(weights, pa.float64()),
            "explanation": pa.array(explanations, pa.string()),
            "active": pa.array([True] * n, pa.bool_()),
            "run_id": pa.array([run_id] * n, pa.int64()),
            "created_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    bulk.append_rows(conn, identity_links, data)


GOLDEN_COLUMNS = (
    "display_name",
    "given_name",
    "family_name",
    "email",
    "phone_e164",
    "gender",
    "city",
    "country",
)


def refresh_golden(
    conn: Connection,
    settings: Settings,
    customer_ids: set[int],
    *,
    records: pa.Table | None = None,
    final: dict[int, int] | None = None,
) -> int:
    """Recompute the golden record of each live customer in ``customer_ids``.

    ``final`` (record_pk -> customer) names the records of those customers when the caller knows
    them (otherwise the current links do); ``records`` may hold some of their fields already, and
    the others are read.
    """
    if not customer_ids:
        return 0
    if final is None:
        links = links_table(conn)
        links = links.filter(
            pc.is_in(links["customer_id"], pa.array(sorted(customer_ids), pa.int64()))
        )
        final = _as_dict(links)
    wanted = pa.array(sorted(r for r, c in final.items() if c in customer_ids), pa.int64())
    subset = _empty_records() if records is None else records
    subset = subset.filter(pc.is_in(subset["record_pk"], wanted))
    missing = wanted.filter(pc.invert(pc.is_in(wanted, subset["record_pk"])))
    if len(missing):
        subset = pa.concat_tables([subset, load_records(conn, missing)])
    if subset.num_rows == 0:
        return 0
    subset = subset.append_column(
        "customer_id", pa.array([final[p] for p in subset["record_pk"].to_pylist()], pa.int64())
    )
    trust = [s.strip() for s in settings.source_trust.split(",") if s.strip()]
    golden = survivorship.golden_records(
        subset, trust=trust, rules=survivorship.load_rules(settings.survivorship_file)
    )
    names = golden["display_name"].to_pylist()
    extra = [c for c in survivorship.GOLDEN_FIELDS if c not in GOLDEN_COLUMNS and c != "birth_date"]
    attributes = [
        json.dumps(
            {k: v for k, v in zip([*extra, "sources"], vals, strict=True) if v is not None}
            | ({"sources": json.loads(vals[-1])} if vals[-1] else {}),
            ensure_ascii=False,
        )
        for vals in zip(*(golden[c].to_pylist() for c in [*extra, "sources"]), strict=True)
    ]
    birth = pc.cast(
        pc.strptime(golden["birth_date"], "%Y-%m-%d", "s", error_is_null=True), pa.date32()
    )
    data = pa.table(
        {
            "customer_id": golden["customer_id"],
            **{c: golden[c] for c in GOLDEN_COLUMNS},
            "name_latin": pa.array([search_name(n) if n else None for n in names], pa.string()),
            "birth_date": birth,
            "attributes": pa.array(attributes, pa.string()),
            "updated_at": pa.array([utcnow()] * golden.num_rows, pa.timestamp("us", tz="UTC")),
        }
    )
    cols = [*GOLDEN_COLUMNS, "name_latin", "birth_date", "attributes", "updated_at"]
    cast = "::JSON" if bulk.is_duckdb(conn) else "::json"
    sets = ", ".join(f"{c} = g.{c}{cast if c == 'attributes' else ''}" for c in cols)
    with bulk.staged(conn, data) as name:
        conn.execute(
            sa.text(f"UPDATE customers SET {sets} FROM {name} g WHERE customers.id = g.customer_id")  # noqa: S608
        )
    return data.num_rows


ACTIVITY_TABLES = ("interactions", "transactions")
"""Tables whose ``customer_id`` follows ``customer_record_id``. Survey responses are not among
them: answers reference responses, and DuckDB cannot update a foreign-key column of a referenced
row; the timeline finds imported responses through ``customer_record_id`` instead."""


def link_activity(conn: Connection, record_pks: Sequence[int] | None = None) -> int:
    """Point every interaction and transaction at its record's (live) customer.

    With ``record_pks`` (the records whose links just changed) only the rows of those records and
    the rows that have no customer yet are looked at: every other row already points where its
    record's link does. Rows whose ``customer_record_id`` names no resolved record keep no
    customer. Returns the number of rows whose customer changed.
    """
    if record_pks is None:
        return _link_activity(conn, None)
    ids = pa.table({"record_pk": pa.array(record_pks, pa.int64())})
    with bulk.staged(conn, ids) as name:
        return _link_activity(conn, name)


def _link_activity(conn: Connection, changed: str | None) -> int:
    total = 0
    for table in ACTIVITY_TABLES:
        where = ""
        if changed is not None:
            touched = (
                f"SELECT source_record_id FROM source_records WHERE id IN "  # noqa: S608
                f"(SELECT record_pk FROM {changed}) UNION SELECT customer_record_id FROM {table} "
                "WHERE customer_id IS NULL AND customer_record_id IS NOT NULL"
            )
            where = f"WHERE sr.source_record_id IN ({touched}) "
        mapping = (
            "SELECT sr.source_record_id AS rid, min(l.customer_id) AS cid FROM source_records sr "  # noqa: S608
            f"JOIN identity_links l ON l.source_record_pk = sr.id AND l.active {where}"
            "GROUP BY sr.source_record_id"
        )
        result = conn.execute(
            sa.text(
                f"UPDATE {table} SET customer_id = m.cid FROM ({mapping}) m "  # noqa: S608
                f"WHERE {table}.customer_record_id = m.rid "
                f"AND {table}.customer_id IS DISTINCT FROM m.cid"
            )
        )
        total += max(0, result.rowcount or 0)
    return total


# -- manual decisions ----------------------------------------------------------------------------


def live_customer(conn: Connection, customer_id: int) -> int:
    """The live customer ``customer_id`` is, following an alias to its survivor."""
    row = conn.execute(
        sa.select(customers.c.id, customers.c.merged_into_id).where(customers.c.id == customer_id)
    ).first()
    if row is None:
        raise NotFound(f"No customer with id {customer_id}.")
    return int(row.merged_into_id or row.id)


def _records_of(conn: Connection, customer_id: int) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute(
            sa.select(identity_links.c.source_record_pk)
            .where(identity_links.c.active, identity_links.c.customer_id == customer_id)
            .order_by(identity_links.c.source_record_pk)
        )
    ]


def _add_constraints(
    conn: Connection, a: Sequence[int], b: Sequence[int], kind: str, reason: str | None, actor: str
) -> int:
    pairs = [(x, y) for x in a for y in b][:MAX_CANNOT_LINK_PAIRS]
    if kind == "must_link":
        pairs = pairs[:1]
    now = utcnow()
    for x, y in pairs:
        conn.execute(
            identity_constraints.insert().values(
                record_a=min(x, y),
                record_b=max(x, y),
                kind=kind,
                reason=reason,
                actor=actor,
                created_at=now,
            )
        )
    return len(pairs)


def _drop_constraints(conn: Connection, a: Sequence[int], b: Sequence[int], kind: str) -> None:
    c = identity_constraints.c
    conn.execute(
        identity_constraints.delete().where(
            c.kind == kind,
            sa.or_(
                sa.and_(c.record_a.in_(a), c.record_b.in_(b)),
                sa.and_(c.record_a.in_(b), c.record_b.in_(a)),
            ),
        )
    )


def _manual_move(
    conn: Connection,
    settings: Settings,
    records: Sequence[int],
    to: dict[int, int],
    *,
    explanation: dict[str, Any],
    refresh: set[int],
    actor: str,
    action: str,
    object_id: int,
    after: dict[str, Any],
    before: Any = None,
) -> None:
    """Link ``records`` by hand, refresh the golden records and activity, and audit it."""
    _relink(
        conn, records, to, None, run_id=None, now=utcnow(), method="manual", explanation=explanation
    )
    refresh_golden(conn, settings, refresh)
    link_activity(conn, records)
    audit.record(
        conn,
        actor=actor,
        action=action,
        object_type="customer",
        object_id=object_id,
        before=before,
        after=after,
    )


def merge_customers(
    settings: Settings, *, actor: str, first: int, second: int, reason: str | None = None
) -> dict[str, int]:
    """Merge two customers by hand: the older id survives and the other becomes its alias."""
    with connect(settings, write=True) as conn:
        a, b = live_customer(conn, first), live_customer(conn, second)
        if a == b:
            raise Conflict(f"Customers {first} and {second} are already one customer ({a}).")
        survivor, alias = min(a, b), max(a, b)
        kept, moved = _records_of(conn, survivor), _records_of(conn, alias)
        now = utcnow()
        _drop_constraints(conn, kept, moved, "cannot_link")
        if kept and moved:
            _add_constraints(conn, kept, moved, "must_link", reason, actor)
        _merge_rows(conn, alias=alias, survivor=survivor, now=now)
        final = dict.fromkeys(moved, survivor)
        out = {"survivor": survivor, "alias": alias, "records_moved": len(moved)}
        _manual_move(
            conn,
            settings,
            moved,
            final,
            explanation={"merged_from": alias, "by": actor, "reason": reason},
            refresh={survivor},
            actor=actor,
            action="customers.merge",
            object_id=survivor,
            before={"customers": [survivor, alias]},
            after=out | {"reason": reason},
        )
    return out


def unmerge_customer(
    settings: Settings,
    *,
    actor: str,
    customer_id: int,
    alias: int | None = None,
    reason: str | None = None,
) -> dict[str, int]:
    """Undo a merge: the alias (the latest merged, unless named) is a customer again with the
    records it had, and later runs keep the two apart."""
    with connect(settings, write=True) as conn:
        survivor = live_customer(conn, customer_id)
        aliases = (
            conn.execute(
                sa.select(customers.c.id)
                .where(customers.c.merged_into_id == survivor)
                .order_by(customers.c.updated_at.desc(), customers.c.id.desc())
            )
            .scalars()
            .all()
        )
        if not aliases:
            raise Conflict(
                f"Customer {survivor} was never merged with another customer; there is nothing to "
                "unmerge.",
                hint="To take one source record out of a customer, split the record instead.",
            )
        if alias is None:
            alias = int(aliases[0])
        elif alias not in aliases:
            raise NotFound(f"Customer {alias} is not an alias of customer {survivor}.")
        current = set(_records_of(conn, survivor))
        had = {
            int(r[0])
            for r in conn.execute(
                sa.select(identity_links.c.source_record_pk).where(
                    identity_links.c.customer_id == alias
                )
            )
        }
        moved = sorted(current & had)
        if not moved or len(moved) == len(current):
            raise Conflict(
                f"The records of customer {alias} can no longer be told apart from those of "
                f"customer {survivor}.",
                hint="Split single records out instead.",
            )
        kept = sorted(current - set(moved))
        now = utcnow()
        _drop_constraints(conn, kept, moved, "must_link")
        _add_constraints(conn, kept, moved, "cannot_link", reason, actor)
        conn.execute(
            customers.update()
            .where(customers.c.id == alias)
            .values(merged_into_id=None, updated_at=now)
        )
        out = {"customer": survivor, "restored": alias, "records_moved": len(moved)}
        _manual_move(
            conn,
            settings,
            moved,
            dict.fromkeys(moved, alias),
            explanation={"unmerged_from": survivor, "by": actor, "reason": reason},
            refresh={survivor, alias},
            actor=actor,
            action="customers.unmerge",
            object_id=survivor,
            after=out | {"reason": reason},
        )
    return out


def split_record(
    settings: Settings, *, actor: str, record_pk: int, reason: str | None = None
) -> dict[str, int]:
    """Take one source record out of its customer into a new customer, and keep it out."""
    with connect(settings, write=True) as conn:
        row = conn.execute(
            sa.select(identity_links.c.customer_id).where(
                identity_links.c.active, identity_links.c.source_record_pk == record_pk
            )
        ).first()
        if row is None:
            raise NotFound(f"No resolved source record with id {record_pk}.")
        customer_id = int(row.customer_id)
        others = [r for r in _records_of(conn, customer_id) if r != record_pk]
        if not others:
            raise Conflict(f"Record {record_pk} is the only record of customer {customer_id}.")
        now = utcnow()
        new_id = bulk.next_ids(conn, "customers_id_seq", 1)[0]
        conn.execute(customers.insert().values(id=new_id, created_at=now, updated_at=now))
        _drop_constraints(conn, others, [record_pk], "must_link")
        _add_constraints(conn, others, [record_pk], "cannot_link", reason, actor)
        out = {"customer": customer_id, "new_customer": new_id, "record": record_pk}
        _manual_move(
            conn,
            settings,
            [record_pk],
            {record_pk: new_id},
            explanation={"split_from": customer_id, "by": actor, "reason": reason},
            refresh={customer_id, new_id},
            actor=actor,
            action="customers.split",
            object_id=customer_id,
            after=out | {"reason": reason},
        )
    return out
