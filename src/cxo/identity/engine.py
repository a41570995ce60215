"""The identity-resolution engine: source records in, one cluster (customer) per record out.

Pure: Arrow tables in, Arrow tables and a model dict out; no store I/O. The store side (stable
customer ids, golden records, the CLI and pages) is built on :func:`resolve` and
:func:`resolve_incremental`.

Method (see docs/identity-resolution.md and ADR 0005):

1. **Normalise** every record (:mod:`cxo.identity.normalise`): names across scripts,
   romanisations, orders and nicknames; e-mail, phone, dates, address.
2. **Deterministic graph** (:mod:`cxo.identity.keys`): records sharing a strong key
   (national id, e-mail, loyalty number) unless contradicted; phone and device only with a
   matching name. Hub values are not keys.
3. **Probabilistic** (:mod:`cxo.identity.model`): a Fellegi–Sunter model trained with Splink 5
   on the records, scoring candidate pairs from the blocking rules that the deterministic graph has
   not already joined.
4. **Clustering** (:mod:`cxo.identity.cluster`): must-link, deterministic, then probabilistic edges,
   strongest first, never joining a cannot-link pair; cluster id = smallest record_pk.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxo.identity import cluster as cl
from cxo.identity import keys, rules
from cxo.identity import model as mdl
from cxo.identity.explain import explanations
from cxo.identity.normalise import features
from cxo.identity.splinkrun import SplinkRun
from cxo.imports.fields import CUSTOMER_FIELDS

RECORD_COLUMNS: Final[tuple[str, ...]] = (
    "record_pk",
    "source_system",
    *(f.name for f in CUSTOMER_FIELDS),
)
ASSIGNMENT_SCHEMA: Final = pa.schema(
    [
        ("record_pk", pa.int64()),
        ("cluster", pa.int64()),
        ("method", pa.string()),
        ("match_weight", pa.float64()),
        ("explanation", pa.string()),
    ]
)
CONSTRAINT_KINDS: Final = ("must_link", "cannot_link")
# DuckDB spills to disk past this instead of growing (the 6 GB budget includes Arrow and Python).
DUCKDB_CONFIG: Final[dict[str, str | bool | int | float | list[str]]] = {"memory_limit": "3GB"}
Engine = Literal["duckdb", "spark"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """The result of a resolution run.

    ``assignments``: one row per input record (:data:`ASSIGNMENT_SCHEMA`) — its cluster (the
    smallest record_pk in it), how it was linked (``deterministic``, ``probabilistic``,
    ``manual`` or ``singleton``), the match weight of a probabilistic link and an explanation
    (JSON). ``model``: the Splink settings with trained m and u plus ``model["cxo"]``.
    ``stats``: counts and seconds per phase.
    """

    assignments: pa.Table
    model: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)


class _Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self.t, 3)
        self.t = now


def _records(records: pa.Table, what: str = "records") -> pa.Table:
    """The canonical columns, typed; missing optional columns are null."""
    if "record_pk" not in records.column_names:
        raise ValueError(f"{what} need a record_pk column")
    n = records.num_rows
    cols: dict[str, pa.Array] = {}
    for name in RECORD_COLUMNS:
        if name not in records.column_names:
            cols[name] = pa.nulls(n, pa.int64() if name == "record_pk" else pa.string())
            continue
        col = records[name].combine_chunks() if n else pa.array([], records[name].type)
        target = pa.int64() if name == "record_pk" else pa.string()
        if col.type != target:
            col = pc.cast(pc.cast(col, pa.string()) if pa.types.is_date(col.type) else col, target)
        cols[name] = col
    table = pa.table(cols)
    if table["record_pk"].null_count:
        raise ValueError(f"{what}: record_pk must not be null")
    if pc.count_distinct(table["record_pk"]).as_py() != n:
        raise ValueError(f"{what}: record_pk values must be unique")
    return table


def _constraints(constraints: pa.Table | None, known: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """(must-link edges, cannot-link pairs) after checking every named record exists."""
    if constraints is None or constraints.num_rows == 0:
        return cl.empty_edges(), np.empty((0, 2), np.int64)
    for column in ("record_a", "record_b", "kind"):
        if column not in constraints.column_names:
            raise ValueError(f"constraints need a {column} column")
    a = constraints["record_a"].to_numpy().astype(np.int64)
    b = constraints["record_b"].to_numpy().astype(np.int64)
    kind = np.asarray(constraints["kind"].to_pylist(), dtype=object)
    bad_kind = sorted({str(k) for k in kind if k not in CONSTRAINT_KINDS})
    if bad_kind:
        raise ValueError(f"unknown constraint kind(s): {', '.join(bad_kind)}")
    named = np.unique(np.concatenate([a, b]))
    unknown = named[~np.isin(named, known)]
    if unknown.size:
        shown = ", ".join(str(x) for x in unknown[:10].tolist())
        more = f" (and {unknown.size - 10} more)" if unknown.size > 10 else ""
        raise ValueError(f"constraints name records that are not in the input: {shown}{more}")
    if np.any(a == b):
        raise ValueError("a constraint links a record to itself")
    must = kind == "must_link"
    edges = pa.table(
        {
            "a": pa.array(np.minimum(a, b)[must], pa.int64()),
            "b": pa.array(np.maximum(a, b)[must], pa.int64()),
            "rank": pa.array(np.full(int(must.sum()), cl.RANK_MANUAL, np.int8)),
            "weight": pa.nulls(int(must.sum()), pa.float64()),
        }
    )
    cannot = np.stack([a[~must], b[~must]], axis=1)
    pairs = {(min(x, y), max(x, y)) for x, y in cannot.tolist()}
    clash = [
        p for p in zip(edges["a"].to_pylist(), edges["b"].to_pylist(), strict=True) if p in pairs
    ]
    if clash:
        raise ValueError(f"records {clash[0][0]} and {clash[0][1]} are both must- and cannot-link")
    return edges, cannot


def empty_resolution(engine: str = "duckdb") -> Resolution:
    """The result of resolving nothing (the caller reports "nothing to resolve")."""
    return Resolution(
        assignments=ASSIGNMENT_SCHEMA.empty_table(),
        model={},
        stats={
            "records": 0,
            "clusters": 0,
            "deterministic_edges": 0,
            "probabilistic_edges": 0,
            "seconds": {},
            "engine": engine,
        },
    )


def _prepare(con: duckdb.DuckDBPyConnection, src: str, out: str) -> None:
    """``out``: the features plus the Cantonese-space and order-free names and ``email_c``."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT *, "  # noqa: S608
        "coalesce(hk_key, name_key) AS name_hk, "
        f"CASE WHEN email NOT IN ({keys.hub_values(src, 'email')}) THEN email END AS email_c, "
        "CASE WHEN coalesce(given, '') = '' THEN surname WHEN coalesce(surname, '') = '' "
        "THEN given WHEN surname <= given THEN surname || ' ' || given "
        f"ELSE given || ' ' || surname END AS name_u FROM {src}"
    )


