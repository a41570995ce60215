"""Golden records: which source value of each field survives into the customer record.

Rules are data, one per golden field:

``trusted``
    the value from the most trusted source system (``CXO_SOURCE_TRUST``), newest first within it;
``recent``
    the most recently updated value, whatever its source;
``frequent``
    the value most records agree on; ties go to the more trusted, then the newer value.

Every rule skips empty values and ends in a total order (record id last), so golden records are
deterministic. The computation is one SQL query on an in-memory DuckDB over Arrow, the same for
either store, and handles a million records in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Literal

import duckdb
import pyarrow as pa
import yaml

from cxo.errors import ConfigError

Rule = Literal["trusted", "recent", "frequent"]
RULES: Final[tuple[Rule, ...]] = ("trusted", "recent", "frequent")

# Golden field -> (record expression over the canonical fields, default rule).
GOLDEN_FIELDS: Final[dict[str, tuple[str, Rule]]] = {
    "display_name": ("display", "trusted"),
    "given_name": ("given_name", "trusted"),
    "family_name": ("family_name", "trusted"),
    "english_name": ("english_name", "frequent"),
    "email": ("email", "recent"),
    "phone_e164": ("phone", "recent"),
    "birth_date": ("birth_date", "frequent"),
    "gender": ("gender", "trusted"),
    "address": ("address", "recent"),
    "city": ("city", "frequent"),
    "country": ("country", "frequent"),
    "language": ("language", "recent"),
    "loyalty_no": ("loyalty_no", "trusted"),
    "customer_no": ("customer_no", "trusted"),
}
"""The golden fields; those that are not columns of ``customers`` go to its ``attributes``."""

_DISPLAY = """
CASE
  WHEN nullif(trim(full_name), '') IS NOT NULL THEN trim(full_name)
  WHEN regexp_matches(coalesce(family_name, '') || coalesce(given_name, ''), '[\u3400-\u9fff]')
    THEN nullif(coalesce(family_name, '') || coalesce(given_name, ''), '')
  ELSE nullif(trim(coalesce(given_name, '') || ' ' || coalesce(family_name, '')), '')
END"""


def load_rules(path: Path | None) -> dict[str, Rule]:
    """The default rules, overridden by a YAML file mapping golden field -> rule."""
    rules = {name: rule for name, (_, rule) in GOLDEN_FIELDS.items()}
    if path is None:
        return rules
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"Cannot read the survivorship file {path}: {exc}",
            hint="Set CXO_SURVIVORSHIP_FILE to a YAML file such as `email: recent`.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"The survivorship file {path} must map fields to rules.")
    for name, rule in data.items():
        if name not in GOLDEN_FIELDS:
            raise ConfigError(
                f"The survivorship file names an unknown field {name!r}.",
                hint="Fields: " + ", ".join(GOLDEN_FIELDS),
            )
        if rule not in RULES:
            raise ConfigError(
                f"The survivorship rule for {name!r} must be one of {', '.join(RULES)}, "
                f"not {rule!r}."
            )
        rules[name] = rule
    return rules


def golden_records(
    records: pa.Table, *, trust: Sequence[str], rules: Mapping[str, Rule] | None = None
) -> pa.Table:
    """One golden row per ``customer_id`` in ``records``.

    ``records`` holds ``customer_id``, ``record_pk``, ``source_system``, ``updated_at`` (ISO text or
    null) and the canonical customer fields (strings). Returns ``customer_id``, every golden field
    (strings) and ``sources`` (records per source system, as JSON text).
    """
    rules = dict(rules or {name: rule for name, (_, rule) in GOLDEN_FIELDS.items()})
    trust_sql = (
        "CASE source_system "
        + " ".join(f"WHEN '{s.replace(chr(39), '')}' THEN {i}" for i, s in enumerate(trust))
        + f" ELSE {len(trust)} END"
    )
    simple, ctes, joins = [], [], []
    for name, (expr, _) in GOLDEN_FIELDS.items():
        rule = rules[name]
        if rule == "frequent":
            ctes.append(
                f"""f_{name} AS (
                  SELECT customer_id, first(v ORDER BY n DESC, t, u DESC NULLS LAST, v) AS {name}
                  FROM (SELECT customer_id, {expr} AS v, count(*) AS n, min(trust) AS t,
                               max(upd) AS u
                        FROM r WHERE {expr} IS NOT NULL GROUP BY ALL)
                  GROUP BY customer_id)"""  # noqa: S608 - names come from GOLDEN_FIELDS
            )
            joins.append(f"LEFT JOIN f_{name} USING (customer_id)")
        else:
            order = (
                "trust, upd DESC NULLS LAST, record_pk"
                if rule == "trusted"
                else "upd DESC NULLS LAST, trust, record_pk"
            )
            simple.append(
                f"first({expr} ORDER BY {order}) FILTER (WHERE {expr} IS NOT NULL) AS {name}"
            )
    con = duckdb.connect()
    try:
        con.register("records_in", records)
        con.execute(
            f"""CREATE TEMP TABLE r AS SELECT *, {trust_sql} AS trust,
                TRY_CAST(updated_at AS TIMESTAMP) AS upd, {_DISPLAY} AS display
                FROM records_in"""  # noqa: S608
        )
        # Empty strings count as missing under every rule.
        for expr, _ in GOLDEN_FIELDS.values():
            if expr != "display":
                con.execute(f"UPDATE r SET {expr} = NULL WHERE trim({expr}) = ''")  # noqa: S608
        ctes.append(
            f"""g AS (SELECT customer_id{"".join(", " + x for x in simple)}
                      FROM r GROUP BY customer_id)"""  # noqa: S608
        )
        ctes.append(
            """counts AS (
                 SELECT customer_id, to_json(map(list(source_system ORDER BY source_system),
                        list(n ORDER BY source_system))) AS sources
                 FROM (SELECT customer_id, source_system, count(*) AS n FROM r GROUP BY ALL)
                 GROUP BY customer_id)"""
        )
        sql = f"""WITH {", ".join(ctes)}
                  SELECT * FROM g JOIN counts USING (customer_id) {" ".join(joins)}
                  ORDER BY customer_id"""  # noqa: S608
        out = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return out.select(["customer_id", *GOLDEN_FIELDS, "sources"]).cast(
        pa.schema(
            [
                pa.field("customer_id", pa.int64()),
                *(pa.field(n, pa.string()) for n in GOLDEN_FIELDS),
                pa.field("sources", pa.string()),
            ]
        )
    )
