"""The vectorised twin of :func:`cxo.identity.romanise.parse_name`: names of a whole table in DuckDB.

Python touches only small lookup tables: the Latin word table (surnames, given syllables, English
names with their canonical forms and Cantonese → pinyin candidates, ~1,000 rows) and the readings
of each *distinct* family name and given name in characters (tens of thousands at most).
Everything per record is SQL, so a million names take a few seconds. ``tests/identity`` checks
that this module and ``parse_name`` agree on real and generated names.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import duckdb
import pyarrow as pa

from cxo.identity import romanise as ro

HAN: Final = r"[\x{3400}-\x{9FFF}\x{F900}-\x{FAFF}]"
NAME_COLUMNS: Final = (
    "name_key",
    "name_alts",
    "surname",
    "surname_alts",
    "given",
    "english",
    "hk_key",
)


@lru_cache(maxsize=1)
def _latin_table() -> pa.Table:
    rows = ro.latin_lookup()
    return pa.table(
        {
            "w": pa.array(list(rows), pa.string()),
            "flags": pa.array([r[0] for r in rows.values()], pa.int32()),
            "canon": pa.array([r[1] for r in rows.values()], pa.string()),
            "sur_py": pa.array([list(r[2]) or None for r in rows.values()], pa.list_(pa.string())),
            "syl_py": pa.array([list(r[3]) or None for r in rows.values()], pa.list_(pa.string())),
        }
    )


def _sql_list(values: frozenset[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]"


def _fold(x: str) -> str:
    """SQL for romanise._fold: lower-case ASCII letters, spaces, commas and hyphens."""
    return (
        "regexp_replace(replace(regexp_replace(strip_accents(replace(replace(lower("
        f"{x}), 'ü', 'v'), 'u:', 'v')), '[''`’]', '', 'g'), '.', ' '), '[^a-z\\s,\\-]', ' ', 'g')"
    )


def _tokens(x: str) -> str:
    return f"list_filter(regexp_split_to_array(trim({x}), '[\\s\\-]+'), lambda t: t <> '')"


# Stage 1: which path each record takes, the characters split into family/given, and the Latin
# text folded and cut into tokens.
_STAGE1: Final = """
CREATE OR REPLACE TEMP TABLE nm1 AS
WITH a AS (
    SELECT record_pk,
        coalesce(family_name, '') AS fam, coalesce(given_name, '') AS giv,
        coalesce(full_name, '') AS full_text,
        array_to_string(regexp_extract_all(coalesce(family_name, ''), '{han}'), '') AS hf,
        array_to_string(regexp_extract_all(coalesce(given_name, ''), '{han}'), '') AS hg,
        array_to_string(regexp_extract_all(coalesce(full_name, ''), '{han}'), '') AS hfull,
        english_name
    FROM names_src
), b AS (
    SELECT *,
        trim(fam) <> '' OR trim(giv) <> '' AS split_fields,
        CASE WHEN trim(fam) <> '' OR trim(giv) <> '' THEN
                CASE WHEN hf || hg <> '' THEN 'han' ELSE 'latin_split' END
             WHEN trim(full_text) <> '' THEN
                CASE WHEN hfull <> '' THEN 'han' ELSE 'latin_full' END
        END AS path
    FROM a
), c AS (
    SELECT *,
        CASE WHEN split_fields THEN hg ELSE hfull END AS hx
    FROM b
), e0 AS (
SELECT record_pk, path, english_name,
    CASE WHEN path = 'han' THEN
        CASE WHEN split_fields AND hf <> '' THEN hf
             WHEN left(hx, 2) IN {compounds} THEN left(hx, 2) ELSE left(hx, 1) END
    END AS han_f,
    CASE WHEN path = 'han' THEN
        CASE WHEN split_fields AND hf <> '' THEN hg
             WHEN left(hx, 2) IN {compounds} THEN substr(hx, 3) ELSE substr(hx, 2) END
    END AS han_g,
    CASE WHEN path = 'han' AND NOT split_fields THEN
        {tok_han_rest}[1]
    END AS han_english_token,
    CASE WHEN path = 'latin_split' THEN {tok_f} END AS f_tokens,
    CASE WHEN path = 'latin_split' THEN {tok_g} END AS g_tokens,
    CASE WHEN path = 'latin_full' THEN {folded_full} END AS folded
FROM c
), d AS (
    SELECT *, CASE WHEN path = 'latin_split' THEN
            array_to_string(f_tokens, ' ') || '|' || array_to_string(g_tokens, ' ')
        WHEN path = 'latin_full' THEN folded END AS lkey
    FROM e0
)
SELECT * FROM d
"""

# Stage 2 (Latin): tokens → (family tokens, given tokens, English token) per distinct text.
_LATIN: Final = """
CREATE OR REPLACE TEMP TABLE nm_latin AS
WITH src AS (
    SELECT path, lkey, any_value(f_tokens) AS f_tokens, any_value(g_tokens) AS g_tokens,
        any_value(folded) AS folded
    FROM nm1 WHERE path LIKE 'latin%' GROUP BY path, lkey
), full_split AS (
    SELECT *,
        CASE WHEN path = 'latin_full' THEN {tok_main} END AS main_t,
        CASE WHEN path = 'latin_full' AND folded LIKE '%,%' THEN {tok_after} END AS after_t
    FROM src, (SELECT map(list(w), list(flags)) AS m FROM latin_words) lk
), fields AS (
    SELECT *,
        -- split fields: swap when only the given field holds a known surname
        CASE WHEN path = 'latin_split' AND len(g_tokens) > 0
                  AND NOT {is_sur_f} AND {is_sur_g} THEN g_tokens
             WHEN path = 'latin_split' THEN f_tokens END AS f2,
        CASE WHEN path = 'latin_split' AND len(g_tokens) > 0
                  AND NOT {is_sur_f} AND {is_sur_g} THEN f_tokens
             WHEN path = 'latin_split' THEN g_tokens END AS g2
    FROM full_split
), whole AS (
    -- the token list whose order is unknown (or null when the split is already known)
    SELECT *,
        CASE WHEN path = 'latin_split' AND len(f2) = 0 THEN g2
             WHEN path = 'latin_full' AND NOT (len(main_t) = 1 AND len(coalesce(after_t, [])) > 0)
                THEN main_t
        END AS t,
        CASE WHEN path = 'latin_full' AND len(main_t) <> 1 AND len(coalesce(after_t, [])) > 0
             THEN after_t[1] END AS eng_token
    FROM fields
), flagged AS (
    SELECT *, len(t) AS n FROM whole
), scored AS (
    SELECT *,
        {score_f1} AS s_f1, {score_b1} AS s_b1,
        CASE WHEN n > 2 AND t[1] || t[2] IN {hk_compounds} THEN {score_f2} END AS s_f2,
        CASE WHEN n > 2 AND t[n - 1] || t[n] IN {hk_compounds} THEN {score_b2} END AS s_b2
    FROM flagged
), chosen AS (
    SELECT *,
        CASE WHEN n = 1 THEN 'one'
             WHEN s_f1 >= greatest(s_b1, coalesce(s_f2, -1), coalesce(s_b2, -1)) THEN 'f1'
             WHEN s_b1 >= greatest(coalesce(s_f2, -1), coalesce(s_b2, -1)) THEN 'b1'
             WHEN s_f2 >= coalesce(s_b2, -1) THEN 'f2'
             WHEN s_b2 IS NOT NULL THEN 'b2'
        END AS pick
    FROM scored
)
SELECT path, lkey,
    CASE WHEN t IS NULL AND path = 'latin_split' THEN f2
         WHEN t IS NULL THEN main_t
         WHEN pick = 'one' THEN t
         WHEN pick = 'f1' THEN t[1:1] WHEN pick = 'b1' THEN t[n:n]
         WHEN pick = 'f2' THEN t[1:2] WHEN pick = 'b2' THEN t[n - 1:n] END AS fam_t,
    CASE WHEN t IS NULL AND path = 'latin_split' THEN g2
         WHEN t IS NULL THEN after_t
         WHEN pick = 'one' THEN []
         WHEN pick = 'f1' THEN t[2:] WHEN pick = 'b1' THEN t[1:n - 1]
         WHEN pick = 'f2' THEN t[3:] WHEN pick = 'b2' THEN t[1:n - 2] END AS giv_t,
    eng_token
