"""The deterministic identity graph: edges between records that share a strong key.

Which keys link on their own, and which need corroboration
----------------------------------------------------------
* **national_id_hash, email, loyalty_no, customer_no** are *strong*: a shared value links two
  records unless something contradicts it — different birth dates (more than one typo apart),
  different national ids, or names that do not match even loosely. Families do share e-mail
  addresses, and common names make for identical "given.family@163.com" addresses, so the name
  and date checks are not optional. The customer number a call centre records is the one the
  caller was verified against, which for a joint-account holder or someone calling for a partner
  is a household member's: its names must be close (:data:`NAME_CLOSE`: the same in some
  rendering or one typo apart), not just alike, which keeps that call off the partner's customer.
* **phone and device_id** are *weak*: households share a landline and a tablet (same surname,
  same address, same phone, different person), and numbers are recycled, so they link only with a
  positively matching name (same name in some script/romanisation, or a name one typo away) and
  no contradicting birth date or national id.
* A value held by more than :data:`HUB_MAX_RECORDS` records or by more than
  :data:`HUB_MAX_NAMES` distinct names is *not a key* (a call centre's own number, a shop's
  e-mail, ``test@test.com``): it links nothing (blocking caps it too); the number of such values
  per key goes into the run's stats. Nor is a strong-key value whose holders have two different
  birth dates or national ids: they are provably different people (namesakes with the same
  "given.family@163.com"), so the value decides nothing and the pairs go to the probabilistic
  model.

Everything here is SQL on DuckDB over the feature table (see :mod:`cxo.identity.normalise`).
"""

from __future__ import annotations

from typing import Any, Final

import duckdb
import pyarrow as pa

STRONG_KEYS: Final = ("national_id_hash", "email", "loyalty_no", "customer_no")
WEAK_KEYS: Final = ("phone", "device_id")
KEYS: Final = (*STRONG_KEYS, *WEAK_KEYS)
# Strong keys whose holders' names, where both have one, must be close (NAME_CLOSE), not just
# loosely alike: the number a caller was verified on may be a household member's.
CLOSE_NAME_KEYS: Final = ("customer_no",)
HUB_MAX_RECORDS: Final = 50
HUB_MAX_NAMES: Final = 4

# Name agreement between records a and b, in increasing looseness.
NAME_STRICT: Final = """(
    len(list_intersect(a.name_alts, b.name_alts)) > 0
    OR jaro_winkler_similarity(a.name_key, b.name_key) >= 0.94
    OR jaro_winkler_similarity(a.name_hk, b.name_hk) >= 0.94
    OR (len(list_intersect(a.surname_alts, b.surname_alts)) > 0
        AND jaro_winkler_similarity(coalesce(a.given, ''), coalesce(b.given, '')) >= 0.9)
)"""
NAME_LOOSE: Final = f"""(
    {NAME_STRICT}
    OR jaro_winkler_similarity(a.name_key, b.name_key) >= 0.85
    OR (len(list_intersect(a.surname_alts, b.surname_alts)) > 0
        AND jaro_winkler_similarity(coalesce(a.given, ''), coalesce(b.given, '')) >= 0.75)
)"""
# Strict, or one typo away in any rendering (the order-free one too: a typo in a family name
# hides it, and the name then parses the other way round). For the call centre's customer number:
# the agent's typing slips, but a household member's name is rarely one edit from the caller's.
NAME_CLOSE: Final = f"""(
    {NAME_STRICT}
    OR jaro_winkler_similarity(a.name_u, b.name_u) >= 0.94
    OR damerau_levenshtein(a.name_key, b.name_key) <= 1
    OR damerau_levenshtein(a.name_u, b.name_u) <= 1
    OR damerau_levenshtein(a.name_hk, b.name_hk) <= 1
)"""
CONFLICT: Final = """(
    (a.birth_date IS NOT NULL AND b.birth_date IS NOT NULL AND a.birth_date <> b.birth_date
        AND damerau_levenshtein(a.birth_date, b.birth_date) > 1)
    OR (a.national_id_hash IS NOT NULL AND b.national_id_hash IS NOT NULL
        AND a.national_id_hash <> b.national_id_hash)
)"""
BOTH_NAMED: Final = "(a.name_key IS NOT NULL AND b.name_key IS NOT NULL)"


