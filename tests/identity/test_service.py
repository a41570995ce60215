"""Manual merge, unmerge and split on the store; golden records; activity follows its customer."""

from __future__ import annotations

import datetime as dt
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from cxo.customers.models import customers, identity_constraints, identity_links
from cxo.errors import Conflict, NotFound
from cxo.governance.models import audit_log
from cxo.identity import service
from cxo.interactions.models import interactions
from cxo.settings import Settings
from cxo.store.engine import connect
from tests.identity.seed import seed_customers

ANNA = [
    (
        "crm",
        "C1",
        {
            "full_name": "陈安娜",
            "email": "anna@example.com",
            "phone": "+85291234567",
            "birth_date": "1990-02-03",
            "updated_at": "2024-01-01T00:00:00",
        },
    ),
    (
        "web",
        "W1",
        {
            "full_name": "Anna Chan",
            "email": "anna.new@example.com",
            "updated_at": "2025-06-01T00:00:00",
        },
    ),
]
BOB = [("cti", "T1", {"full_name": "Bob Lee", "phone": "+85298765432"})]


def _live(settings: Settings) -> dict[int, int | None]:
    with connect(settings) as conn:
        return {r.id: r.merged_into_id for r in conn.execute(sa.select(customers))}


def test_golden_record_survivorship(any_store: Settings) -> None:
    (anna,) = seed_customers(any_store, [ANNA])
    with connect(any_store) as conn:
        row = conn.execute(sa.select(customers).where(customers.c.id == anna)).one()
    assert row.display_name == "陈安娜"  # trusted: crm before web
    assert row.email == "anna.new@example.com"  # recent
    assert row.phone_e164 == "+85291234567"
    assert row.birth_date == dt.date(1990, 2, 3)
    assert row.name_latin == "chen an na"


def test_merge_keeps_older_id_and_alias_still_resolves(any_store: Settings) -> None:
    anna, bob = seed_customers(any_store, [ANNA, BOB])
    with connect(any_store, write=True) as conn:
        conn.execute(
            interactions.insert().values(
                source_system="cti",
                source_record_id="IX1",
                customer_record_id="T1",
                channel="phone",
                stage="service",
                started_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
                created_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
            )
        )
        assert service.link_activity(conn) == 1
    out = service.merge_customers(any_store, actor="t", first=bob, second=anna, reason="same")
    assert out == {"survivor": anna, "alias": bob, "records_moved": 1}
    assert _live(any_store)[bob] == anna
    with connect(any_store) as conn:
        assert service.live_customer(conn, bob) == anna
        cid = conn.execute(sa.select(interactions.c.customer_id)).scalar_one()
        assert cid == anna  # history moved with the merge
        kinds = conn.execute(sa.select(identity_constraints.c.kind)).scalars().all()
        assert kinds == ["must_link"]
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
        assert "customers.merge" in actions
    with pytest.raises(Conflict):
        service.merge_customers(any_store, actor="t", first=anna, second=bob)


def test_link_activity_of_changed_records_and_rows_without_a_customer(
    any_store: Settings,
) -> None:
    anna, bob = seed_customers(any_store, [ANNA, BOB])
    when = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    with connect(any_store, write=True) as conn:
        for rid, record in (("IX1", "T1"), ("IX2", "C1"), ("IX3", "NOPE")):
            conn.execute(
                interactions.insert().values(
                    source_system="cti",
                    source_record_id=rid,
                    customer_record_id=record,
                    channel="phone",
                    stage="service",
                    started_at=when,
                    created_at=when,
                )
            )
        # no record changed: the rows without a customer are linked; IX3 names no record
        assert service.link_activity(conn, []) == 2
        conn.execute(interactions.update().where(interactions.c.source_record_id == "IX2")
                     .values(customer_id=bob))  # fmt: skip
        # a row of an unchanged record is not looked at; the full pass puts it right
        assert service.link_activity(conn, []) == 0
        assert service.link_activity(conn) == 1
        rows = dict(conn.execute(sa.select(interactions.c.source_record_id,
                                           interactions.c.customer_id)).all())  # fmt: skip
    assert rows == {"IX1": bob, "IX2": anna, "IX3": None}


def test_unmerge_restores_alias_with_its_records(any_store: Settings) -> None:
    anna, bob = seed_customers(any_store, [ANNA, BOB])
    service.merge_customers(any_store, actor="t", first=anna, second=bob)
    out = service.unmerge_customer(any_store, actor="t", customer_id=anna)
    assert out == {"customer": anna, "restored": bob, "records_moved": 1}
    assert _live(any_store)[bob] is None
    with connect(any_store) as conn:
        kinds = conn.execute(sa.select(identity_constraints.c.kind)).scalars().all()
        assert kinds == ["cannot_link"] * 2  # the must-link is gone; 2 × 1 cannot-links
        assert sorted(service.current_links(conn).values()) == [anna, anna, bob]
        # History is kept: the record's earlier links are inactive, not deleted.
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(identity_links)).scalar_one() == 5
        )