FROM chosen
"""


def _score(fam: str, rest: str, front: bool) -> str:
    """SQL for 2·surname_score(fam) + given_score(rest) (×100), tie-break (×10) and k."""
    fam_joined = f"coalesce(m[array_to_string({fam}, '')], 0)"
    rest_joined = f"coalesce(m[array_to_string({rest}, '')], 0)"
    sur = f"(CASE WHEN {fam_joined} & 3 > 0 THEN 4 ELSE 0 END)"
    giv = (
        f"(CASE WHEN len({rest}) = 0 THEN -1 "
        f"WHEN list_bool_and(list_transform({rest}, lambda w: coalesce(m[w], 0) & 12 > 0)) "
        f"AND NOT ({rest_joined} & 1 > 0) THEN 1 ELSE 0 END)"
    )
    chinese = f"({fam_joined} & 1 > 0 AND NOT ({fam_joined} & 2 > 0))"
    tie = f"(CASE WHEN {chinese} = {'true' if front else 'false'} THEN 1 ELSE 0 END)"
    k = f"len({fam})"
    return f"(({sur} + {giv}) * 100 + {tie} * 10 + {k})"


# Stage 3: assemble the features from family/given parts (Latin) or readings (characters).
_ASSEMBLE: Final = """
CREATE OR REPLACE TEMP TABLE nm_out AS
WITH lat AS (
    SELECT l.*, array_to_string(fam_t, '') AS surname0,
        list_transform(giv_t, lambda w: coalesce(cn.m[w], w)) AS giv_canon,
        cn.m AS cm, sp.m AS spm, sy.m AS sym, fl.m AS flm
    FROM nm_latin l,
        (SELECT map(list(w), list(canon)) AS m FROM latin_words) cn,
        (SELECT map(list(w), list(sur_py)) AS m FROM latin_words WHERE sur_py IS NOT NULL) sp,
        (SELECT map(list(w), list(syl_py)) AS m FROM latin_words WHERE syl_py IS NOT NULL) sy,
        (SELECT map(list(w), list(flags)) AS m FROM latin_words) fl
), lat2 AS (
    SELECT *,
        coalesce(cm[array_to_string(giv_canon, '')], array_to_string(giv_canon, '')) AS given0,
        spm[surname0] AS sur_cands,
        len(giv_t) BETWEEN 1 AND 2
            AND list_bool_and(list_transform(giv_t, lambda w: coalesce(flm[w], 0) & 4 > 0))
            AND (len(giv_t) > 1 OR NOT (coalesce(flm[surname0], 0) & 16 > 0)) AS hk_given
    FROM lat
), lat3 AS (
    SELECT *,
        CASE WHEN sur_cands IS NOT NULL AND hk_given THEN
            list_slice(flatten(list_transform(sur_cands, lambda s:
                flatten(list_transform(sym[giv_t[1]], lambda a:
                    list_transform(CASE WHEN len(giv_t) = 2 THEN sym[giv_t[2]] ELSE [''] END,
                        lambda b: list_value(s, coalesce(cm[a || b], a || b))))))), 1, {max_alts})
        END AS cands
    FROM lat2
)
SELECT path, lkey,
    nullif(trim(surname0 || ' ' || given0), '') AS name_key,
    list_sort(list_distinct(list_filter(list_concat(
        [{u2_lat}, array_to_string(list_sort(list_filter(list_concat(fam_t, giv_canon),
            lambda w: w <> '')), ' ')],
        list_transform(coalesce(cands, []), lambda c: {u2_cand})), lambda w: w <> ''))) AS name_alts,
    nullif(surname0, '') AS surname,
    CASE WHEN surname0 <> '' THEN
        list_sort(list_distinct(list_concat([surname0], coalesce(sur_cands, [])))) END
        AS surname_alts,
    nullif(given0, '') AS given,
    CASE WHEN eng_token IS NOT NULL AND surname0 || given0 <> '' THEN
        coalesce(cm[eng_token], eng_token) END AS english,
    CASE WHEN sur_cands IS NOT NULL AND hk_given THEN trim(surname0 || ' ' || given0) END
        AS hk_key
