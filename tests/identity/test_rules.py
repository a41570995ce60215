"""The collective rules on hand-made feature tables: oracle cases, one property each."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cxo.identity import rules

_COLUMNS = ("name_key", "name_hk", "name_u", "given", "phone", "birth_date", "national_id_hash")


def _feat(rows: list[dict]) -> tuple[duckdb.DuckDBPyConnection, np.ndarray]:
    """A feature table ``f`` (record_pk, names, phone, dates) from rows; returns (con, pks)."""
    table = {
        "record_pk": pa.array([r["pk"] for r in rows], pa.int64()),
        "surname_alts": pa.array([r.get("surname_alts") for r in rows], pa.list_(pa.string())),
    }
    for c in _COLUMNS:
        table[c] = pa.array([r.get(c) for r in rows], pa.string())
    con = duckdb.connect()
    con.register("f", pa.table(table))
    return con, np.array([r["pk"] for r in rows], np.int64)


def _anna(pk: int, **kw: object) -> dict:
    return {"pk": pk, "name_key": "chen anna", "name_hk": "chan anna", "name_u": "anna chen",
            "given": "anna", "surname_alts": ["chen", "chan"], **kw}  # fmt: skip


def _pairs(rows: list[dict], clusters: list[int]) -> list[tuple[int, int]]:
    con, pks = _feat(rows)
    out = rules.sole_mobile_pairs(con, "f", pks, np.array(clusters, np.int64))
    return list(zip(out["a"].to_pylist(), out["b"].to_pylist(), strict=True))


def test_a_mobile_held_by_two_clusters_links_them() -> None:
    # CRM Anna (cluster 1, two records) and a call-centre record with a typo in the given name
    rows = [
        _anna(1, phone="85291234567", birth_date="1990-02-03"),
        _anna(2, phone="85291234567"),
        _anna(3, name_key="chen anma", name_hk="chan anma", name_u="anma chen", given="anma",
              phone="85291234567"),
    ]  # fmt: skip
    assert _pairs(rows, [1, 1, 3]) == [(1, 3)]


def test_what_the_rule_leaves_alone() -> None:
    typo = {"name_key": "chen anma", "name_hk": "chan anma", "name_u": "anma chen"}
    # a landline (Hong Kong 2…/3…) is a household's: never a sole-holder link
    assert (
        _pairs([_anna(1, phone="85221234567"), _anna(2, **typo, phone="85221234567")], [1, 2]) == []
    )
    # three clusters hold the mobile: not one customer's
    three = [_anna(1, phone="85291234567"), _anna(2, phone="85291234567"),
             _anna(3, phone="85291234567")]  # fmt: skip
    assert _pairs(three, [1, 2, 3]) == []
    # birth dates that contradict
    dated = [_anna(1, phone="8613912345678", birth_date="1990-02-03"),
             _anna(2, phone="8613912345678", birth_date="1971-11-30")]  # fmt: skip
    assert _pairs(dated, [1, 2]) == []
    # names with nothing in common (a lent phone)
    other = {
        "pk": 2,
        "name_key": "wong kaming",
        "name_hk": "wong kaming",
        "name_u": "kaming wong",
        "given": "kaming",
        "surname_alts": ["wang", "huang", "wong"],
        "phone": "85291234567",
    }
    assert _pairs([_anna(1, phone="85291234567"), other], [1, 2]) == []
    # already one cluster: nothing to add
    assert _pairs([_anna(1, phone="85291234567"), _anna(2, phone="85291234567")], [1, 1]) == []
