"""The unique-name rule: a second, collective look at pairs the pairwise model left undecided.

Fellegi–Sunter scores each pair on its own. With term-frequency adjustment a shared name is worth
m/tf, where tf counts every *record* that holds the name, so one person's three records make
their own name look three times as common as it is, and a call-centre record whose phone is an
old number (a name and nothing else) stays just under the threshold even when nobody else in the
data has that name.

After the first clustering, a name (``name_key`` or its Cantonese reading ``hk_key``) held by
exactly two clusters is evidence the pairwise model cannot see. A scored pair between those two
clusters that agrees on that name, with a match probability of at least :data:`LOW`, links them
unless the clusters contradict each other (each has birth dates or national ids and they share
none). The link is a probabilistic edge (its own weight) flagged ``unique_name`` in the
explanation.
"""

from __future__ import annotations

from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

LOW: Final = 0.01

_SQL: Final = """
WITH fc AS (
    SELECT f.record_pk, f.name_key, f.hk_key, f.birth_date, f.national_id_hash, c.cluster
    FROM {feat} f JOIN cxo_rule_clusters c USING (record_pk)
), names AS (
    SELECT name_key AS v, cluster FROM fc WHERE name_key IS NOT NULL
    UNION SELECT hk_key, cluster FROM fc WHERE hk_key IS NOT NULL
), uniq AS (
    SELECT v FROM names GROUP BY v HAVING count(DISTINCT cluster) = 2
), cand AS (
    SELECT p.a, p.b, p.weight, ca.cluster AS c1, cb.cluster AS c2
    FROM cxo_rule_low p
    JOIN fc ca ON ca.record_pk = p.a
    JOIN fc cb ON cb.record_pk = p.b
    WHERE ca.cluster <> cb.cluster AND (
        (ca.name_key = cb.name_key AND ca.name_key IN (SELECT v FROM uniq))
        OR (ca.hk_key = cb.hk_key AND ca.hk_key IN (SELECT v FROM uniq)))
), facts AS (
    SELECT cluster,
        list(DISTINCT birth_date) FILTER (WHERE birth_date IS NOT NULL) AS d,
        list(DISTINCT national_id_hash) FILTER (WHERE national_id_hash IS NOT NULL) AS n
    FROM fc GROUP BY cluster
)
SELECT cand.a, cand.b
FROM cand
LEFT JOIN facts fa ON fa.cluster = cand.c1
LEFT JOIN facts fb ON fb.cluster = cand.c2
WHERE NOT (coalesce(len(fa.d), 0) > 0 AND coalesce(len(fb.d), 0) > 0
           AND len(list_intersect(fa.d, fb.d)) = 0)
  AND NOT (coalesce(len(fa.n), 0) > 0 AND coalesce(len(fb.n), 0) > 0
           AND len(list_intersect(fa.n, fb.n)) = 0)
ORDER BY cand.a, cand.b
"""


def unique_name_pairs(
    con: duckdb.DuckDBPyConnection,
    feat: str,
    nodes: np.ndarray,
    clusters: np.ndarray,
    low: pa.Table,
) -> pa.Table:
    """Pairs (a, b) from ``low`` (scored pairs under the threshold) that the rule accepts.

    ``clusters``: the first clustering's id per node of ``nodes``; ``feat``: the feature table.
    """
    if low.num_rows == 0:
        return pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64())})
    con.register("cxo_rule_clusters", pa.table({"record_pk": nodes, "cluster": clusters}))
    con.register("cxo_rule_low", low.select(["a", "b", "weight"]))
    try:
        out = con.sql(_SQL.format(feat=feat)).to_arrow_table()
    finally:
        con.unregister("cxo_rule_clusters")
        con.unregister("cxo_rule_low")
    return out