FROM lat3
"""


def _unordered2(a: str, b: str) -> str:
    """SQL for romanise._unordered(a, b): the two non-empty strings sorted, space-joined."""
    return (
        f"(CASE WHEN {b} = '' THEN {a} WHEN {a} = '' THEN {b} "
        f"WHEN {a} <= {b} THEN {a} || ' ' || {b} ELSE {b} || ' ' || {a} END)"
    )


_HAN_OUT: Final = """
CREATE OR REPLACE TEMP TABLE nm_han AS
SELECT n.han_f, n.han_g, n.han_english_token,
    nullif(trim(s.py || ' ' || g.g_py), '') AS name_key,
    list_sort(list_distinct(list_filter(list_concat(
        [{u_py}, array_to_string(list_sort(list_filter(list_prepend(s.py, g.py_syl),
            lambda w: w <> '')), ' ')],
        CASE WHEN s.hk IS NOT NULL AND (g.g_hk IS NOT NULL OR n.han_g = '') THEN
            [{u_hk}, array_to_string(list_sort(list_filter(list_prepend(s.hk,
                coalesce(g.hk_syl, [])), lambda w: w <> '')), ' ')]
        ELSE [] END), lambda w: w <> ''))) AS name_alts,
    s.py AS surname,
    CASE WHEN s.hk IS NOT NULL AND (g.g_hk IS NOT NULL OR n.han_g = '') THEN
        list_sort(list_distinct([s.py, s.hk])) ELSE [s.py] END AS surname_alts,
    nullif(g.g_py, '') AS given,
    CASE WHEN n.han_english_token IS NOT NULL THEN
        coalesce(cn.canon, n.han_english_token) END AS english,
    CASE WHEN s.hk IS NOT NULL AND (g.g_hk IS NOT NULL OR n.han_g = '') THEN
        trim(s.hk || ' ' || coalesce(g.g_hk, '')) END AS hk_key
