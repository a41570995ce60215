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
   strongest first, never joining a cannot-link pair; cluster id = smallest record_pk. Then the
   collective rules (:mod:`cxo.identity.rules`): unique names, sole holders of a mobile number.

``link_only=True`` resolves lists without duplicates inside each source: pairs across sources
only, assigned one-to-one.
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
from cxo.identity.normalise import FEATURE_COLUMNS, features
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
    # The normalised features this run computed (FEATURE_COLUMNS), for the caller to keep and
    # pass back as ``existing_features`` of later incremental runs. None when not asked for.
    features: pa.Table | None = None


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


# The Cantonese-space name and the order-free name, from the feature columns.
_NAME_HK: Final = "coalesce(hk_key, name_key)"
_NAME_U: Final = (
    "CASE WHEN coalesce(given, '') = '' THEN surname WHEN coalesce(surname, '') = '' "
    "THEN given WHEN surname <= given THEN surname || ' ' || given "
    "ELSE given || ' ' || surname END"
)


def _prepare(
    con: duckdb.DuckDBPyConnection, src: str, out: str, *, population: str | None = None
) -> None:
    """``out``: the features plus the Cantonese-space and order-free names and ``email_c``.

    ``email_c`` is the e-mail unless it is a hub or ambiguous (:func:`keys.hub_values`) among
    ``population`` (default ``src``): an incremental run prepares only its candidates but
    judges their e-mails among every record.
    """
    if population is None:
        hubs = keys.hub_values(src, "email")
    else:
        among = f"(SELECT * FROM {population} WHERE email IN (SELECT email FROM {src}))"  # noqa: S608
        hubs = keys.hub_values(among, "email")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT *, "  # noqa: S608
        f"{_NAME_HK} AS name_hk, "
        f"CASE WHEN email NOT IN ({hubs}) THEN email END AS email_c, "
        f"{_NAME_U} AS name_u FROM {src}"
    )


def _block_keys(con: duckdb.DuckDBPyConnection, src: str, new: str | None = None) -> None:
    """``cxo_keys``: per record, its blocking-key values ``bk<i>`` under their caps.

    One pass for the keys: every key value (a 64-bit hash of its columns) goes into one long
    table, values over their cap are dropped after one GROUP BY, the rest pivot back to one
    column per key. With ``new`` (a table of record_pks), only key values that a new record
    holds are kept — found with a hash join against that small set, so the count of each value
    is still over all of ``src`` — and ``cxo_keys`` holds only the records sharing one with a
    new record (and the new records): the candidates of an incremental run.
    """

    def values(i: int, columns: tuple[str, ...], table: str, only_new: bool) -> str:
        value = f"CAST(hash({', '.join(columns)}) >> 1 AS BIGINT)"
        cond = " AND ".join(f"{c} IS NOT NULL" for c in columns)
        sql = f"SELECT record_pk, {i} AS k, {value} AS v FROM {table} WHERE {cond}"  # noqa: S608
        if only_new:
            return f"SELECT x.* FROM ({sql}) x JOIN cxo_nkv USING (k, v)"  # noqa: S608
        return sql

    keyed = list(enumerate(mdl.BLOCKING_KEYS))
    if new:
        newer = f"(SELECT * FROM {src} WHERE record_pk IN (SELECT record_pk FROM {new}))"  # noqa: S608
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cxo_nkv AS SELECT DISTINCT k, v FROM ("  # noqa: S608
            + " UNION ALL ".join(values(i, cols, newer, False) for i, (cols, _) in keyed)
            + ")"
        )
    parts = [values(i, cols, src, bool(new)) for i, (cols, _) in keyed]
    caps = ", ".join(f"({i}, {cap})" for i, (_, cap) in keyed)
    pivot = ", ".join(f"max(CASE WHEN k = {i} THEN v END) AS bk{i}" for i, _ in keyed)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cxo_keys AS "  # noqa: S608
        f"WITH kv AS ({' UNION ALL '.join(parts)}), "
        f"caps(k, cap) AS (VALUES {caps}), "
        "n AS (SELECT k, v, count(*) AS n FROM kv GROUP BY k, v) "
        f"SELECT kv.record_pk, {pivot} FROM kv JOIN n USING (k, v) JOIN caps USING (k) "
        "WHERE n.n <= caps.cap GROUP BY kv.record_pk"
    )
    if new:
        con.execute("DROP TABLE cxo_nkv")


