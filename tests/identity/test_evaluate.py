"""Metrics by counting, checked by hand and against brute-force pair enumeration."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.identity.evaluate import (
    bcubed,
    cluster_metrics,
    false_merges_within,
    pair_count,
    pairwise,
    pairwise_touching,
)


def test_hand_computed_example() -> None:
    # truth: {1,2,3} {4,5}; predicted: {1,2} {3,4,5}
    truth = [1, 1, 1, 2, 2]
    pred = [10, 10, 20, 20, 20]
    r = pairwise(pred, truth)
    # true pairs: 12 13 23 45 = 4; predicted: 12 34 35 45 = 4; common: 12 45 = 2
    assert (r["true_pairs"], r["predicted_pairs"], r["true_positives"]) == (4, 4, 2)
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["f1"] == 0.5
    b = bcubed(pred, truth)
    # precision per record: 1, 1, 1/3, 2/3, 2/3 → 11/15; recall: 2/3, 2/3, 1/3, 1, 1 → 11/15
    assert abs(b["precision"] - 11 / 15) < 1e-12 and abs(b["recall"] - 11 / 15) < 1e-12
    c = cluster_metrics(pred, truth)
    assert c["clusters"] == 2 and c["entities"] == 2 and c["exact_clusters"] == 0


def test_perfect_and_empty() -> None:
    assert pairwise([1, 1, 2], ["a", "a", "b"])["f1"] == 1.0
    assert pairwise([], [])["f1"] == 1.0
    assert cluster_metrics([1, 1, 2], [5, 5, 6])["cluster_precision"] == 1.0


def test_false_merges_within_a_group() -> None:
    # household h1 holds persons 1 and 2 (three records); person 1's two records and person 2's
    # record were all merged into one cluster: two cross-person pairs, both merged
    pred = [7, 7, 7]
    truth = [1, 1, 2]
    household = ["h1", "h1", "h1"]
    assert false_merges_within(pred, truth, household) == {"pairs": 2, "merged": 2, "rate": 1.0}


def _brute(pred: list[int], truth: list[int], mask: list[bool] | None = None) -> tuple[int, ...]:
    tp = fp = fn = 0
    for i, j in combinations(range(len(pred)), 2):
        if mask is not None and not (mask[i] or mask[j]):
            continue
        same_p, same_t = pred[i] == pred[j], truth[i] == truth[j]
        tp += same_p and same_t
        fp += same_p and not same_t
        fn += same_t and not same_p
    return tp, fp, fn


labels = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.booleans()), max_size=40)


@settings(max_examples=200, deadline=None)
@given(labels)
def test_counts_match_brute_force(rows: list[tuple[int, int, bool]]) -> None:
    pred = [r[0] for r in rows]
    truth = [r[1] for r in rows]
    mask = [r[2] for r in rows]
    r = pairwise(pred, truth)
    assert (r["true_positives"], r["false_positives"], r["false_negatives"]) == _brute(pred, truth)
    t = pairwise_touching(pred, truth, mask)
    tp, fp, fn = _brute(pred, truth, mask)
    assert (t["false_positives"], t["false_negatives"]) == (fp, fn)
    assert t["true_pairs"] == tp + fn
    assert pair_count(pred) == sum(
        1 for i, j in combinations(range(len(pred)), 2) if pred[i] == pred[j]
    )


@settings(max_examples=100, deadline=None)
@given(labels)
def test_bcubed_matches_definition(rows: list[tuple[int, int, bool]]) -> None:
    pred = np.array([r[0] for r in rows])
    truth = np.array([r[1] for r in rows])
    if pred.size == 0:
        return
    p = np.mean(
        [
            np.sum((pred == pred[i]) & (truth == truth[i])) / np.sum(pred == pred[i])
            for i in range(pred.size)
        ]
    )
    r = np.mean(
        [
            np.sum((pred == pred[i]) & (truth == truth[i])) / np.sum(truth == truth[i])
            for i in range(pred.size)
        ]
    )
    b = bcubed(pred, truth)
    assert abs(b["precision"] - p) < 1e-12 and abs(b["recall"] - r) < 1e-12
