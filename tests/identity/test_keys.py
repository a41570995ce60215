"""The deterministic graph's customer-number key: links, and what still prevents a link."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxo.identity import keys
from cxo.identity.engine import RECORD_COLUMNS, Resolution, _prepare, _records, resolve
from cxo.identity.normalise import features

CRM: dict[str, Any] = {
    "source_system": "crm",
    "family_name": "王",
    "given_name": "伟",
    "birth_date": "1980-03-04",
    "national_id_hash": "a" * 64,
    "customer_no": "0471932865",
}


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    cols = {c: [r.get(c) for r in rows] for c in RECORD_COLUMNS if c != "record_pk"}
    return pa.table({"record_pk": pa.array(range(1, len(rows) + 1), pa.int64()), **cols}).cast(
        pa.schema([("record_pk", pa.int64())] + [(c, pa.string()) for c in cols])
    )


def _edges(rows: list[dict[str, Any]]) -> dict[tuple[int, int], list[str]]:
    con = duckdb.connect()
    con.register("cxo_features", features(_records(_table(rows)), con))
    _prepare(con, "cxo_features", "base")
    e = keys.deterministic_edges(con, "base")
    return {
        (a, b): k
        for a, b, k in zip(
            e["a"].to_pylist(), e["b"].to_pylist(), e["keys"].to_pylist(), strict=True
        )
    }


def _cti(name: str | None, number: str | None, **more: Any) -> dict[str, Any]:
    return {"source_system": "cti", "full_name": name, "customer_no": number, **more}


@pytest.mark.parametrize(
    "name",
    [
        "Wang Wei",  # pinyin for the CRM's characters
        "Wei Wang",  # order swapped
        "王伟",
        "Wang Wie",  # the agent's typo
        None,  # no name typed: nothing to contradict
    ],
)
def test_a_verified_call_links_to_the_customer_record(name: str | None) -> None:
    # written with separators by the CTI: the number is compared on its letters and digits
    assert _edges([CRM, _cti(name, "0471-932 865")]) == {(1, 2): ["customer_no"]}


def test_a_household_member_verified_on_the_number_does_not_link() -> None:
    """A partner calling on the customer's number: same family name, another given name."""
    for other in ("王芳", "Wang Fang", "Wang Xiaoming", "李伟"):
        assert _edges([CRM, _cti(other, "0471932865")]) == {}, other


def test_a_conflicting_birth_date_or_national_id_prevents_the_link() -> None:
    same = {**CRM, "source_system": "branch"}
    assert _edges([CRM, same]) == {(1, 2): ["customer_no", "national_id_hash"]}
    other_birth = {**same, "birth_date": "1975-11-20", "national_id_hash": None}
    assert _edges([CRM, other_birth]) == {}
    other_id = {**same, "birth_date": None, "national_id_hash": "b" * 64}
    assert _edges([CRM, other_id]) == {}
    # without a birth date or national id there is nothing to contradict
    bare = {**same, "birth_date": None, "national_id_hash": None}
    assert _edges([CRM, bare]) == {(1, 2): ["customer_no"]}


def test_a_number_held_by_provably_different_people_is_no_key() -> None:
    other = {**CRM, "birth_date": "1990-01-01", "national_id_hash": None}
    rows = [CRM, other, _cti("Wang Wei", "0471932865")]
    assert _edges(rows) == {}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["0471932865", "0471932866", None]), min_size=2, max_size=6),
    st.randoms(use_true_random=False),
)
def test_edges_do_not_depend_on_row_order(numbers: list[str | None], rnd: Any) -> None:
    rows = [CRM] + [_cti("Wang Wei", n) for n in numbers]
    base = _edges(rows)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = _edges([rows[i] for i in order])
    renamed = {
        tuple(sorted((order[a - 1] + 1, order[b - 1] + 1))): k for (a, b), k in shuffled.items()
    }
    assert renamed == base
    assert set(base) == {(1, i + 2) for i, n in enumerate(numbers) if n == "0471932865"} | {
        (i + 2, j + 2)
        for i, n in enumerate(numbers)
        for j, m in enumerate(numbers)
        if i < j and n is not None and n == m
    }


def test_resolve_joins_a_verified_call_without_any_phone(small_resolution: Resolution) -> None:
    rows = [
        {**CRM, "phone": "+8613812345678", "email": "wei.wang@163.com"},
        {"source_system": "web", "full_name": "Wang Wei", "email": "wei.wang@163.com"},
        _cti("Wang Wie", "0471932865"),  # a typo, no phone: only the customer number
        _cti("Wang Fang", "0471932865", phone="+862155551234"),  # the partner, same number
    ]
    res = resolve(_table(rows), model=small_resolution.model)
    cluster = res.assignments["cluster"].to_pylist()
    assert cluster[0] == cluster[1] == cluster[2] != cluster[3]
    explanation = res.assignments["explanation"].to_pylist()[2]
    assert "customer_no" in explanation
