"""Quality of a resolution against the truth, by counting (never listing pairs).

A record pair is *predicted* when both records are in one cluster and *true* when both belong to
one entity. With n_ij the records in predicted cluster i and true entity j, a_i and b_j the sizes
of cluster and entity:

* true positives TP = Σ C(n_ij, 2), predicted pairs = Σ C(a_i, 2), true pairs = Σ C(b_j, 2);
  pairwise precision = TP / predicted, recall = TP / true, F1 their harmonic mean
  (Christen 2012, *Data Matching*, §7.3);
* B-cubed (Bagga & Baldwin 1998): per record, |cluster ∩ entity| / |cluster| (precision) and
  / |entity| (recall), averaged: Σ n_ij² / a_i / N and Σ n_ij² / b_j / N;
* exact clusters: a cluster equal to an entity (n_ij = a_i = b_j); cluster precision = exact /
  clusters, cluster recall = exact / entities.

Everything is O(N log N) in the number of records.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike


def _codes(*labels: ArrayLike) -> np.ndarray:
    """One integer per distinct combination of the label columns."""
    cols = [np.unique(np.asarray(lab), return_inverse=True)[1].ravel() for lab in labels]
    if len(cols) == 1:
        return cols[0]
    return np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)[1].ravel()


def pair_count(*labels: ArrayLike) -> int:
    """Pairs of records agreeing on every label column: Σ C(n, 2) over the label groups."""
    if len(labels) == 0 or np.asarray(labels[0]).size == 0:
        return 0
    counts = np.bincount(_codes(*labels)).astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 1.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def pairwise(predicted: ArrayLike, truth: ArrayLike) -> dict[str, Any]:
    """Pairwise precision, recall, F1 and the counts behind them."""
    tp = pair_count(predicted, truth)
    pred = pair_count(predicted)
    true = pair_count(truth)
    precision, recall = _ratio(tp, pred), _ratio(tp, true)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "true_positives": tp,
        "false_positives": pred - tp,
        "false_negatives": true - tp,
        "predicted_pairs": pred,
        "true_pairs": true,
    }


def pairwise_touching(predicted: ArrayLike, truth: ArrayLike, mask: ArrayLike) -> dict[str, Any]:
    """Pairwise metrics over the pairs with at least one record in ``mask`` (a hard case)."""
    p, t, m = np.asarray(predicted), np.asarray(truth), np.asarray(mask, dtype=bool)
    rest = ~m
    tp = pair_count(p, t) - pair_count(p[rest], t[rest])
    pred = pair_count(p) - pair_count(p[rest])
    true = pair_count(t) - pair_count(t[rest])
    precision, recall = _ratio(tp, pred), _ratio(tp, true)
    return {
        "records": int(m.sum()),
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "false_positives": pred - tp,
        "false_negatives": true - tp,
        "true_pairs": true,
    }


def false_merges_within(predicted: ArrayLike, truth: ArrayLike, group: ArrayLike) -> dict[str, Any]:
    """Pairs of *different* entities that share ``group`` (a household, a name) and were merged.

    ``pairs``: all such cross-entity pairs in the group; ``merged``: those put in one cluster.
    """
    p, t, g = np.asarray(predicted), np.asarray(truth), np.asarray(group)
    pairs = pair_count(g) - pair_count(g, t)
    merged = pair_count(p, g) - pair_count(p, g, t)
    return {"pairs": pairs, "merged": merged, "rate": _ratio(merged, pairs) if pairs else 0.0}


def bcubed(predicted: ArrayLike, truth: ArrayLike) -> dict[str, float]:
    """B-cubed precision, recall and F1."""
    p, t = np.asarray(predicted), np.asarray(truth)
    n = p.size
    if n == 0:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    pc, tc, cell = _codes(p), _codes(t), _codes(p, t)
    a = np.bincount(pc)[pc]
    b = np.bincount(tc)[tc]
    nij = np.bincount(cell)[cell]
    precision = float((nij / a).mean())
    recall = float((nij / b).mean())
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def cluster_metrics(predicted: ArrayLike, truth: ArrayLike) -> dict[str, Any]:
    """Exact-cluster precision/recall, B-cubed, and cluster vs entity counts."""
    p, t = np.asarray(predicted), np.asarray(truth)
    pc, tc, cell = _codes(p), _codes(t), _codes(p, t)
    a = np.bincount(pc)
    b = np.bincount(tc)
    nij = np.bincount(cell)
    # one representative record per cell
    first = np.unique(cell, return_index=True)[1]
    exact = int(np.sum((nij[cell[first]] == a[pc[first]]) & (nij[cell[first]] == b[tc[first]])))
    clusters, entities = int(a.size), int(b.size)
    return {
        "clusters": clusters,
        "entities": entities,
        "exact_clusters": exact,
        "cluster_precision": _ratio(exact, clusters),
        "cluster_recall": _ratio(exact, entities),
        "bcubed": bcubed(p, t),
    }


def evaluate(predicted: ArrayLike, truth: ArrayLike) -> dict[str, Any]:
    """Pairwise and cluster metrics together."""
    return {"pairwise": pairwise(predicted, truth), "clusters": cluster_metrics(predicted, truth)}