def hub_values(table: str, key: str) -> str:
    """SQL selecting the values of ``key`` in ``table`` that cannot serve as a key.

    Too common (a hub), or — for a strong key — held by records that provably belong to different
    people (two birth dates or two national ids): namesakes get the same "wei.wang@163.com".
    """
    ambiguous = (
        " OR count(DISTINCT birth_date) > 1 OR count(DISTINCT national_id_hash) > 1"
        if key in STRONG_KEYS
        else ""
    )
    return (
        f"SELECT {key} AS v FROM {table} WHERE {key} IS NOT NULL GROUP BY {key} "  # noqa: S608
        f"HAVING count(*) > {HUB_MAX_RECORDS} "
        f"OR count(DISTINCT coalesce(name_key, '')) > {HUB_MAX_NAMES}{ambiguous}"
    )


def hub_stats(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dict[str, int]]:
    """Per key: how many values were skipped as hubs and how many records hold them."""
    out: dict[str, dict[str, int]] = {}
    for key in KEYS:
        row = con.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT {key}, count(*) AS n "  # noqa: S608
            f"FROM {table} WHERE {key} IN ({hub_values(table, key)}) GROUP BY {key})"
        ).fetchall()[0]
        if row and row[0]:
            out[key] = {"values": int(row[0]), "records": int(row[1])}
    return out


def _pairs_sql(table: str, key: str, *, left: str | None = None, link_only: bool = False) -> str:
    """Candidate pairs sharing ``key`` (a < b), excluding hub values.

    With ``left`` (a table of new record_pks), only pairs with at least one new record; with
    ``link_only``, only pairs from different sources.
    """
    if key in STRONG_KEYS:
        name = NAME_CLOSE if key in CLOSE_NAME_KEYS else NAME_LOOSE
        condition = f"NOT {CONFLICT} AND (NOT {BOTH_NAMED} OR {name})"
    else:
        condition = f"{BOTH_NAMED} AND {NAME_STRICT} AND NOT {CONFLICT}"
    source = table
    new_only = " AND a.source_system <> b.source_system" if link_only else ""
    if left:
        # only records whose value a new record holds can pair with one
        source = (
            f"(SELECT * FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "  # noqa: S608
            f"WHERE record_pk IN (SELECT record_pk FROM {left})))"
        )
        new_only += (
            f" AND (a.record_pk IN (SELECT record_pk FROM {left})"  # noqa: S608
            f" OR b.record_pk IN (SELECT record_pk FROM {left}))"
        )
    return (
        f"SELECT a.record_pk AS a, b.record_pk AS b, '{key}' AS key "  # noqa: S608
        f"FROM {source} a JOIN {source} b ON a.{key} = b.{key} AND a.record_pk < b.record_pk "
        f"WHERE a.{key} NOT IN ({hub_values(table, key)}) AND {condition}{new_only}"
    )


def deterministic_edges(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    new: str | None = None,
    link_only: bool = False,
) -> pa.Table:
    """Edges (a int64 < b int64, keys list<string>) of the deterministic graph over ``table``.

    ``table`` is a feature table with a ``name_hk`` column (Cantonese-space name). With ``new``
    (a table of record_pks) only edges touching a new record are returned; with ``link_only``
    only edges between records of different sources.
    """
    union = " UNION ALL ".join(_pairs_sql(table, k, left=new, link_only=link_only) for k in KEYS)
    return con.sql(
        f"SELECT a, b, list(key ORDER BY key) AS keys FROM ({union}) GROUP BY a, b "  # noqa: S608
        "ORDER BY a, b"
    ).to_arrow_table()


def summary(edges: pa.Table) -> dict[str, Any]:
    """Edge counts per key (an edge with two keys counts for both)."""
    counts: dict[str, int] = {}
    for keys in edges["keys"].to_pylist():
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
    return counts