def _finish(
    con: duckdb.DuckDBPyConnection,
    src: str,
    out: str,
    det_cluster: pa.Table,
    new: str | None = None,
) -> None:
    """``out``: ``src`` with ``det_cluster`` and the capped blocking keys ``bk<i>``.

    The keys come from ``cxo_keys`` when the caller made it (:func:`_block_keys`), else they
    are made here. With ``new``, ``out`` holds only the new records and those sharing a key
    value with one.
    """
    if not con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cxo_keys' AND temporary"
    ).fetchall()[0][0]:
        _block_keys(con, src, new)
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


def _pairs(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, *, link_only: bool = False
) -> int:
    """Record pairs agreeing on ``columns`` (all non-null); link-only: across sources only."""
    cond = " AND ".join(f"{c} IS NOT NULL" for c in columns.split(","))
    row = con.execute(
        "SELECT coalesce(sum(n * (n - 1) / 2 - w), 0) FROM (SELECT sum(m) AS n, "  # noqa: S608
        f"sum(CASE WHEN {link_only} THEN m * (m - 1) / 2 ELSE 0 END) AS w FROM ("
        f"SELECT {columns}, count(*) AS m FROM {table} WHERE {cond} "
        f"GROUP BY {columns}, source_system) GROUP BY {columns})"
    ).fetchall()[0]
    return int(row[0]) if row else 0


def _cross_source(con: duckdb.DuckDBPyConnection, table: str, pairs: pa.Table) -> pa.Table:
    """The pairs (a, b) whose records come from different sources."""
    con.register("cxo_pairs", pairs)
    try:
        return con.sql(
            f"SELECT p.* FROM cxo_pairs p JOIN {table} x ON x.record_pk = p.a "  # noqa: S608
            f"JOIN {table} y ON y.record_pk = p.b "
            "WHERE x.source_system IS DISTINCT FROM y.source_system ORDER BY p.a, p.b"
        ).to_arrow_table()
    finally:
        con.unregister("cxo_pairs")


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
    link_only: bool = False,
) -> tuple[np.ndarray, pa.Table, pa.Table, pa.Table]:
    """(clusters, all edges, probabilistic edges used, sole-holder pairs) from every edge kind.

    Pairs at or above ``threshold`` link; then the unique-name rule (:mod:`cxo.identity.rules`)
    looks at the pairs under it, and the graph is clustered again with the pairs it accepts;
    then the sole-holder rule links clusters that alone hold a mobile number.
    """
    if link_only:
        scored = _one_to_one(con, feat, scored)
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
    sole = rules.sole_mobile_pairs(con, feat, nodes, clusters)
    if link_only and sole.num_rows:
        sole = _cross_source(con, feat, sole)
    if sole.num_rows:
        edges = cl.concat_edges(edges, _det_edges(sole))
        clusters = cl.cluster(nodes, edges, cannot)
    return clusters, edges, prob, sole


def _one_to_one(con: duckdb.DuckDBPyConnection, feat: str, scored: pa.Table) -> pa.Table:
    """Scored pairs under a one-to-one assignment: each record pairs with at most one record of
    each other source, the strongest pairs first (greedy by match weight, ties by record ids).

    Link-only inputs are lists without duplicates inside each source, so a record has at most
    one true partner per other source (Jaro 1989, one-to-one assignment in record linkage).
    """
    if scored.num_rows == 0:
        return scored
    scored = scored.sort_by([("a", "ascending"), ("b", "ascending")])
    con.register("cxo_121", scored.select(["a", "b"]))
    try:
        ends = con.sql(
            "SELECT x.source_system AS sa, y.source_system AS sb FROM cxo_121 p "  # noqa: S608
            f"JOIN {feat} x ON x.record_pk = p.a JOIN {feat} y ON y.record_pk = p.b "
            "ORDER BY p.a, p.b"
        ).to_arrow_table()
    finally:
        con.unregister("cxo_121")
    a = scored["a"].to_numpy()
    b = scored["b"].to_numpy()
    weight = np.nan_to_num(scored["weight"].to_numpy(zero_copy_only=False), nan=-np.inf)
    sa = ends["sa"].to_pylist()
    sb = ends["sb"].to_pylist()
    order = np.lexsort((b, a, -weight))
    taken: set[tuple[int, Any]] = set()
    keep = np.zeros(a.size, bool)
    for i in order.tolist():
        x, y = (int(a[i]), sb[i]), (int(b[i]), sa[i])
        if x in taken or y in taken:
            continue
        taken.add(x)
        taken.add(y)
        keep[i] = True
    return scored.filter(pa.array(keep))