def _finish(
    con: duckdb.DuckDBPyConnection,
    src: str,
    out: str,
    det_cluster: pa.Table,
    new: str | None = None,
) -> None:
    """``out``: ``src`` with ``det_cluster`` and the capped blocking keys ``bk<i>``.

    One pass for the keys: every key value (a 64-bit hash of its columns) goes into one long
    table, values over their cap are dropped after one GROUP BY, the rest pivot back to one
    column per key. With ``new`` (a table of record_pks), only key values that a new record
    holds are kept, and ``out`` holds only the records that share one with a new record (plus
    the new records): the candidates of an incremental run.
    """
    parts = []
    for i, (columns, _) in enumerate(mdl.BLOCKING_KEYS):
        value = f"CAST(hash({', '.join(columns)}) >> 1 AS BIGINT)"
        cond = " AND ".join(f"{c} IS NOT NULL" for c in columns)
        parts.append(f"SELECT record_pk, {i} AS k, {value} AS v FROM {src} WHERE {cond}")  # noqa: S608
    caps = ", ".join(f"({i}, {cap})" for i, (_, cap) in enumerate(mdl.BLOCKING_KEYS))
    pivot = ", ".join(
        f"max(CASE WHEN k = {i} THEN v END) AS bk{i}" for i in range(len(mdl.BLOCKING_KEYS))
    )
    restrict = (
        f", nkv AS (SELECT DISTINCT k, v FROM kv0 WHERE record_pk IN (SELECT record_pk FROM {new})),"  # noqa: S608
        " kv AS (SELECT kv0.* FROM kv0 JOIN nkv USING (k, v))"
        if new
        else ", kv AS (SELECT * FROM kv0)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cxo_keys AS "  # noqa: S608
        f"WITH kv0 AS ({' UNION ALL '.join(parts)}){restrict}, "
        f"caps(k, cap) AS (VALUES {caps}), "
        "n AS (SELECT k, v, count(*) AS n FROM kv GROUP BY k, v) "
        f"SELECT kv.record_pk, {pivot} FROM kv JOIN n USING (k, v) JOIN caps USING (k) "
        "WHERE n.n <= caps.cap GROUP BY kv.record_pk"
    )
    con.register("cxo_det", det_cluster)
    candidates = (
        f" WHERE p.record_pk IN (SELECT record_pk FROM {new}) OR k.record_pk IS NOT NULL"  # noqa: S608
        if new
        else ""
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT p.*, d.det_cluster, "  # noqa: S608
        + ", ".join(f"k.bk{i}" for i in range(len(mdl.BLOCKING_KEYS)))
        + f" FROM {src} p JOIN cxo_det d USING (record_pk) LEFT JOIN cxo_keys k USING (record_pk)"
        + candidates
    )
    con.unregister("cxo_det")
    con.execute("DROP TABLE cxo_keys")


