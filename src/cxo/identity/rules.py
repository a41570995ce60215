"""Collective rules: a second look, at the level of clusters, at what pairwise scoring left open.

Two rules: the unique-name rule (below) and the sole-holder rule (:func:`sole_mobile_pairs`: a
mobile number held by exactly two clusters links them).

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


# Mobile numbering ranges (E.164 digits) of the markets cxo serves: a mobile is one person's,
# a landline a household's. Mainland China 1[3-9]…, Hong Kong 5/6/9…, UK 7…, Australia 4…,
# Singapore 8/9…; numbers elsewhere count as not known to be mobile (the rule ignores them).
MOBILE_PATTERN: Final = "^(861[3-9]|852[5679]|447[1-9]|614|65[89])"
# The loosest name agreement the sole-holder rule asks for: it only guards against a mobile
# lent to someone else, since the number itself is the evidence.
NAME_JW: Final = 0.7

_SOLE_SQL: Final = """
WITH fc AS (
    SELECT f.record_pk, f.phone, f.name_key, f.name_hk, f.name_u, f.surname_alts, f.given,
        f.birth_date, f.national_id_hash, c.cluster
    FROM {feat} f JOIN cxo_rule_clusters c USING (record_pk)
), holders AS (
    SELECT phone, min(cluster) AS c1, max(cluster) AS c2
    FROM fc WHERE phone IS NOT NULL AND regexp_matches(phone, '{mobile}')
    GROUP BY phone HAVING count(DISTINCT cluster) = 2
), facts AS (
    SELECT cluster,
        list(DISTINCT birth_date) FILTER (WHERE birth_date IS NOT NULL) AS d,
        list(DISTINCT national_id_hash) FILTER (WHERE national_id_hash IS NOT NULL) AS n
    FROM fc WHERE cluster IN (SELECT c1 FROM holders UNION SELECT c2 FROM holders)
    GROUP BY cluster
), ends AS (
    -- per number and side: the smallest record holding it (the edge's end) and the names
    SELECT h.phone, fc.cluster, min(fc.record_pk) AS rec
    FROM holders h JOIN fc ON fc.phone = h.phone GROUP BY h.phone, fc.cluster
), names AS (
    SELECT cluster, list(DISTINCT name_key) AS k, list(DISTINCT name_hk) AS hk,
        list(DISTINCT name_u) AS u, flatten(list(surname_alts)) AS s, list(DISTINCT given) AS g
    FROM fc WHERE name_key IS NOT NULL
        AND cluster IN (SELECT c1 FROM holders UNION SELECT c2 FROM holders)
    GROUP BY cluster
)
SELECT least(e1.rec, e2.rec) AS a, greatest(e1.rec, e2.rec) AS b
FROM holders h
JOIN ends e1 ON e1.phone = h.phone AND e1.cluster = h.c1
JOIN ends e2 ON e2.phone = h.phone AND e2.cluster = h.c2
LEFT JOIN facts f1 ON f1.cluster = h.c1
LEFT JOIN facts f2 ON f2.cluster = h.c2
LEFT JOIN names n1 ON n1.cluster = h.c1
LEFT JOIN names n2 ON n2.cluster = h.c2
WHERE NOT (coalesce(len(f1.d), 0) > 0 AND coalesce(len(f2.d), 0) > 0
           AND len(list_intersect(f1.d, f2.d)) = 0)
  AND NOT (coalesce(len(f1.n), 0) > 0 AND coalesce(len(f2.n), 0) > 0
           AND len(list_intersect(f1.n, f2.n)) = 0)
  AND (n1.cluster IS NULL OR n2.cluster IS NULL
       OR len(list_intersect(n1.s, n2.s)) > 0 OR len(list_intersect(n1.g, n2.g)) > 0
       OR list_max(list_transform(n1.k, lambda x:
              list_max(list_transform(n2.k, lambda y: jaro_winkler_similarity(x, y))))) >= {jw}
       OR list_max(list_transform(n1.hk, lambda x:
              list_max(list_transform(n2.hk, lambda y: jaro_winkler_similarity(x, y))))) >= {jw}
       OR list_max(list_transform(n1.u, lambda x:
              list_max(list_transform(n2.u, lambda y: jaro_winkler_similarity(x, y))))) >= {jw})
ORDER BY a, b
"""


def sole_mobile_pairs(
    con: duckdb.DuckDBPyConnection, feat: str, nodes: np.ndarray, clusters: np.ndarray
) -> pa.Table:
    """Record pairs (a, b) joining two clusters that are the only holders of a mobile number.

    The sole-holder rule: a mobile number (:data:`MOBILE_PATTERN`) held by records of exactly
    two clusters links them, unless their birth dates or national ids contradict or their
    names share nothing (no family or given name, Jaro-Winkler under :data:`NAME_JW` in every
    rendering). Pairwise, a call-centre record whose name has a typo and whose number a
    customer's CRM record holds looks like a household member (same surname, same phone); at
    the cluster level the number belongs to one customer only. Landlines are left out: a
    household shares them. The pair is a record of each cluster holding the number.
    """
    con.register("cxo_rule_clusters", pa.table({"record_pk": nodes, "cluster": clusters}))
    try:
        sql = _SOLE_SQL.format(feat=feat, mobile=MOBILE_PATTERN, jw=NAME_JW)
        out = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("cxo_rule_clusters")
    return pa.table({"a": out["a"].cast(pa.int64()), "b": out["b"].cast(pa.int64())})
