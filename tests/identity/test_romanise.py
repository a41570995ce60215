"""Names across scripts, romanisations, orders and nicknames; the SQL twin agrees with Python."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.identity.namesql import name_features
from cxo.identity.romanise import canon_english, parse_name
from cxo.synth import names as data


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("陈大文",), ("Chan Tai Man, Peter",)),  # characters vs Cantonese
        (("陈大文",), ("Chen Dawen",)),  # characters vs pinyin
        (("Chen Dawen",), ("Chan Tai Man",)),  # pinyin vs Cantonese (syllable candidates)
        (("Chan Tai Man",), ("Tai Man Chan",)),  # family name last
        (("Chen Dawen",), ("Dawen Chen",)),
        ((None, "陈", "大文"), ("陈大文",)),  # split fields vs whole
        (("William Smith",), ("Bill Smith",)),  # nickname
        (("Smith William",), ("Will Smith",)),
        (("欧阳晓明",), ("Au-Yeung Hiu Ming",)),  # compound surname
        (("曾伟",), ("Tsang Wai",)),  # surname reading 曾 Zeng
    ],
)
def test_same_person_same_name(a: tuple, b: tuple) -> None:
    pa_, pb = parse_name(*a), parse_name(*b)
    assert set(pa_.alts) & set(pb.alts), (pa_, pb)


def test_surname_readings_and_fields() -> None:
    assert parse_name("曾伟").surname == "zeng"
    assert parse_name("单伟").surname == "shan"
    assert parse_name("区伟").surname == "ou"
    p = parse_name("Chan Tai Man, Peter")
    assert (p.surname, p.given, p.english, p.hk_key) == ("chan", "taiman", "peter", "chan taiman")
    assert "chen" in p.surname_alts
    assert parse_name("Smith, John").key == "smith john"
    assert canon_english("Pete") == "peter" and canon_english("Bill") == "william"
    # names sharing a nickname fall into one class (Chris: Christopher and Christine)
    assert canon_english("Chris") == canon_english("Christine") == canon_english("Christopher")


def test_different_people_different_names() -> None:
    assert not set(parse_name("陈大文").alts) & set(parse_name("陈小文").alts)
    assert not set(parse_name("Wong Tai Man").alts) & set(parse_name("Wong Siu Ming").alts)
    empty = parse_name(None)
    assert empty.key is None and empty.alts == ()


def _sql(rows: list[tuple[str | None, str | None, str | None, str | None]]) -> list[dict]:
    table = pa.table(
        {
            "record_pk": pa.array(range(len(rows)), pa.int64()),
            "full_name": pa.array([r[0] for r in rows], pa.string()),
            "family_name": pa.array([r[1] for r in rows], pa.string()),
            "given_name": pa.array([r[2] for r in rows], pa.string()),
            "english_name": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    con = duckdb.connect()
    con.register("names_in", table)
    return name_features(con, "names_in").drop_columns(["record_pk"]).to_pylist()


def _python(row: tuple[str | None, str | None, str | None, str | None]) -> dict:
    p = parse_name(row[0], row[1], row[2])
    return {
        "name_key": p.key,
        "name_alts": list(p.alts) or None,
        "surname": p.surname,
        "surname_alts": list(p.surname_alts) or None,
        "given": p.given,
        "english": canon_english(row[3]) or p.english,
        "hk_key": p.hk_key,
    }


_LATIN = [
    str(x)
    for x in (
        *data.FAMILY_PINYIN,
        *data.FAMILY_HK,
        *data.WESTERN_FAMILY,
        *data.GIVEN_HK,
        *data.ENGLISH,
    )
] + ["Dawen", "Xiaoming", "Uuan", "Mc"]
_HAN = [str(x) for x in (*data.FAMILY_ZH, *data.GIVEN_ZH)]
token = st.sampled_from(_LATIN)
han_name = st.lists(st.sampled_from(_HAN), min_size=1, max_size=4).map("".join)
latin_name = st.lists(token, min_size=1, max_size=4).map(" ".join)
full = st.one_of(
    latin_name,
    han_name,
    st.tuples(latin_name, token).map(lambda t: f"{t[0]}, {t[1]}"),
    st.tuples(han_name, token).map(lambda t: f"{t[0]} {t[1]}"),
    st.sampled_from(["", "  ", "O'Brien-Smith", "Lǚ Müller", "??", ", Peter", "陈 大文"]),
)
row = st.one_of(
    st.tuples(full, st.none(), st.none(), st.one_of(st.none(), token)),
    st.tuples(
        st.none(),
        st.one_of(token, st.sampled_from(_HAN), st.none()),
        st.one_of(latin_name, han_name, st.none()),
        st.one_of(st.none(), token),
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=40))
def test_sql_twin_agrees_with_python(rows: list) -> None:
    assert _sql(rows) == [_python(r) for r in rows]