def test_unmerge_of_never_merged_customer_is_a_clear_conflict(any_store: Settings) -> None:
    (anna,) = seed_customers(any_store, [ANNA])
    with pytest.raises(Conflict, match="never merged"):
        service.unmerge_customer(any_store, actor="t", customer_id=anna)
    with pytest.raises(NotFound):
        service.unmerge_customer(any_store, actor="t", customer_id=99999)


def test_split_moves_one_record_to_a_new_customer(any_store: Settings) -> None:
    (anna,) = seed_customers(any_store, [ANNA])
    with connect(any_store) as conn:
        pk = min(service.current_links(conn))
    out = service.split_record(any_store, actor="t", record_pk=pk)
    assert out["customer"] == anna and out["new_customer"] > anna
    with connect(any_store) as conn:
        links = service.current_links(conn)
        assert links[pk] == out["new_customer"]
        row = conn.execute(sa.select(customers).where(customers.c.id == out["new_customer"])).one()
        assert row.display_name == "陈安娜"
    with pytest.raises(Conflict, match="only record"):
        service.split_record(any_store, actor="t", record_pk=pk)


# -- resolve_store with the real engine ------------------------------------------------------------

from tests.identity.seed import add_record  # noqa: E402

PEOPLE_RECORDS = [
    (
        "crm",
        "C-ANNA",
        {
            "family_name": "陈",
            "given_name": "安娜",
            "email": "anna.chen@example.com",
            "phone": "+85291234567",
            "birth_date": "1990-02-03",
        },
    ),
    ("web", "W-ANNA", {"full_name": "Anna Chan", "email": "anna.chen@example.com"}),
    (
        "crm",
        "C-BOB",
        {
            "family_name": "Lee",
            "given_name": "Robert",
            "email": "bob.lee@example.com",
            "phone": "+85298765432",
            "birth_date": "1975-11-30",
        },
    ),
    ("cti", "T-BOB", {"full_name": "Bob Lee", "phone": "+85298765432"}),
    (
        "crm",
        "C-CARL",
        {
            "family_name": "Smith",
            "given_name": "Carl",
            "email": "carl@example.co.uk",
            "phone": "+447700900123",
            "birth_date": "1988-06-01",
        },
    ),
]


def _add(settings: Settings, rows: list[tuple[str, str, dict[str, str]]]) -> dict[str, int]:
    with connect(settings, write=True) as conn:
        return {rid: add_record(conn, system, rid, fields) for system, rid, fields in rows}


def _cache(settings: Settings) -> pa.Table:
    """Every row of every part of the feature cache."""
    parts = sorted(service._feature_cache(settings).glob("part-*.arrow"))
    return pa.concat_tables([service.read_cache_file(p) for p in parts])


def test_resolve_store_full_then_incremental_keeps_ids(any_store: Settings) -> None:
    with pytest.raises(service.NothingToResolve):
        service.resolve_store(any_store, actor="t")
    pks = _add(any_store, PEOPLE_RECORDS)
    first = service.resolve_store(any_store, actor="t")
    assert (first.mode, first.records, first.customers_created) == ("full", 5, 3)
    # the full run leaves every record's normalised features for incremental runs
    cache = _cache(any_store)
    assert sorted(cache["record_pk"].to_pylist()) == sorted(pks.values())
    with connect(any_store) as conn:
        hashes = service._payload_hashes(conn)
    assert service._load_cache(any_store, hashes).features.num_rows == 5
    # a row whose payload changed since (another hash) is not used
    stale = hashes.set_column(
        1, "payload_hash", pa.array(["x" if p == pks["C-ANNA"] else h for p, h in
                                     zip(hashes["record_pk"].to_pylist(),
                                         hashes["payload_hash"].to_pylist(), strict=True)])
    )  # fmt: skip
    kept = service._load_cache(any_store, stale).features
    assert pks["C-ANNA"] not in kept["record_pk"].to_pylist() and kept.num_rows == 4
    with connect(any_store) as conn:
        links = service.current_links(conn)
    anna, bob = links[pks["C-ANNA"]], links[pks["C-BOB"]]
    assert links[pks["W-ANNA"]] == anna and links[pks["T-BOB"]] == bob != anna
    # Nothing new: an incremental run that changes nothing.
    again = service.resolve_store(any_store, actor="t")
    assert (again.mode, again.customers_created, again.links_changed) == ("incremental", 0, 0)
    # A new record of Anna joins her customer without re-clustering.
    new = _add(
        any_store,
        [
            (
                "branch",
                "B-ANNA",
                {"full_name": "陈安娜", "phone": "+85291234567", "birth_date": "1990-02-03"},
            )
        ],
    )
    inc = service.resolve_store(any_store, actor="t")
    assert (inc.mode, inc.new_records, inc.customers_created) == ("incremental", 1, 0)
    with connect(any_store) as conn:
        assert service.current_links(conn)[new["B-ANNA"]] == anna
    cache = _cache(any_store)
    assert sorted(cache["record_pk"].to_pylist()) == sorted([*pks.values(), new["B-ANNA"]])
    # A full re-run keeps every id.
    full = service.resolve_store(any_store, actor="t", full=True)
    assert (full.customers_created, full.customers_merged, full.links_changed) == (0, 0, 0)
    with connect(any_store) as conn:
        assert service.current_links(conn)[pks["C-BOB"]] == bob
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert actions.count("identity.resolve") == 4


