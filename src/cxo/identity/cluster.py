"""Clusters from scored edges, respecting manual must-link and cannot-link decisions exactly.

Edges are taken strongest first — must-link (manual), then deterministic (shared strong keys),
then probabilistic by match weight, ties by record ids — and merged with union-find, refusing a
union that would put a cannot-link pair together. Without any cannot-link pair that order does
not matter, and the components come from SciPy's connected components over the whole graph; only
components that hold both ends of a cannot-link pair are redone edge by edge in Python.

A cluster's id is its smallest record_pk, so the result does not depend on the input row order.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

RANK_MANUAL: Final = 0
RANK_DETERMINISTIC: Final = 1
RANK_PROBABILISTIC: Final = 2
EDGE_SCHEMA: Final = pa.schema(
    [("a", pa.int64()), ("b", pa.int64()), ("rank", pa.int8()), ("weight", pa.float64())]
)


def empty_edges() -> pa.Table:
    return EDGE_SCHEMA.empty_table()


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


class _UnionFind:
    def __init__(self, nodes: np.ndarray, forbid: dict[int, set[int]]) -> None:
        self.parent = {int(x): int(x) for x in nodes}
        # root → records it must never be joined with
        self.forbid: dict[int, set[int]] = {k: set(v) for k, v in forbid.items()}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def union(self, x: int, y: int) -> bool:
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return True
        fx, fy = self.forbid.get(rx, set()), self.forbid.get(ry, set())
        if any(z in self.parent and self.find(z) == ry for z in fx) or any(
            z in self.parent and self.find(z) == rx for z in fy
        ):
            return False
        keep, gone = (rx, ry) if rx < ry else (ry, rx)
        self.parent[gone] = keep
        if fx or fy:
            self.forbid[keep] = fx | fy
            self.forbid.pop(gone, None)
        return True


def cluster(nodes: np.ndarray, edges: pa.Table, cannot: np.ndarray | None = None) -> np.ndarray:
    """Cluster id (smallest member) per node of ``nodes`` (sorted int64 ids).

    ``edges``: :data:`EDGE_SCHEMA` between node ids; ``cannot``: an (k, 2) array of node pairs
    that must end in different clusters. Raises ``ValueError`` if a must-link edge joins a
    cannot-link pair directly.
    """
    n = nodes.size
    if n == 0:
        return np.empty(0, np.int64)
    a = np.searchsorted(nodes, edges["a"].to_numpy())
    b = np.searchsorted(nodes, edges["b"].to_numpy())
    labels = _components(n, a, b)
    if cannot is not None and len(cannot):
        ca = np.searchsorted(nodes, cannot[:, 0])
        cb = np.searchsorted(nodes, cannot[:, 1])
        broken = np.unique(labels[ca][labels[ca] == labels[cb]])
        if broken.size:
            labels = _redo(nodes, labels, broken, edges, a, b, ca, cb)
    # cluster id = smallest node id in the component
    order = np.argsort(labels, kind="stable")
    first = np.ones(n, bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    group = np.cumsum(first) - 1
    smallest = nodes[order][first]  # nodes are sorted, so the first of each group is smallest
    out = np.empty(n, np.int64)
    out[order] = smallest[group]
    return out


def _redo(
    nodes: np.ndarray,
    labels: np.ndarray,
    broken: np.ndarray,
    edges: pa.Table,
    a: np.ndarray,
    b: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
) -> np.ndarray:
    """Union-find, strongest edge first, inside the components that hold a cannot-link pair."""
    in_broken = np.isin(labels, broken)
    sel = in_broken[a]
    rank = edges["rank"].to_numpy()[sel]
    weight = np.nan_to_num(edges["weight"].to_numpy(zero_copy_only=False)[sel], nan=np.inf)
    ea, eb = a[sel], b[sel]
    order = np.lexsort((np.maximum(ea, eb), np.minimum(ea, eb), -weight, rank))
    forbid: dict[int, set[int]] = {}
    for x, y in zip(ca.tolist(), cb.tolist(), strict=True):
        forbid.setdefault(x, set()).add(y)
        forbid.setdefault(y, set()).add(x)
    members = np.flatnonzero(in_broken)
    uf = _UnionFind(members, {k: v for k, v in forbid.items() if in_broken[k]})
    for i in order.tolist():
        x, y = int(ea[i]), int(eb[i])
        if not uf.union(x, y) and rank[i] == RANK_MANUAL:
            raise ValueError(
                f"must-link between records {nodes[x]} and {nodes[y]} contradicts a cannot-link "
                "constraint"
            )
    out = labels.copy()
    base = labels.max() + 1
    for m in members.tolist():
        out[m] = base + uf.find(m)
    return out


def best_edges(edges: pa.Table, clusters: dict[str, np.ndarray]) -> pa.Table:
    """Per record, the strongest edge that links it inside its own cluster.

    ``clusters``: ``nodes`` (sorted ids) and ``cluster`` (their cluster ids). Returns columns
    ``record_pk``, ``other``, ``rank``, ``weight`` (one row per record with such an edge).
    """
    nodes, cl = clusters["nodes"], clusters["cluster"]
    if edges.num_rows == 0:
        return pa.table(
            {
                "record_pk": pa.array([], pa.int64()),
                "other": pa.array([], pa.int64()),
                "rank": pa.array([], pa.int8()),
                "weight": pa.array([], pa.float64()),
            }
        )
    a = edges["a"].to_numpy()
    b = edges["b"].to_numpy()
    same = cl[np.searchsorted(nodes, a)] == cl[np.searchsorted(nodes, b)]
    a, b = a[same], b[same]
    rank = edges["rank"].to_numpy()[same]
    weight = edges["weight"].to_numpy(zero_copy_only=False)[same]
    rec = np.concatenate([a, b])
    other = np.concatenate([b, a])
    rank2 = np.concatenate([rank, rank])
    w2 = np.concatenate([weight, weight])
    key_w = -np.nan_to_num(w2, nan=np.inf)
    order = np.lexsort((other, key_w, rank2, rec))
    rec, other, rank2, w2 = rec[order], other[order], rank2[order], w2[order]
    first = np.ones(rec.size, bool)
    first[1:] = rec[1:] != rec[:-1]
    return pa.table(
        {
            "record_pk": pa.array(rec[first], pa.int64()),
            "other": pa.array(other[first], pa.int64()),
            "rank": pa.array(rank2[first], pa.int8()),
            "weight": pa.array(w2[first], pa.float64()),
        }
    )


def concat_edges(*parts: pa.Table) -> pa.Table:
    """Edges of several kinds as one table with a < b."""
    tables = [p.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA) for p in parts if p.num_rows]
    if not tables:
        return empty_edges()
    t = pa.concat_tables(tables)
    lo = pc.min_element_wise(t["a"], t["b"])
    hi = pc.max_element_wise(t["a"], t["b"])
    return pa.table({"a": lo, "b": hi, "rank": t["rank"], "weight": t["weight"]})