def _explained_det(det: pa.Table, sole: pa.Table) -> pa.Table:
    """Deterministic edges for the explanations: the graph's, then the sole-holder rule's."""
    keys_type = pa.list_(pa.string())
    graph = pa.table(
        {
            "a": det["a"],
            "b": det["b"],
            "keys": det["keys"].cast(keys_type),
            "sole_holders": pa.array(np.zeros(det.num_rows, bool)),
        }
    )
    if sole.num_rows == 0:
        return graph
    n = sole.num_rows
    rule = pa.table(
        {
            "a": sole["a"],
            "b": sole["b"],
            "keys": pa.array([["phone"]] * n, keys_type),
            "sole_holders": pa.array(np.ones(n, bool)),
        }
    )
    # a pair the graph already holds keeps the graph's keys
    known = pc.is_in(
        pc.binary_join_element_wise(
            pc.cast(rule["a"], pa.string()), pc.cast(rule["b"], pa.string()), "-"
        ),
        value_set=pc.binary_join_element_wise(
            pc.cast(graph["a"], pa.string()), pc.cast(graph["b"], pa.string()), "-"
        ),
    )
    return pa.concat_tables([graph, rule.filter(pc.invert(known))])


def resolve(
    records: pa.Table,
    *,
    constraints: pa.Table | None = None,
    engine: Engine = "duckdb",
    model: dict[str, Any] | None = None,
    threshold_match_probability: float | None = None,
    spark: Any = None,
    link_only: bool = False,
) -> Resolution:
    """Resolve all ``records`` (columns :data:`RECORD_COLUMNS`) into clusters.

    ``constraints`` (record_a, record_b, kind ``must_link``/``cannot_link``) are respected
    exactly; naming an unknown record is a ``ValueError``. With ``model`` (from an earlier run)
    training is skipped, and the model's own threshold and link mode apply (else the threshold
    defaults to :data:`~cxo.identity.model.DEFAULT_THRESHOLD`, or
    :data:`~cxo.identity.model.LINK_ONLY_THRESHOLD` when link-only). ``engine="spark"``
    scores pairs on Spark (``spark``: a SparkSession; by default the active one, else cxo's
    own). ``link_only``: the records come from lists without duplicates inside each
    ``source_system``, so only pairs across sources are candidates (record linkage, not
    deduplication).
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
        link_only = bool(entry.get("link_only", False))
        threshold = float(entry["threshold_match_probability"])
    elif threshold_match_probability is not None:
        threshold = threshold_match_probability
    else:
        threshold = mdl.LINK_ONLY_THRESHOLD if link_only else mdl.DEFAULT_THRESHOLD
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        feats = features(table, con)
        con.register("cxo_features", feats)
        _prepare(con, "cxo_features", "base")
        hubs = keys.hub_stats(con, "base")
        clock.lap("normalise")
        det = keys.deterministic_edges(con, "base", link_only=link_only)
        components, det_pairs = _det_components(nodes, det)
        _finish(con, "base", "feat", components)
        con.execute("DROP TABLE base")
        clock.lap("deterministic")
        run = SplinkRun(con, "feat", engine=engine, spark=spark, link_only=link_only)
        if model is None:
            trained = run.train(
                records=table.num_rows,
                pairs_by_rule={
                    c: _pairs(con, "feat", c, link_only=link_only) for c in mdl.EM_RULES
                },
                deterministic_pairs=det_pairs,
                exact_pairs=_pairs(con, "feat", "name_key,birth_date", link_only=link_only),
                threshold=threshold,
                total_pairs=_source_pairs(table) if link_only else None,
            )
        else:
            trained = run.use(model)
        clock.lap("train")
        scored = run.predict(rules.LOW)
        clock.lap("predict")
        clusters, edges, prob, sole = _link(
            con, "feat", nodes, must, det, scored, threshold, cannot, link_only
        )
        best = cl.best_edges(edges, {"nodes": nodes, "cluster": clusters})
        assignments = explanations(
            con, nodes, clusters, best, _explained_det(det, sole), prob, run.model
        )
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
        "sole_holder_edges": int(sole.num_rows),
        "manual_edges": int(must.num_rows),
        "cannot_link": len(cannot),
        "hubs": hubs,
        "training": trained,
        "threshold_match_probability": threshold,
        "link_only": link_only,
        "seconds": clock.seconds,
        "engine": engine,
    }
    return Resolution(assignments=assignments, model=run.model, stats=stats, features=feats)


def _source_pairs(table: pa.Table) -> int:
    """Record pairs across different sources: (N² − Σ n_s²) / 2."""
    counts = pc.value_counts(pc.fill_null(table["source_system"], "")).field("counts")
    n = np.asarray(counts.to_numpy(), np.int64)
    return int((n.sum() ** 2 - (n * n).sum()) // 2)


def _tf_tables(
    con: duckdb.DuckDBPyConnection, table: str, population: str | None = None
) -> dict[str, str]:
    """Term-frequency lookups (value → share of non-null values) per TF column of ``table``.

    With ``population``, the shares are among its records (all of them), for the values that
    ``table`` holds (an incremental run's candidates).
    """
    out = {}
    for c in mdl.TF_COLUMNS:
        name = f"cxo_tf_{c}"
        if population is None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {c}, "  # noqa: S608
                f"count(*) / sum(count(*)) OVER () AS tf_{c} FROM {table} "
                f"WHERE {c} IS NOT NULL GROUP BY {c}"
            )
        else:
            # e-mails: every holder of a value email_c keeps is in ``table`` (the hubs it
            # blanks are a handful of records, left in the denominator)
            p = "email" if c == "email_c" else c
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {p} AS {c}, "  # noqa: S608
                f"count(*) / (SELECT count({p}) FROM {population}) AS tf_{c} "
                f"FROM {population} WHERE {p} IN (SELECT {c} FROM {table}) GROUP BY {p}"
            )
        out[c] = name
    return out


def _candidates(con: duckdb.DuckDBPyConnection, features: str, new: str) -> None:
    """View ``cxo_candidates``: the new records' features and those of every record sharing a
    deterministic key value or a blocking-key value (under its cap) with one of them.

    Everything an incremental run decides about a new record depends only on these: a value a
    new record holds is held by candidates only, so hub tests and caps counted among them are
    exact. Leaves ``cxo_keys`` (:func:`_block_keys`, counted over all of ``features``).
    """
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW cxo_all AS SELECT *, {_NAME_HK} AS name_hk, "  # noqa: S608
        f"{_NAME_U} AS name_u FROM {features}"
    )
    _block_keys(con, "cxo_all", new)
    newer = f"(SELECT * FROM {features} WHERE record_pk IN (SELECT record_pk FROM {new}))"  # noqa: S608
    shared = " UNION ".join(
        f"SELECT f.record_pk FROM {features} f JOIN (SELECT DISTINCT {k} FROM {newer} "  # noqa: S608
        f"WHERE {k} IS NOT NULL) n USING ({k})"
        for k in keys.KEYS
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cxo_candidate_pks AS "  # noqa: S608
        f"SELECT record_pk FROM {new} UNION SELECT record_pk FROM cxo_keys UNION {shared}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW cxo_candidates AS SELECT * FROM "  # noqa: S608
        f"{features} WHERE record_pk IN (SELECT record_pk FROM cxo_candidate_pks)"
    )


class _NodeMap:
    """Vectorised lookup: ids in ``keys`` → their ``values``; other ids map to themselves."""

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = np.asarray(keys, np.int64)[order]
        self.values = np.asarray(values, np.int64)[order]

    def __call__(self, ids: Any) -> np.ndarray:
        x = np.asarray(ids, np.int64)
        if self.keys.size == 0 or x.size == 0:
            return x.copy()
        i = np.minimum(np.searchsorted(self.keys, x), self.keys.size - 1)
        return np.where(self.keys[i] == x, self.values[i], x)


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    s = np.sort(np.asarray(x, np.int64))
    if s.size == 0:
        return s
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def _incremental_nodes(
    new_pks: np.ndarray, existing_pks: np.ndarray, existing_cluster: np.ndarray
) -> tuple[np.ndarray, _NodeMap]:
    """Graph nodes (new records and existing clusters) and record → node for existing records."""
    node_of = _NodeMap(existing_pks, existing_cluster)
    nodes = _sorted_unique(np.concatenate([new_pks, existing_cluster]))
    return nodes, node_of


def _to_nodes(edges: pa.Table, node_of: _NodeMap) -> pa.Table:
    """Edges between records → edges between nodes (existing records become their cluster)."""
    if edges.num_rows == 0:
        return edges
    a = node_of(edges["a"].to_numpy())
    b = node_of(edges["b"].to_numpy())
    keep = a != b
    return pa.table(
        {
            "a": pa.array(np.minimum(a, b)[keep]),
            "b": pa.array(np.maximum(a, b)[keep]),
            "rank": edges["rank"].filter(pa.array(keep)),
            "weight": edges["weight"].filter(pa.array(keep)),
        }
    )


def _known_features(
    old: pa.Table, existing_features: pa.Table | None
) -> tuple[pa.Table | None, pa.Table]:
    """(cached features of existing records, existing records still to normalise)."""
    if existing_features is None or existing_features.num_rows == 0:
        return None, old
    missing_columns = set(FEATURE_COLUMNS) - set(existing_features.column_names)
    if missing_columns:
        raise ValueError(
            f"existing_features lack the columns {', '.join(sorted(missing_columns))}; "
            "pass what a Resolution's features hold"
        )
    cached = existing_features.select(list(FEATURE_COLUMNS))
    wanted = pc.is_in(cached["record_pk"], value_set=old["record_pk"])
    if not pc.all(wanted).as_py():  # filtering copies every column: only when there are extras
        cached = cached.filter(wanted)
    if pc.count_distinct(cached["record_pk"]).as_py() != cached.num_rows:
        raise ValueError("existing_features: record_pk values must be unique")
    lacking = pc.invert(pc.is_in(old["record_pk"], value_set=cached["record_pk"]))
    todo = old.filter(lacking) if pc.any(lacking).as_py() else old.slice(0, 0)
    return cached, todo


def resolve_incremental(
    new_records: pa.Table,
    existing: pa.Table,
    *,
    model: dict[str, Any],
    constraints: pa.Table | None = None,
    existing_features: pa.Table | None = None,
) -> Resolution:
    """Resolve ``new_records`` against already-resolved ``existing`` ones, without re-clustering.

    ``existing``: :data:`RECORD_COLUMNS` plus ``cluster`` (int64). Only new × existing and
    new × new pairs are blocked and scored (Splink's ``predict_between``/``predict_within``) with
    ``model``; existing clusters are fixed nodes. Returns assignments for the new records only:
    an existing cluster id, or a new one (the smallest new record_pk). ``stats["bridges"]`` lists
    (cluster_from, cluster_into) where new records join existing clusters (into = the smaller id).
    Constraints are checked against both tables; must-links between two existing clusters are
    left to the caller (a manual merge), cannot-links between them stop any bridge.

    ``existing_features``: normalised features of existing records from earlier runs (the
    ``features`` of their :class:`Resolution`; extra rows are ignored). Those records are not
    normalised again — only their ``record_pk`` and ``cluster`` are read from ``existing``, so
    its other columns may be null for them. The result's ``features`` holds what this run
    normalised (the new records and existing ones the cache lacked), to add to the cache.
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
        cached, todo = _known_features(old, existing_features)
        fresh = features(pa.concat_tables([new, todo.select(new.column_names)]), con)
        con.register("cxo_fresh", fresh)
        if cached is not None:
            con.register("cxo_cached", cached)
            con.execute(
                "CREATE OR REPLACE TEMP VIEW cxo_features AS "
                "SELECT * FROM cxo_fresh UNION ALL SELECT * FROM cxo_cached"
            )
        else:
            con.execute("CREATE OR REPLACE TEMP VIEW cxo_features AS SELECT * FROM cxo_fresh")
        con.register("cxo_new", pa.table({"record_pk": pa.array(new_pks, pa.int64())}))
        clock.lap("normalise")
        _candidates(con, "cxo_features", "cxo_new")
        _prepare(con, "cxo_candidates", "base", population="cxo_features")
        det = keys.deterministic_edges(
            con, "base", new="cxo_new", link_only=bool(entry.get("link_only", False))
        )
        # det_cluster: existing records by their cluster, new ones joined to it through keys
        det_nodes = cl.cluster(nodes, _to_nodes(cl.concat_edges(_det_edges(det)), node_of))
        node_idx = np.searchsorted(nodes, np.concatenate([new_pks, old_cluster]))
        det_cluster = det_nodes[node_idx]
        tf_tables = _tf_tables(con, "base", population="cxo_features")
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
        if entry.get("link_only", False):
            scored = _one_to_one(con, "feat", scored)
        clock.lap("predict")
        # records → nodes; cannot-links only matter between different nodes
        must_n = _to_nodes(must, node_of)
        cannot_n = np.stack([node_of(cannot[:, 0]), node_of(cannot[:, 1])], axis=1)
        cannot_n = cannot_n[cannot_n[:, 0] != cannot_n[:, 1]]
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
        "normalised": int(fresh.num_rows),
        "clusters": int(pc.count_distinct(assignments["cluster"]).as_py()),
        "deterministic_edges": int(det.num_rows),
        "deterministic_edges_by_key": keys.summary(det),
        "probabilistic_edges": int(high.num_rows),
        "bridges": bridges,
        "threshold_match_probability": threshold,
        "seconds": clock.seconds,
        "engine": "duckdb",
    }
    return Resolution(assignments=assignments, model=model, stats=stats, features=fresh)


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
    node_of: _NodeMap,
) -> tuple[pa.Table, list[tuple[int, int]]]:
    """Cluster ids for the new records, bridges, and explanations.

    A component holding existing clusters takes the smallest of their ids (the others are
    bridged into it); one of new records only takes its smallest record_pk.
    """
    existing_ids = _sorted_unique(old_cluster)
    pos = np.minimum(np.searchsorted(existing_ids, nodes), max(existing_ids.size - 1, 0))
    is_old = existing_ids[pos] == nodes if existing_ids.size else np.zeros(nodes.size, bool)
    oc, on = comp_of[is_old], nodes[is_old]
    order = np.lexsort((on, oc))
    oc, on = oc[order], on[order]
    first = np.concatenate(([True], oc[1:] != oc[:-1])) if oc.size else np.zeros(0, bool)
    target = _NodeMap(oc[first], on[first])  # component → its smallest existing cluster
    into = target(oc[~first])
    bridges = sorted(set(zip(on[~first].tolist(), into.tolist(), strict=True)))

    def final(records: np.ndarray) -> np.ndarray:
        node = node_of(records)
        return target(comp_of[np.searchsorted(nodes, node)])

    cluster_new = final(new_pks)
    # explanations: strongest edge of each new record inside its final cluster
    prob_ex = prob.append_column("unique_name", pa.array(np.zeros(prob.num_rows, bool)))
    edges = cl.concat_edges(must, _det_edges(det), prob.select(["a", "b", "rank", "weight"]))
    ends = _sorted_unique(np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy(), new_pks]))
    best = cl.best_edges(edges, {"nodes": ends, "cluster": final(ends)})
    best = best.filter(pc.is_in(best["record_pk"], value_set=pa.array(new_pks)))
    assignments = explanations(con, new_pks, cluster_new, best, det, prob_ex, model)
    return assignments, bridges