def test_unmerge_survives_a_full_rerun(store: Settings) -> None:
    pks = _add(store, PEOPLE_RECORDS)
    service.resolve_store(store, actor="t")
    with connect(store) as conn:
        anna = service.current_links(conn)[pks["C-ANNA"]]
        carl = service.current_links(conn)[pks["C-CARL"]]
    service.merge_customers(store, actor="t", first=anna, second=carl)
    service.resolve_store(store, actor="t", full=True)
    with connect(store) as conn:
        assert service.current_links(conn)[pks["C-CARL"]] == min(anna, carl)  # must-link holds
    service.unmerge_customer(store, actor="t", customer_id=min(anna, carl))
    service.resolve_store(store, actor="t", full=True)
    with connect(store) as conn:
        links = service.current_links(conn)
    assert links[pks["C-CARL"]] != links[pks["C-ANNA"]]  # cannot-link holds


def test_feature_cache_grows_by_parts_and_folds(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_CACHE_PARTS", 2)
    pks = _add(store, PEOPLE_RECORDS)
    service.resolve_store(store, actor="t")

    def parts() -> int:
        return len(list(service._feature_cache(store).glob("part-*.arrow")))

    extra = {"full_name": "Dora Wong", "phone": "+85290000001"}
    pks |= _add(store, [("web", "W-DORA", extra)])
    service.resolve_store(store, actor="t")
    assert parts() == 2  # an incremental run adds a part with what it normalised
    pks |= _add(store, [("web", "W-ERIC", {"full_name": "Eric Ho"})])
    service.resolve_store(store, actor="t")
    assert parts() == 1  # at the limit the parts fold into one
    assert sorted(_cache(store)["record_pk"].to_pylist()) == sorted(pks.values())
    # a changed payload makes its row stale: the next run normalises the record again and folds
    with connect(store, write=True) as conn:
        conn.execute(
            sa.text("UPDATE source_records SET payload_hash = 'changed' WHERE id = :id"),
            {"id": pks["C-CARL"]},
        )
    pks |= _add(store, [("web", "W-FAY", {"full_name": "Fay Lam"})])
    service.resolve_store(store, actor="t")
    cache = _cache(store)
    assert parts() == 1 and sorted(cache["record_pk"].to_pylist()) == sorted(pks.values())
    carl = cache.filter(pc.equal(cache["record_pk"], pks["C-CARL"]))
    assert carl["payload_hash"].to_pylist() == ["changed"]


def test_feature_cache_reads_one_row_per_record(store: Settings) -> None:
    pks = _add(store, PEOPLE_RECORDS)
    service.resolve_store(store, actor="t")
    (part,) = service._feature_cache(store).glob("part-*.arrow")
    shutil.copy(part, part.with_name("part-99999999999999999999-0.arrow"))  # every row twice
    with connect(store) as conn:
        hashes = service._payload_hashes(conn)
    kept = service._load_cache(store, hashes).features
    assert kept is not None and sorted(kept["record_pk"].to_pylist()) == sorted(pks.values())
    part.write_bytes(b"not arrow")  # an unreadable part costs time only
    again = service.resolve_store(store, actor="t", full=False)
    assert again.mode == "incremental"
    # ... and the next run that writes folds the usable parts into one, without it
    pks |= _add(store, [("web", "W-GUS", {"full_name": "Gus Ng"})])
    service.resolve_store(store, actor="t")
    assert len(list(service._feature_cache(store).glob("part-*.arrow"))) == 1
    assert sorted(_cache(store)["record_pk"].to_pylist()) == sorted(pks.values())