FROM (SELECT DISTINCT han_f, han_g, han_english_token FROM nm1 WHERE path = 'han') n
JOIN han_surnames s ON s.f = n.han_f
JOIN han_givens g ON g.g = n.han_g
LEFT JOIN latin_words cn ON cn.w = n.han_english_token
"""

_FINAL: Final = """
SELECT n.record_pk,
    coalesce(h.name_key, l.name_key) AS name_key,
    nullif(coalesce(h.name_alts, l.name_alts), []) AS name_alts,
    coalesce(h.surname, l.surname) AS surname,
    coalesce(h.surname_alts, l.surname_alts) AS surname_alts,
    coalesce(h.given, l.given) AS given,
    coalesce(e.canon, h.english, l.english) AS english,
    coalesce(h.hk_key, l.hk_key) AS hk_key
FROM nm1 n
LEFT JOIN nm_han h ON n.path = 'han' AND h.han_f = n.han_f AND h.han_g = n.han_g
    AND h.han_english_token IS NOT DISTINCT FROM n.han_english_token
LEFT JOIN nm_out l ON l.path = n.path AND l.lkey = n.lkey
LEFT JOIN english_canon e ON e.raw = n.english_name
ORDER BY n.record_pk
"""


def _han_tables(con: duckdb.DuckDBPyConnection) -> None:
    fams = [r[0] for r in con.sql("SELECT DISTINCT han_f FROM nm1 WHERE path = 'han'").fetchall()]
    givs = [r[0] for r in con.sql("SELECT DISTINCT han_g FROM nm1 WHERE path = 'han'").fetchall()]
    readings = [ro.han_surname(f) for f in fams]
    con.register(
        "han_surnames",
        pa.table(
            {
                "f": pa.array(fams, pa.string()),
                "py": pa.array([r[0] for r in readings], pa.string()),
                "hk": pa.array([r[1] for r in readings], pa.string()),
            }
        ),
    )
    given = [ro.han_given(g) for g in givs]
    con.register(
        "han_givens",
        pa.table(
            {
                "g": pa.array(givs, pa.string()),
                "g_py": pa.array([r[0] for r in given], pa.string()),
                "py_syl": pa.array([list(r[1]) for r in given], pa.list_(pa.string())),
                "g_hk": pa.array([r[2] for r in given], pa.string()),
                "hk_syl": pa.array([list(r[3]) or None for r in given], pa.list_(pa.string())),
            }
        ),
    )


def _english_table(con: duckdb.DuckDBPyConnection) -> None:
    raw = [r[0] for r in con.sql("SELECT DISTINCT english_name FROM nm1").fetchall() if r[0]]
    con.register(
        "english_canon",
        pa.table(
            {
                "raw": pa.array(raw, pa.string()),
                "canon": pa.array([ro.canon_english(v) for v in raw], pa.string()),
            }
        ),
    )


def name_features(con: duckdb.DuckDBPyConnection, source: str) -> pa.Table:
    """Name features (record_pk + :data:`NAME_COLUMNS`) of the table or view ``source``.

    ``source`` needs ``record_pk``, ``full_name``, ``family_name``, ``given_name`` and
    ``english_name``. Rows come back sorted by ``record_pk``.
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW names_src AS SELECT * FROM {source}")  # noqa: S608
    con.register("latin_words", _latin_table())
    compounds = _sql_list(ro.HAN_COMPOUND_SURNAMES)
    hk_compounds = _sql_list(ro.HK_COMPOUND_SURNAMES)
    con.execute(
        _STAGE1.format(
            han=HAN,
            compounds=compounds,
            tok_han_rest=_tokens(
                _fold(f"replace(regexp_replace(full_text, '{HAN}', ' ', 'g'), ',', ' ')")
            ),
            tok_f=_tokens(_fold("fam")),
            tok_g=_tokens(_fold("giv")),
            folded_full=_fold("full_text"),
        )
    )
    is_sur = "(coalesce(m[array_to_string({x}, '')], 0) & 3 > 0)"
    latin_sql = _LATIN.format(
        tok_main=_tokens("split_part(folded, ',', 1)"),
        tok_after=_tokens("replace(substr(folded, strpos(folded, ',') + 1), ',', ' ')"),
        is_sur_f=is_sur.format(x="f_tokens"),
        is_sur_g=is_sur.format(x="g_tokens"),
        hk_compounds=hk_compounds,
        score_f1=_score("t[1:1]", "t[2:]", True),
        score_b1=_score("t[n:n]", "t[1:n - 1]", False),
        score_f2=_score("t[1:2]", "t[3:]", True),
        score_b2=_score("t[n - 1:n]", "t[1:n - 2]", False),
    )
    con.execute(latin_sql)
    con.execute(
        _ASSEMBLE.format(
            max_alts=ro.MAX_ALTS,
            u2_lat=_unordered2("surname0", "given0"),
            u2_cand=_unordered2("c[1]", "c[2]"),
        )
    )
    _han_tables(con)
    con.execute(
        _HAN_OUT.format(
            u_py=_unordered2("s.py", "g.g_py"), u_hk=_unordered2("s.hk", "coalesce(g.g_hk, '')")
        )
    )
    _english_table(con)
    out = con.sql(_FINAL).to_arrow_table()
    for t in ("nm1", "nm_latin", "nm_out", "nm_han"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return out