def _pairs(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> int:
    cond = " AND ".join(f"{c} IS NOT NULL" for c in columns.split(","))
    row = con.execute(
        f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n "  # noqa: S608
        f"FROM {table} WHERE {cond} GROUP BY {columns})"
    ).fetchall()[0]
    return int(row[0]) if row else 0


def _det_components(nodes: np.ndarray, det: pa.Table) -> tuple[pa.Table, int]:
    """(record_pk → deterministic component, pairs the components link)."""
    comp = cl.cluster(nodes, cl.concat_edges(_det_edges(det)))
    sizes = np.unique(comp, return_counts=True)[1]
    table = pa.table({"record_pk": pa.array(nodes, pa.int64()), "det_cluster": comp})
    return table, int((sizes * (sizes - 1) // 2).sum())


def _det_edges(det: pa.Table) -> pa.Table:
    n = det.num_rows
    return pa.table(
        {
            "a": det["a"],
            "b": det["b"],
            "rank": pa.array(np.full(n, cl.RANK_DETERMINISTIC, np.int8)),
            "weight": pa.nulls(n, pa.float64()),
        }
    )


def _link(
    con: duckdb.DuckDBPyConnection,
    feat: str,
    nodes: np.ndarray,
    must: pa.Table,
    det: pa.Table,
    scored: pa.Table,
    threshold: float,
    cannot: np.ndarray,
) -> tuple[np.ndarray, pa.Table, pa.Table]:
    """(clusters, all edges, probabilistic edges used) from the edges of every kind.

    Pairs at or above ``threshold`` link; then the unique-name rule (:mod:`cxo.identity.rules`)
    looks at the pairs under it, and the graph is clustered again with the pairs it accepts.
    """
    above = pc.greater_equal(scored["match_probability"], threshold)
    high = scored.filter(above)
    low = scored.filter(pc.invert(above))
    base = [must, _det_edges(det)]
    first = cl.cluster(nodes, cl.concat_edges(*base, high), cannot)
    extra = rules.unique_name_pairs(con, feat, nodes, first, low)
    flagged = pc.is_in(
        pc.binary_join_element_wise(
            pc.cast(low["a"], pa.string()), pc.cast(low["b"], pa.string()), "-"
        ),
        value_set=pc.binary_join_element_wise(
            pc.cast(extra["a"], pa.string()), pc.cast(extra["b"], pa.string()), "-"
        ),
    )
    high = high.append_column("unique_name", pa.array(np.zeros(high.num_rows, bool)))
    low = low.filter(flagged).append_column(
        "unique_name", pa.array(np.ones(int(pc.sum(flagged).as_py() or 0), bool))
    )
    prob = pa.concat_tables([high, low]) if low.num_rows else high
    edges = cl.concat_edges(*base, prob.select(["a", "b", "rank", "weight"]))
    clusters = cl.cluster(nodes, edges, cannot) if low.num_rows else first
    return clusters, edges, prob


def resolve(
    records: pa.Table,
    *,
    constraints: pa.Table | None = None,
    engine: Engine = "duckdb",
    model: dict[str, Any] | None = None,
    threshold_match_probability: float = mdl.DEFAULT_THRESHOLD,
    spark: Any = None,
) -> Resolution:
    """Resolve all ``records`` (columns :data:`RECORD_COLUMNS`) into clusters.

    ``constraints`` (record_a, record_b, kind ``must_link``/``cannot_link``) are respected
    exactly; naming an unknown record is a ``ValueError``. With ``model`` (from an earlier run)
    training is skipped. ``engine="spark"`` scores pairs on Spark (``spark``: a SparkSession; by
    default the active one, else cxo's own).
    """
    if engine not in ("duckdb", "spark"):
        raise ValueError(f"unknown engine {engine!r}")
    clock = _Clock()
    table = _records(records)
    if table.num_rows == 0:
        return empty_resolution(engine)
    nodes = np.sort(table["record_pk"].to_numpy())
    must, cannot = _constraints(constraints, nodes)
    if model is not None:
        entry = mdl.cxo_entry(model)
        threshold = float(entry.get("threshold_match_probability", threshold_match_probability))
    else:
        threshold = threshold_match_probability
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        con.register("cxo_features", features(table, con))
        _prepare(con, "cxo_features", "base")
        hubs = keys.hub_stats(con, "base")
        clock.lap("normalise")
        det = keys.deterministic_edges(con, "base")
        components, det_pairs = _det_components(nodes, det)
        _finish(con, "base", "feat", components)
        con.execute("DROP TABLE base")
        clock.lap("deterministic")
        run = SplinkRun(con, "feat", engine=engine, spark=spark)
        if model is None:
            trained = run.train(
                records=table.num_rows,
                pairs_by_rule={c: _pairs(con, "feat", c) for c in mdl.EM_RULES},
                deterministic_pairs=det_pairs,
                exact_pairs=_pairs(con, "feat", "name_key,birth_date"),
                threshold=threshold,
            )
        else:
            trained = run.use(model)
        clock.lap("train")
        scored = run.predict(rules.LOW)
        clock.lap("predict")
        clusters, edges, prob = _link(con, "feat", nodes, must, det, scored, threshold, cannot)
        best = cl.best_edges(edges, {"nodes": nodes, "cluster": clusters})
        assignments = explanations(con, nodes, clusters, best, det, prob, run.model)
        run.close()
        clock.lap("cluster")
    finally:
        con.close()
    stats = {
        "records": int(table.num_rows),
        "clusters": int(np.unique(clusters).size),
        "deterministic_edges": int(det.num_rows),
        "deterministic_edges_by_key": keys.summary(det),
        "probabilistic_edges": int(prob.num_rows),
        "unique_name_edges": int(pc.sum(prob["unique_name"]).as_py() or 0),
        "manual_edges": int(must.num_rows),
        "cannot_link": len(cannot),
        "hubs": hubs,
        "training": trained,
        "threshold_match_probability": threshold,
        "seconds": clock.seconds,
        "engine": engine,
    }
    return Resolution(assignments=assignments, model=run.model, stats=stats)


def _tf_tables(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Term-frequency lookups (value → share of non-null values) per TF column of ``table``."""
    out = {}
    for c in mdl.TF_COLUMNS:
        name = f"cxo_tf_{c}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {c}, "  # noqa: S608
            f"count(*) / sum(count(*)) OVER () AS tf_{c} FROM {table} "
            f"WHERE {c} IS NOT NULL GROUP BY {c}"
        )
        out[c] = name
    return out


def _incremental_nodes(
    new_pks: np.ndarray, existing_pks: np.ndarray, existing_cluster: np.ndarray
) -> tuple[np.ndarray, dict[int, int]]:
    """Graph nodes (new records and existing clusters) and record → node for existing records."""
    node_of = dict(zip(existing_pks.tolist(), existing_cluster.tolist(), strict=True))
    nodes = np.unique(np.concatenate([new_pks, np.unique(existing_cluster)]))
    return nodes, node_of


def _to_nodes(edges: pa.Table, node_of: dict[int, int]) -> pa.Table:
    """Edges between records → edges between nodes (existing records become their cluster)."""
    if edges.num_rows == 0:
        return edges
    a = np.array([node_of.get(x, x) for x in edges["a"].to_pylist()], np.int64)
    b = np.array([node_of.get(x, x) for x in edges["b"].to_pylist()], np.int64)
    keep = a != b
    return pa.table(
        {
            "a": pa.array(np.minimum(a, b)[keep]),
            "b": pa.array(np.maximum(a, b)[keep]),
            "rank": edges["rank"].filter(pa.array(keep)),
            "weight": edges["weight"].filter(pa.array(keep)),
        }
    )


def resolve_incremental(
    new_records: pa.Table,
    existing: pa.Table,
    *,
    model: dict[str, Any],
    constraints: pa.Table | None = None,
) -> Resolution:
    """Resolve ``new_records`` against already-resolved ``existing`` ones, without re-clustering.

    ``existing``: :data:`RECORD_COLUMNS` plus ``cluster`` (int64). Only new × existing and
    new × new pairs are blocked and scored (Splink's ``predict_between``/``predict_within``) with
    ``model``; existing clusters are fixed nodes. Returns assignments for the new records only:
    an existing cluster id, or a new one (the smallest new record_pk). ``stats["bridges"]`` lists
    (cluster_from, cluster_into) where new records join existing clusters (into = the smaller id).
    Constraints are checked against both tables; must-links between two existing clusters are
    left to the caller (a manual merge), cannot-links between them stop any bridge.
    """
    clock = _Clock()
    entry = mdl.cxo_entry(model)
    threshold = float(entry["threshold_match_probability"])
    new = _records(new_records, "new records")
    if "cluster" not in existing.column_names:
        raise ValueError("existing records need a cluster column")
    old = _records(existing, "existing records")
    if new.num_rows == 0:
        return empty_resolution()
    new_pks = np.sort(new["record_pk"].to_numpy())
    old_pks = old["record_pk"].to_numpy()
    old_cluster = existing["cluster"].to_numpy().astype(np.int64)
    if np.isin(new_pks, old_pks).any():
        clash = new_pks[np.isin(new_pks, old_pks)][:5].tolist()
        raise ValueError(f"new records are already resolved: {clash}")
    everyone = np.concatenate([new_pks, old_pks])
    must, cannot = _constraints(constraints, np.sort(everyone))
    nodes, node_of = _incremental_nodes(new_pks, old_pks, old_cluster)
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        both = pa.concat_tables([new, old.select(new.column_names)])
        con.register("cxo_features", features(both, con))
        _prepare(con, "cxo_features", "base")
        con.register("cxo_new", pa.table({"record_pk": pa.array(new_pks, pa.int64())}))
        clock.lap("normalise")
        det = keys.deterministic_edges(con, "base", new="cxo_new")
        # det_cluster: existing records by their cluster, new ones joined to it through keys
        det_nodes = cl.cluster(nodes, _to_nodes(cl.concat_edges(_det_edges(det)), node_of))
        node_idx = np.searchsorted(nodes, np.concatenate([new_pks, old_cluster]))
        det_cluster = det_nodes[node_idx]
        tf_tables = _tf_tables(con, "base")
        _finish(
            con,
            "base",
            "feat",
            pa.table({"record_pk": everyone, "det_cluster": det_cluster}),
            new="cxo_new",
        )
        con.execute("DROP TABLE base")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE feat_new AS SELECT * FROM feat "
            "WHERE record_pk IN (SELECT record_pk FROM cxo_new)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE feat_old AS SELECT * FROM feat "
            "WHERE record_pk NOT IN (SELECT record_pk FROM cxo_new)"
        )
        clock.lap("deterministic")
        run = SplinkRun(con, "feat", engine="duckdb")
        run.use(model)
        run.register_tf(tf_tables)
        for view in ("feat_new", "feat_old"):
            cols = ", ".join(r[0] for r in con.execute("DESCRIBE splink_in").fetchall())
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view}_in AS SELECT {cols} FROM {view}")  # noqa: S608
        scored = run.predict_between("feat_new_in", "feat_old_in", rules.LOW)
        clock.lap("predict")
        # records → nodes; cannot-links only matter between different nodes
        must_n = _to_nodes(must, node_of)
        cannot_n = np.array(
            [
                (node_of.get(a, a), node_of.get(b, b))
                for a, b in cannot.tolist()
                if node_of.get(a, a) != node_of.get(b, b)
            ],
            np.int64,
        ).reshape(-1, 2)
        scored_n = _to_nodes(scored.select(["a", "b", "rank", "weight"]), node_of)
        above = pc.greater_equal(scored["match_probability"], threshold)
        high = scored.filter(above)
        edges_n = cl.concat_edges(
            must_n,
            _to_nodes(_det_edges(det), node_of),
            _to_nodes(high.select(["a", "b", "rank", "weight"]), node_of),
        )
        del scored_n
        comp_of = cl.cluster(nodes, edges_n, cannot_n if len(cannot_n) else None)
        assignments, bridges = _incremental_assign(
            con, new_pks, nodes, comp_of, old_cluster, must, det, high, run.model, node_of
        )
        run.close()
        clock.lap("cluster")
    finally:
        con.close()
    stats = {
        "records": int(new.num_rows),
        "existing_records": int(old.num_rows),
        "clusters": int(pc.count_distinct(assignments["cluster"]).as_py()),
        "deterministic_edges": int(det.num_rows),
        "deterministic_edges_by_key": keys.summary(det),
        "probabilistic_edges": int(high.num_rows),
        "bridges": bridges,
        "threshold_match_probability": threshold,
        "seconds": clock.seconds,
        "engine": "duckdb",
    }
    return Resolution(assignments=assignments, model=model, stats=stats)


def _incremental_assign(
    con: duckdb.DuckDBPyConnection,
    new_pks: np.ndarray,
    nodes: np.ndarray,
    comp_of: np.ndarray,
    old_cluster: np.ndarray,
    must: pa.Table,
    det: pa.Table,
    prob: pa.Table,
    model: dict[str, Any],
    node_of: dict[int, int],
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Cluster ids for the new records, bridges, and explanations."""
    existing_ids = set(np.unique(old_cluster).tolist())
    comp = dict(zip(nodes.tolist(), comp_of.tolist(), strict=True))
    members: dict[int, list[int]] = {}
    for node, c in comp.items():
        members.setdefault(c, []).append(node)
    target: dict[int, int] = {}
    bridges: list[tuple[int, int]] = []
    for c, group in members.items():
        olds = sorted(x for x in group if x in existing_ids)
        if olds:
            target[c] = olds[0]
            bridges.extend((x, olds[0]) for x in olds[1:])
        else:
            target[c] = min(group)
    cluster_new = np.array([target[comp[x]] for x in new_pks.tolist()], np.int64)
    # explanations: strongest edge of each new record inside its final cluster
    prob_ex = prob.append_column("unique_name", pa.array(np.zeros(prob.num_rows, bool)))
    edges = cl.concat_edges(must, _det_edges(det), prob.select(["a", "b", "rank", "weight"]))
    rec_cluster: dict[int, int] = dict(zip(new_pks.tolist(), cluster_new.tolist(), strict=True))
    ends = np.unique(np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy(), new_pks]))
    final = np.array(
        [
            rec_cluster.get(x, target.get(comp.get(node_of.get(x, x), -1), node_of.get(x, x)))
            for x in ends.tolist()
        ],
        np.int64,
    )
    best = cl.best_edges(edges, {"nodes": ends, "cluster": final})
    best = best.filter(pc.is_in(best["record_pk"], value_set=pa.array(new_pks)))
    assignments = explanations(con, new_pks, cluster_new, best, det, prob_ex, model)
    return assignments, sorted(set(bridges))
