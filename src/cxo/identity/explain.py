"""Why a record is in its cluster: one compact JSON per record, built in DuckDB.

The explanation shows the strongest edge that links the record inside its cluster:

* deterministic: ``{"to": 17, "keys": ["email", "phone"]}``;
* probabilistic: ``{"to": 17, "match_weight": 14.2, "match_probability": 0.9999,
  "fields": {"name": {"level": "Same name in another script, romanisation or order",
  "bayes_factor": 310.5}, "phone": {...}}}`` — every compared field with data on both sides,
  its level and its Bayes factor (m/u, term-frequency adjusted; above 1 is for, below against);
* a link by the unique-name rule (:mod:`cxo.identity.rules`) is probabilistic with
  ``"unique_name": true``; one by the sole-holder rule (two clusters alone hold a mobile
  number) is deterministic with ``"keys": ["phone"], "sole_holders": true``;
* manual: ``{"to": 17, "constraint": "must_link"}``;
* a singleton: ``{}``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from cxo.identity.model import level_labels


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fields_sql(prob: pa.Table, model: dict[str, Any]) -> str:
    """SQL building the "fields" JSON object of a probabilistic edge (alias p)."""
    labels = level_labels(model)
    entries = []
    for name, by_value in labels.items():
        gamma = f"gamma_{name}"
        if gamma not in prob.column_names:
            continue
        cases = " ".join(f"WHEN {v} THEN {_quote(label)}" for v, label in by_value.items())
        weight = f"coalesce(p.mw_{name}, 0)" if f"mw_{name}" in prob.column_names else "0"
        if f"mw_tf_adj_{name}" in prob.column_names:
            weight += f" + coalesce(p.mw_tf_adj_{name}, 0)"
        entries.append(
            f"struct_pack(k := {_quote(name)}, v := struct_pack("
            f"level := CASE p.{gamma} {cases} END, "
            f"bayes_factor := round(pow(2, {weight}), 3)))"
        )
    if not entries:
        return "NULL"
    return f"map_from_entries(list_filter([{', '.join(entries)}], lambda e: e.v.level IS NOT NULL))"


def explanations(
    con: duckdb.DuckDBPyConnection,
    nodes: np.ndarray,
    clusters: np.ndarray,
    best: pa.Table,
    det: pa.Table,
    prob: pa.Table,
    model: dict[str, Any],
) -> pa.Table:
    """The assignments table: record_pk, cluster, method, match_weight, explanation."""
    con.register("cxo_nodes", pa.table({"record_pk": nodes, "cluster": clusters}))
    con.register("cxo_best", best)
    if "sole_holders" not in det.column_names:
        det = det.append_column("sole_holders", pa.array(np.zeros(det.num_rows, bool)))
    con.register("cxo_det_edges", det)
    con.register("cxo_prob_edges", prob)
    fields = _fields_sql(prob, model)
    sql = f"""
    SELECT n.record_pk, n.cluster,
        CASE WHEN b.rank IS NULL THEN 'singleton' WHEN b.rank = 0 THEN 'manual'
             WHEN b.rank = 1 THEN 'deterministic' ELSE 'probabilistic' END AS method,
        CASE WHEN b.rank = 2 THEN CAST(b.weight AS DOUBLE) END AS match_weight,
        CASE WHEN b.rank IS NULL THEN '{{}}'
             WHEN b.rank = 0 THEN CAST(json_object('to', b.other, 'constraint', 'must_link')
                AS VARCHAR)
             WHEN b.rank = 1 AND d.sole_holders THEN CAST(json_object('to', b.other,
                'keys', d.keys, 'sole_holders', true) AS VARCHAR)
             WHEN b.rank = 1 THEN CAST(json_object('to', b.other, 'keys', d.keys) AS VARCHAR)
             WHEN p.unique_name THEN CAST(json_object('to', b.other,
                'match_weight', round(p.weight, 2),
                'match_probability', round(p.match_probability, 6),
                'unique_name', true,
                'fields', {fields}) AS VARCHAR)
             ELSE CAST(json_object('to', b.other,
                'match_weight', round(p.weight, 2),
                'match_probability', round(p.match_probability, 6),
                'fields', {fields}) AS VARCHAR)
        END AS explanation
    FROM cxo_nodes n
    LEFT JOIN cxo_best b ON b.record_pk = n.record_pk
    LEFT JOIN cxo_det_edges d ON b.rank = 1
        AND d.a = least(b.record_pk, b.other) AND d.b = greatest(b.record_pk, b.other)
    LEFT JOIN cxo_prob_edges p ON b.rank = 2
        AND p.a = least(b.record_pk, b.other) AND p.b = greatest(b.record_pk, b.other)
    ORDER BY n.record_pk
    """  # noqa: S608
    out = con.sql(sql).to_arrow_table()
    for name in ("cxo_nodes", "cxo_best", "cxo_det_edges", "cxo_prob_edges"):
        con.unregister(name)
    return pa.table(
        {
            "record_pk": out["record_pk"].cast(pa.int64()),
            "cluster": out["cluster"].cast(pa.int64()),
            "method": out["method"].cast(pa.string()),
            "match_weight": out["match_weight"].cast(pa.float64()),
            "explanation": out["explanation"].cast(pa.string()),
        }
    )
