"""Source records → the normalised features that identity resolution compares.

Vectorised: names go through :mod:`cxo.identity.namesql` (the SQL twin of
:func:`cxo.identity.romanise.parse_name`), everything else is one DuckDB statement over the Arrow
table. A million records take about six seconds on two cores.

Feature columns (all nullable; "" never appears, absent is null):

============== ===================================================================================
name_key       ``"<family> <given>"``: pinyin for characters, else as written (nicknames → names)
name_alts      every order-free key of the name in any script/romanisation (list)
surname        canonical family name; ``surname_alts``: its readings in both romanisations (list)
given          canonical given name (syllables joined: ``dawen``, ``taiman``, ``william``)
english        canonical English given name (CRM field or the ", Peter" of a Cantonese name)
hk_key         the Cantonese reading of a name in characters, or a Cantonese-looking Latin name
birth_date     ``YYYY-MM-DD``; ``birth_year``
email          lower case, ``+tag`` dropped, Gmail dots dropped; ``email_user`` its local part
phone          E.164 digits without ``+``; ``phone_last8`` its last eight digits
national_id_hash, loyalty_no, device_id   trimmed, lower case
customer_no    the bank's customer number: letters and digits only, lower case
address        lower case, punctuation → one space; ``address_first``/``address_last``: its first
               and last number (house number, postcode); ``address_word``: its first Latin word
               of three letters or more (the street, mostly); ``address_tokens``: its words and
               numbers (list)
city, gender   lower case; m/f
============== ===================================================================================
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cxo.identity import romanise as ro
from cxo.identity.namesql import NAME_COLUMNS, name_features

# Bumped whenever the normalising code changes what a record gets; the name tables it reads are
# covered by :func:`features_fingerprint`. Callers key their caches by the fingerprint.
FEATURES_VERSION: Final = 2
FEATURE_COLUMNS: Final = (
    "record_pk",
    "source_system",
    "name_key",
    "name_alts",
    "surname",
    "surname_alts",
    "given",
    "english",
    "hk_key",
    "birth_date",
    "birth_year",
    "email",
    "email_user",
    "phone",
    "phone_last8",
    "national_id_hash",
    "loyalty_no",
    "customer_no",
    "device_id",
    "address",
    "address_first",
    "address_last",
    "address_word",
    "address_tokens",
    "city",
    "gender",
)


@lru_cache(maxsize=1)
def features_fingerprint() -> str:
    """``v<FEATURES_VERSION>-<12 hex digits>``: the version and a digest of the name tables.

    The readings, surnames and nicknames come from data tables (:mod:`cxo.synth.names`) that can
    change without this module changing; a cache of features must not outlive them.
    """
    digest = hashlib.sha256()
    for part in (
        ro.SURNAME_PINYIN,
        ro.SURNAME_HK,
        ro.GIVEN_CHAR_HK,
        ro.HK_SURNAME_TO_PINYIN,
        ro.HK_SYLLABLE_TO_PINYIN,
        ro.latin_lookup(),
    ):
        digest.update(repr(sorted(part.items())).encode())
    return f"v{FEATURES_VERSION}-{digest.hexdigest()[:12]}"


def _column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    col = table[name].combine_chunks() if table.num_rows else pa.array([], pa.string())
    if col.type == pa.null():
        return pa.nulls(table.num_rows, pa.string())
    return col if col.type == pa.string() else pc.cast(col, pa.string())


_SQL: Final = r"""
WITH r AS (
    SELECT record_pk, source_system,
        nullif(lower(trim(email)), '') AS e,
        regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') AS digits,
        nullif(trim(CAST(birth_date AS VARCHAR)), '') AS dob,
        nullif(lower(trim(national_id_hash)), '') AS national_id_hash,
        nullif(lower(trim(loyalty_no)), '') AS loyalty_no,
        nullif(regexp_replace(lower(customer_no), '[^0-9a-z]', '', 'g'), '') AS customer_no,
        nullif(lower(trim(device_id)), '') AS device_id,
        nullif(trim(regexp_replace(lower(address), '[^\p{L}\p{N}]+', ' ', 'g')), '') AS address,
        nullif(trim(regexp_replace(lower(city), '[^\p{L}\p{N}]+', ' ', 'g')), '') AS city,
        lower(trim(gender)) AS g
    FROM src
), e AS (
    SELECT *,
        regexp_replace(split_part(e, '@', 1), '\+.*$', '') AS local0,
        CASE WHEN split_part(e, '@', 2) = 'googlemail.com' THEN 'gmail.com'
             ELSE split_part(e, '@', 2) END AS domain,
        CASE WHEN digits LIKE '00%' THEN substr(digits, 3) ELSE digits END AS d,
        strftime(try_cast(dob AS DATE), '%Y-%m-%d') AS bd
    FROM r
), f AS (
    SELECT *,
        CASE WHEN domain = 'gmail.com' THEN replace(local0, '.', '') ELSE local0 END AS local
    FROM e
)
SELECT record_pk, source_system,
    CASE WHEN local <> '' AND domain LIKE '%.%' THEN local || '@' || domain END AS email,
    nullif(local, '') AS email_user,
    CASE WHEN length(d) >= 6 THEN d END AS phone,
    CASE WHEN length(d) >= 8 THEN right(d, 8) END AS phone_last8,
    bd AS birth_date,
    left(bd, 4) AS birth_year,
    national_id_hash, loyalty_no, customer_no, device_id, address,
    nullif(regexp_extract(address, '[0-9]+'), '') AS address_first,
    nullif(regexp_extract(address, '([0-9]+)[^0-9]*$', 1), '') AS address_last,
    nullif(regexp_extract(address, '[a-z]{3,}'), '') AS address_word,
    nullif(list_distinct(list_filter(string_split(
        regexp_replace(address, '([0-9]+)', ' \1 ', 'g'), ' '), lambda t: t <> '')), [])
        AS address_tokens,
    city,
    CASE WHEN left(g, 1) IN ('m', '男') THEN 'm' WHEN left(g, 1) IN ('f', 'w', '女') THEN 'f' END
        AS gender
FROM f
"""

_NEEDED: Final = (
    "record_pk",
    "source_system",
    "email",
    "phone",
    "birth_date",
    "national_id_hash",
    "loyalty_no",
    "customer_no",
    "device_id",
    "address",
    "city",
    "gender",
)


def features(records: pa.Table, con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """The feature table (columns :data:`FEATURE_COLUMNS`), sorted by ``record_pk``.

    ``con``: a DuckDB connection to work in (a private in-memory one by default).
    """
    src = pa.table(
        {
            c: records["record_pk"].cast(pa.int64()) if c == "record_pk" else _column(records, c)
            for c in (*_NEEDED, "full_name", "family_name", "given_name", "english_name")
        }
    ).sort_by("record_pk")
    own = con is None
    db = duckdb.connect() if con is None else con
    try:
        db.register("cxo_norm_src", src)
        names = name_features(db, "cxo_norm_src")
        # both outputs are in record_pk order: put the columns side by side, no join
        other = db.sql(_SQL.replace("FROM src", "FROM cxo_norm_src")).to_arrow_table()
        db.unregister("cxo_norm_src")
    finally:
        if own:
            db.close()
    if not other["record_pk"].equals(names["record_pk"]):
        raise AssertionError("normalised name and field rows out of step")
    columns = {c: names[c] if c in NAME_COLUMNS else other[c] for c in FEATURE_COLUMNS}
    table = pa.table(columns)
    return table.select(list(FEATURE_COLUMNS))
