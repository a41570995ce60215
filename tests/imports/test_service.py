"""run_import on DuckDB and PostgreSQL: accounting, idempotence, updates, conflicts, failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxo.errors import Conflict
from cxo.governance import audit
from cxo.governance.models import audit_log
from cxo.imports.errors import ImportFileError
from cxo.imports.mapping import parse_mapping
from cxo.imports.service import (
    create_import,
    get_import,
    list_imports,
    preview,
    quarantine_rows,
    run_import,
)
from cxo.settings import Settings
from cxo.store.engine import connect
from tests.imports.conftest import count, snapshot
from tests.imports.helpers import WRITERS, write_csv

CUSTOMER_HEADER = ["source_record_id", "family_name", "given_name", "mobile", "email", "birthday"]
CUSTOMERS = [
    ["C1", "陈", "大文", "13812345678", "Peter@Example.com", "26/10/2000"],
    ["C2", "欧阳", "娜娜", "+852 9123 4567", "", "01/02/1999"],
    ["C3", "Chan", "Tai Man", "138-CALL-NOW", "", ""],  # bad phone
    ["C4", "Smith", "William", "07700 900123", "not-an-email", ""],  # bad e-mail
    ["C5", "李", "小明", "", "", "31/02/2001"],  # bad date
    ["C1", "陈", "大文", "13812345678", "Peter@Example.com", "26/10/2000"],  # repeat, same
]
CUSTOMER_MAPPING = parse_mapping(
    {
        "columns": {
            "phone": {"column": "mobile", "region": "CN"},
            "birth_date": {"column": "birthday", "format": "%d/%m/%Y"},
        }
    }
)


def imp(settings: Settings, kind: str, path: Path, source: str = "crm", **kw: object):  # type: ignore[no-untyped-def]
    return run_import(settings, kind=kind, path=path, source=source, actor="tester", **kw)  # type: ignore[arg-type]


def payloads(settings: Settings, source: str = "crm") -> dict[str, dict[str, str]]:
    with connect(settings) as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source_record_id, payload, payload_hash FROM source_records "
                "WHERE source_system = :s"
            ),
            {"s": source},
        ).all()
    out = {}
    for key, payload, digest in rows:
        data = payload if isinstance(payload, dict) else json.loads(payload)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == digest
        out[key] = data
    return out


def test_customers_import_then_the_same_file_changes_nothing(
    any_store: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "crm.csv", CUSTOMER_HEADER, CUSTOMERS)
    first = imp(any_store, "customers", path, mapping=CUSTOMER_MAPPING)
    assert (first.read, first.accepted, first.quarantined, first.duplicates) == (6, 2, 3, 1)
    assert first.reasons == {"bad_date": 1, "bad_email": 1, "bad_phone": 1}
    assert first.duplicates_in_file == 1
    assert first.unmapped_columns == []
    stored = payloads(any_store)
    assert stored["C1"] == {
        "family_name": "陈",
        "given_name": "大文",
        "phone": "+8613812345678",
        "email": "peter@example.com",
        "birth_date": "2000-10-26",
    }
    assert stored["C2"]["phone"] == "+85291234567"
    before = snapshot(any_store)
    second = imp(any_store, "customers", path, mapping=CUSTOMER_MAPPING)
    assert (second.read, second.accepted, second.quarantined, second.duplicates) == (6, 0, 3, 3)
    assert second.previous_import_id == first.import_id
    assert snapshot(any_store) == before
    quarantined = sorted(
        (q.row_number, q.reason) for q in quarantine_rows(any_store, second.import_id)
    )
    assert quarantined == [(3, "bad_phone"), (4, "bad_email"), (5, "bad_date")]
    raw = json.loads(next(quarantine_rows(any_store, second.import_id)).raw or "")
    assert raw["mobile"] == "138-CALL-NOW" and raw["family_name"] == "Chan"


def test_changed_records_update_and_the_last_row_of_a_key_wins(
    any_store: Settings, tmp_path: Path
) -> None:
    header = ["source_record_id", "email"]
    imp(
        any_store,
        "customers",
        write_csv(tmp_path / "a.csv", header, [["K1", "a@x.cn"], ["K2", "b@x.cn"]]),
    )
    with connect(any_store) as conn:
        created = conn.execute(
            sa.text("SELECT source_record_id, created_at FROM source_records ORDER BY 1")
        ).all()
    rows = [
        ["K1", "a2@x.cn"],
        ["K1", "a3@x.cn"],
        ["K2", "old@x.cn"],
        ["K2", "b@x.cn"],
        ["K3", "c@x.cn"],
    ]
    s = imp(any_store, "customers", write_csv(tmp_path / "b.csv", header, rows))
    # K1: changed (last row wins), K2: the last row equals the stored record, K3: new.
    assert (s.read, s.accepted, s.updated, s.duplicates, s.duplicates_in_file) == (5, 2, 1, 3, 2)
    assert {k: v["email"] for k, v in payloads(any_store).items()} == {
        "K1": "a3@x.cn",
        "K2": "b@x.cn",
        "K3": "c@x.cn",
    }
    with connect(any_store) as conn:
        after = conn.execute(
            sa.text("SELECT source_record_id, created_at, import_id FROM source_records ORDER BY 1")
        ).all()
    assert [r[1] for r in after[:2]] == [r[1] for r in created]  # created_at kept
    assert [r[2] for r in after] == [s.import_id, s.import_id - 1, s.import_id]


INTERACTION_HEADER = ["source_record_id", "customer_ref", "channel", "stage", "started_at", "wait"]


def test_interactions_duplicates_and_conflicts(any_store: Settings, tmp_path: Path) -> None:
    mapping = parse_mapping(
        {"columns": {"customer_record_id": "customer_ref", "wait_seconds": "wait"}}
    )
    rows = [
        ["I1", "CB-1", "phone", "service", "2025-02-24 08:14:31.895395Z", "54.7"],
        ["I2", "CB-1", "Web", "engage", "2025-02-24T08:00:00+08:00", ""],
        ["I3", "CB-2", "fax", "service", "2025-02-24", ""],  # bad channel
        ["I1", "CB-1", "phone", "service", "2025-02-24 08:14:31.895395Z", "54.7"],  # duplicate
        ["I2", "CB-1", "web", "engage", "2025-02-24T08:00:00+08:00", "3"],  # conflict in file
    ]
    first = imp(
        any_store,
        "interactions",
        write_csv(tmp_path / "i.csv", INTERACTION_HEADER, rows),
        "web",
        mapping=mapping,
    )
    assert (first.read, first.accepted, first.quarantined, first.duplicates) == (5, 2, 2, 1)
    assert first.reasons == {"bad_value": 1, "conflict": 1}
    conflict = [q for q in quarantine_rows(any_store, first.import_id) if q.reason == "conflict"]
    assert conflict[0].row_number == 5
    assert conflict[0].detail == "interaction I2 differs from row 2 of this file in wait_seconds"
    assert json.loads(conflict[0].raw or "") == dict(zip(INTERACTION_HEADER, rows[4], strict=True))
    with connect(any_store) as conn:
        stored = conn.execute(
            sa.text(
                "SELECT source_system, source_record_id, customer_record_id, customer_id, channel, "
                "started_at, wait_seconds FROM interactions ORDER BY source_record_id"
            )
        ).all()
    assert [tuple(r[:5]) for r in stored] == [
        ("web", "I1", "CB-1", None, "phone"),
        ("web", "I2", "CB-1", None, "web"),
    ]
    assert stored[1][5] == dt.datetime(2025, 2, 24, 0, 0, tzinfo=dt.UTC)
    assert stored[0][6] == pytest.approx(54.7)
    before = snapshot(any_store)
    changed = [["I1", "CB-9", "phone", "service", "2025-02-24 08:14:31.895395Z", "54.7"]]
    again = imp(
        any_store,
        "interactions",
        write_csv(tmp_path / "j.csv", INTERACTION_HEADER, rows + changed),
        "web",
        mapping=mapping,
    )
    assert (again.read, again.accepted, again.quarantined, again.duplicates) == (6, 0, 3, 3)
    last = [q for q in quarantine_rows(any_store, again.import_id) if q.row_number == 6]
    assert last[0].detail == "interaction I1 is already stored with a different customer_record_id"
    assert snapshot(any_store) == before


def test_transactions_and_per_row_source_systems(any_store: Settings, tmp_path: Path) -> None:
    header = [
        "source_system",
        "source_record_id",
        "customer_ref",
        "occurred_at",
        "amount",
        "currency",
        "channel",
    ]
    rows = [
        ["crm", "T1", "CB-1", "2025-02-13 18:01:55.788678Z", "3757.05", "cny", "app"],
        ["", "T2", "CB-2", "2025-03-09 19:54:28Z", "477.6249", "HKD", ""],
        ["web", "T1", "WA-1", "2025-03-09 19:54:28Z", "-12", "GBP", "web"],
        ["crm", "T3", "CB-1", "2025-03-09", "12,5", "CNY", "app"],  # bad number
    ]
    mapping = parse_mapping({"columns": {"customer_record_id": "customer_ref"}})
    path = write_csv(tmp_path / "t.csv", header, rows)
    s = imp(any_store, "transactions", path, "bank", mapping=mapping)
    assert (s.read, s.accepted, s.quarantined, s.duplicates) == (4, 3, 1, 0)
    with connect(any_store) as conn:
        stored = conn.execute(
            sa.text(
                "SELECT source_system, source_record_id, amount, currency FROM transactions ORDER BY 1, 2"
            )
        ).all()
    assert [(a, b, str(c), d) for a, b, c, d in stored] == [
        ("bank", "T2", "477.62", "HKD"),
        ("crm", "T1", "3757.05", "CNY"),
        ("web", "T1", "-12.00", "GBP"),
    ]
    again = imp(any_store, "transactions", path, "bank", mapping=mapping)
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 3, 1)


RESPONSE_HEADER = [
    "source_record_id",
    "customer_ref",
    "locale",
    "started_at",
    "completed_at",
    "item_code",
    "scale",
    "value_num",
    "value_text",
]


def test_responses_long_format(any_store: Settings, tmp_path: Path) -> None:
    rows = [
        [
            "R1",
            "CB-1",
            "zh_CN",
            "2025-01-06 23:00:00Z",
            "2025-01-06 23:04:10Z",
            "nps",
            "single",
            "9",
            "",
        ],
        [
            "R1",
            "CB-1",
            "zh_CN",
            "2025-01-06 23:00:00Z",
            "2025-01-06 23:04:10Z",
            "comment",
            "",
            "",
            "服务很好",
        ],
        ["R2", "CB-2", "en", "", "", "nps", "single", "3", ""],
        ["R2", "CB-3", "en", "", "", "ces", "single", "5", ""],  # header differs from row 3
        [
            "R1",
            "CB-1",
            "zh_CN",
            "2025-01-06 23:00:00Z",
            "2025-01-06 23:04:10Z",
            "nps",
            "single",
            "9",
            "",
        ],  # dup
        [
            "R1",
            "CB-1",
            "zh_CN",
            "2025-01-06 23:00:00Z",
            "2025-01-06 23:04:10Z",
            "nps",
            "single",
            "7",
            "",
        ],  # conflict
        ["R3", "CB-4", "en", "", "", "", "", "", ""],  # missing item_code
    ]
    mapping = parse_mapping({"columns": {"customer_record_id": "customer_ref"}})
    path = write_csv(tmp_path / "r.csv", RESPONSE_HEADER, rows)
    s = imp(any_store, "responses", path, "nps2025", mapping=mapping)
    assert (s.read, s.accepted, s.quarantined, s.duplicates) == (7, 3, 3, 1)
    assert s.reasons == {"conflict": 2, "missing_required": 1}
    details = {q.row_number: q.detail for q in quarantine_rows(any_store, s.import_id)}
    assert details[4] == "response R2 differs from its row 3 in customer_record_id"
    assert details[6] == "response R1, item nps: a different answer than row 1"
    with connect(any_store) as conn:
        survey = conn.execute(sa.text("SELECT code, version, state, title FROM surveys")).one()
        assert survey[:3] == ("nps2025", 1, "closed")
        title = survey[3] if isinstance(survey[3], dict) else json.loads(survey[3])
        assert title == {"en": "nps2025", "zh_CN": "nps2025"}
        responses = conn.execute(
            sa.text("SELECT source_record_id, customer_record_id, locale FROM responses ORDER BY 1")
        ).all()
        assert [tuple(r) for r in responses] == [("R1", "CB-1", "zh_CN"), ("R2", "CB-2", "en")]
        assert count(any_store, "answers") == 3
    before = snapshot(any_store)
    again = imp(any_store, "responses", path, "nps2025", mapping=mapping)
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 4, 3)
    assert snapshot(any_store) == before


def test_every_import_is_audited_once(any_store: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "crm.csv", CUSTOMER_HEADER, CUSTOMERS)
    s = imp(any_store, "customers", path, mapping=CUSTOMER_MAPPING)
    with connect(any_store) as conn:
        entries = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.object_id, audit_log.c.after_state)
        ).all()
        assert audit.verify(conn).ok
    assert [(a, o) for a, o, _ in entries] == [("import.run", str(s.import_id))]
    after = entries[0][2] if isinstance(entries[0][2], dict) else json.loads(entries[0][2])
    assert after["read"] == 6 and after["quarantined"] == 3 and after["state"] == "done"


def test_a_failed_import_writes_nothing_and_says_why(any_store: Settings, tmp_path: Path) -> None:
    header_only = write_csv(tmp_path / "empty.csv", CUSTOMER_HEADER, [])
    with pytest.raises(ImportFileError, match="no data rows"):
        imp(any_store, "customers", header_only)
    with connect(any_store) as conn:
        (item,) = list_imports(conn)
    assert item.state == "failed" and "no data rows" in (item.message or "")
    assert count(any_store, "source_records") == 0
    # A file refused before it is read leaves no import behind (the CLI shows the error).
    with pytest.raises(ImportFileError, match="does not exist"):
        imp(any_store, "customers", tmp_path / "missing.csv")
    with connect(any_store) as conn:
        assert len(list_imports(conn)) == 1


def test_an_error_inside_the_transaction_rolls_everything_back(
    any_store: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxo.imports import writers

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers, "_merge_customers", broken)
    path = write_csv(tmp_path / "crm.csv", CUSTOMER_HEADER, CUSTOMERS)
    with pytest.raises(RuntimeError, match="disk full"):
        imp(any_store, "customers", path, mapping=CUSTOMER_MAPPING)
    assert count(any_store, "import_quarantine") == 0
    assert count(any_store, "source_records") == 0
    with connect(any_store) as conn:
        (item,) = list_imports(conn)
    assert item.state == "failed" and item.message == "RuntimeError: disk full"


def test_a_queued_import_is_run_by_id(any_store: Settings, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "crm.csv", CUSTOMER_HEADER, CUSTOMERS)
    with connect(any_store, write=True) as conn:
        import_id = create_import(
            conn, kind="customers", source="crm", file_name="upload.csv", actor="web"
        )
    with connect(any_store) as conn:
        assert get_import(conn, import_id=import_id).state == "queued"
    seen: list[tuple[int, int]] = []
    s = run_import(
        any_store,
        kind="customers",
        path=path,
        source="crm",
        actor="web",
        mapping=CUSTOMER_MAPPING,
        file_name="upload.csv",
        import_id=import_id,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert s.import_id == import_id
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    with connect(any_store) as conn:
        item = get_import(conn, import_id=import_id)
    assert (item.state, item.file_name, item.rows_read, item.rows_quarantined) == (
        "done",
        "upload.csv",
        6,
        3,
    )
    with pytest.raises(Conflict):
        run_import(
            any_store, kind="customers", path=path, source="crm", actor="web", import_id=import_id
        )


def test_a_queued_import_that_cannot_start_is_marked_failed(
    store: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "crm.csv", ["id"], [["1"]])
    with connect(store, write=True) as conn:
        import_id = create_import(
            conn, kind="customers", source="crm", file_name="x.csv", actor="web"
        )
    with pytest.raises(ImportFileError, match="required field"):
        run_import(
            store, kind="customers", path=path, source="crm", actor="web", import_id=import_id
        )
    with connect(store) as conn:
        item = get_import(conn, import_id=import_id)
    assert item.state == "failed" and "source_record_id" in (item.message or "")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_every_format_imports_the_same_records(store: Settings, tmp_path: Path, fmt: str) -> None:
    header = ["source_record_id", "full_name", "mobile", "home_branch"]
    rows = [
        ["B1", "陈大文", "13812345678", "Shanghai"],
        ["B2", "Chan Tai Man, Peter", "91234567", "Hong Kong"],
    ]
    mapping = parse_mapping(
        {
            "columns": {
                "family_name": {"split": "full_name", "part": "family"},
                "given_name": {"split": "full_name", "part": "given"},
                "english_name": {"split": "full_name", "part": "english"},
                "country": {"column": "home_branch", "map": {"Shanghai": "CN", "Hong Kong": "HK"}},
                "phone": "mobile",
            }
        }
    )
    path = WRITERS[fmt](tmp_path / f"branch.{fmt}", header, rows)
    s = imp(store, "customers", path, "branch", mapping=mapping)
    assert (s.read, s.accepted, s.file_format) == (2, 2, fmt)
    assert payloads(store, "branch") == {
        "B1": {
            "full_name": "陈大文",
            "family_name": "陈",
            "given_name": "大文",
            "phone": "+8613812345678",
            "country": "CN",
        },
        "B2": {
            "full_name": "Chan Tai Man, Peter",
            "family_name": "Chan",
            "given_name": "Tai Man",
            "english_name": "Peter",
            "phone": "+85291234567",
            "country": "HK",
        },
    }


def test_gb18030_file_with_chinese_column_names(store: Settings, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "会员.csv",
        ["会员号", "姓名"],
        [["M1", "陈大文"], ["M2", "欧阳娜娜"]],
        encoding="gb18030",
    )
    mapping = parse_mapping({"columns": {"source_record_id": "会员号", "full_name": "姓名"}})
    s = imp(store, "customers", path, "branch", mapping=mapping)
    assert (s.encoding, s.accepted) == ("gb18030", 2)
    assert payloads(store, "branch")["M2"] == {"full_name": "欧阳娜娜"}


def test_a_too_big_file_is_refused_up_front(tmp_path: Path, store: Settings) -> None:
    small = store.model_copy(update={"import_max_bytes": 100})
    path = write_csv(tmp_path / "crm.csv", CUSTOMER_HEADER, CUSTOMERS)
    with pytest.raises(ImportFileError, match="more than the 100 bytes allowed"):
        imp(small, "customers", path, mapping=CUSTOMER_MAPPING)


def test_preview_maps_the_first_rows_and_lists_problems(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "crm.csv", [*CUSTOMER_HEADER, "notes"], [[*r, "x"] for r in CUSTOMERS]
    )
    p = preview(path, kind="customers", mapping=CUSTOMER_MAPPING, rows=4)
    assert (p.file_format, p.encoding, p.delimiter) == ("csv", "utf-8", ",")
    assert p.columns == [*CUSTOMER_HEADER, "notes"]
    assert p.unmapped_columns == ["notes"]
    assert p.fields["phone"] == "mobile" and "source_record_id" in p.auto_mapped
    assert [r.row_number for r in p.rows] == [1, 2, 3, 4]
    assert p.rows[0].values["phone"] == "+8613812345678"
    assert p.rows[0].values["birth_date"] == dt.date(2000, 10, 26)
    assert [(x.field, x.reason) for x in p.rows[2].problems] == [("phone", "bad_phone")]
    assert p.rows[3].source["email"] == "not-an-email"
    bare = preview(path)
    assert bare.kind is None and bare.fields == {} and len(bare.rows) == 6
