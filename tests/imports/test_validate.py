"""Mapping and checking a batch: each problem becomes a reason code naming field and value."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from cxo.imports.mapping import parse_mapping, plan
from cxo.imports.validate import check_batch


def check(kind: str, data: dict[str, list[str | None]], columns: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    batch = pa.record_batch({k: pa.array(v, pa.string()) for k, v in data.items()})
    mapping = parse_mapping({"columns": columns or {}})
    return check_batch(
        batch, plan(mapping, kind, batch.column_names), implicit={"source_system": "crm"}
    )


def problems(checked) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    rows, codes, details = checked.first_problems()
    return list(zip(rows, codes, details, strict=True))


def test_customer_fields_are_typed_and_cleaned() -> None:
    c = check(
        "customers",
        {
            "source_record_id": [" M1 ", "M2"],
            "email": [" Peter.Chan@Example.COM ", ""],
            "phone": ["9123 4567", "+86 138 1234 5678"],
            "birth_date": ["26/10/2000", None],
            "country": ["hk", "CN"],
            "updated_at": ["2025-01-01 08:00", "2025-01-01T08:00:00+08:00"],
        },
        {"birth_date": {"column": "birth_date", "format": "%d/%m/%Y"}},
    )
    assert problems(c) == []
    assert c.values["source_record_id"].to_pylist() == ["M1", "M2"]
    assert c.values["email"].to_pylist() == ["peter.chan@example.com", None]
    assert c.values["phone"].to_pylist() == ["+85291234567", "+8613812345678"]
    assert c.values["birth_date"].to_pylist() == [dt.date(2000, 10, 26), None]
    assert c.values["country"].to_pylist() == ["HK", "CN"]
    assert c.values["updated_at"].to_pylist() == [
        dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 1, 0, tzinfo=dt.UTC),
    ]


def test_each_problem_names_field_and_value() -> None:
    c = check(
        "customers",
        {
            "source_record_id": ["M1", None, "M3", "M4", "M5", "M6"],
            "birth_date": ["2001-02-30", None, None, None, None, None],
            "phone": [None, None, "138-CALL-NOW", None, None, None],
            "email": [None, None, None, "not-an-email", None, None],
            "country": [None, None, None, None, "China", None],
            "family_name": [None, None, None, None, None, "x" * 101],
        },
    )
    assert problems(c) == [
        (
            0,
            "bad_date",
            "birth_date: '2001-02-30' is not a date in the format YYYY-MM-DD (column birth_date)",
        ),
        (1, "missing_required", "source_record_id is empty (column source_record_id)"),
        (
            2,
            "bad_phone",
            "phone: '138-CALL-NOW' has letters; a phone number has digits only (column phone)",
        ),
        (3, "bad_email", "email: 'not-an-email' is not an e-mail address (column email)"),
        (4, "too_long", "country: 'CHINA' is longer than 2 characters (column country)"),
        (
            5,
            "too_long",
            f"family_name: '{'x' * 60}…' is longer than 100 characters (column family_name)",
        ),
    ]


def test_first_problem_in_field_order_and_all_problems_for_preview() -> None:
    c = check(
        "interactions",
        {
            "source_record_id": ["I1"],
            "channel": ["fax"],
            "stage": ["Service"],
            "started_at": ["yesterday"],
        },
    )
    assert [code for _, code, _ in problems(c)] == ["bad_value"]
    assert [(f, r) for f, r, _ in c.problems_of(0)] == [
        ("channel", "bad_value"),
        ("started_at", "bad_timestamp"),
    ]
    assert c.values["stage"].to_pylist() == ["service"]  # enums compare case-insensitively


def test_map_default_value_split_and_region_from_country() -> None:
    c = check(
        "customers",
        {
            "id": ["B1", "B2", "B3"],
            "name": ["陈大文", "Chan Tai Man, Peter", "William Smith"],
            "branch": ["Hong Kong", "Shanghai", "Atlantis"],
            "mobile": ["91234567", "13812345678", "07700900123"],
        },
        {
            "source_record_id": "id",
            "family_name": {"split": "name", "part": "family"},
            "given_name": {"split": "name", "part": "given"},
            "english_name": {"split": "name", "part": "english"},
            "country": {"column": "branch", "map": {"Hong Kong": "HK", "Shanghai": "CN"}},
            "city": {"column": "branch", "lower": True},
            "language": {"value": "Cantonese"},
            "phone": "mobile",
        },
    )
    assert c.values["family_name"].to_pylist() == ["陈", "Chan", "Smith"]
    assert c.values["given_name"].to_pylist() == ["大文", "Tai Man", "William"]
    assert c.values["english_name"].to_pylist() == [None, "Peter", None]
    assert c.values["city"].to_pylist() == ["hong kong", "shanghai", "atlantis"]
    assert c.values["language"].to_pylist() == ["Cantonese"] * 3
    assert c.values["phone"].to_pylist()[:2] == ["+85291234567", "+8613812345678"]
    assert problems(c) == [
        (2, "bad_value", "country: 'Atlantis' is not in the mapping's map (column branch)")
    ]


def test_map_default_fills_unmapped_and_empty() -> None:
    c = check(
        "transactions",
        {
            "source_record_id": ["T1", "T2"],
            "occurred_at": ["2025-01-01", "2025-01-02"],
            "amount": ["12.5", "1e20"],
            "ccy": ["RMB", None],
        },
        {"currency": {"column": "ccy", "map": {"HKD": "HKD"}, "default": "CNY"}},
    )
    assert c.values["currency"].to_pylist() == ["CNY", "CNY"]
    assert c.values["source_system"].to_pylist() == ["crm", "crm"]
    assert problems(c) == [(1, "bad_number", "amount: '1e20' is not a number (column amount)")]
