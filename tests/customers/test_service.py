"""Customer 360: search, the golden record, source records with explanations, the timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cxo.customers import service
from cxo.errors import NotFound
from cxo.identity import service as identity
from cxo.interactions.models import interactions, transactions
from cxo.settings import Settings
from cxo.store.engine import connect
from tests.identity.seed import seed_customers

PEOPLE = [
    [
        (
            "crm",
            "C1",
            {
                "family_name": "张",
                "given_name": "伟",
                "email": "zhang.wei@example.cn",
                "phone": "+8613812345678",
            },
        ),
        ("web", "W1", {"full_name": "Zhang Wei", "email": "old.zw@qq.com"}),
    ],
    [
        (
            "crm",
            "C2",
            {"full_name": "William Smith", "email": "bill@example.com", "phone": "+447700900123"},
        )
    ],
]


def _at(day: int) -> dt.datetime:
    return dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)


@pytest.fixture
def seeded(any_store: Settings) -> tuple[Settings, list[int]]:
    ids = seed_customers(any_store, PEOPLE)
    with connect(any_store, write=True) as conn:
        for day in range(1, 8):
            conn.execute(
                interactions.insert().values(
                    source_system="web",
                    source_record_id=f"IX{day}",
                    customer_record_id="W1",
                    channel="web",
                    stage="service",
                    touchpoint="password reset",
                    started_at=_at(day),
                    wait_seconds=float(day),
                    outcome="resolved",
                    created_at=_at(day),
                )
            )
        conn.execute(
            transactions.insert().values(
                source_system="crm",
                source_record_id="TX1",
                customer_record_id="C1",
                occurred_at=_at(4),
                amount=Decimal("12.50"),
                currency="CNY",
                created_at=_at(4),
            )
        )
        conn.execute(
            interactions.insert().values(
                source_system="web",
                source_record_id="IX-anon",
                customer_record_id="NOPE",
                channel="web",
                stage="engage",
                started_at=_at(1),
                created_at=_at(1),
            )
        )
        identity.link_activity(conn)
    return any_store, ids


@pytest.mark.parametrize(
    "query",
    [
        "张伟",
        "zhang wei",
        "ZhangWei",
        "zhang.wei@example.cn",
        "OLD.ZW@qq.com",
        "138 1234 5678",
        "+86 138-1234-5678",
    ],
)
def test_search_finds_by_characters_pinyin_email_and_phone(seeded, query: str) -> None:  # type: ignore[no-untyped-def]
    settings, (zhang, _bill) = seeded
    with connect(settings) as conn:
        found = service.search_customers(conn, query, mask_pii=False)
    assert [c.id for c in found] == [zhang]


def test_search_by_alias_id_finds_survivor_and_nonsense_finds_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    settings, (zhang, bill) = seeded
    identity.merge_customers(settings, actor="t", first=zhang, second=bill)
    with connect(settings) as conn:
        assert [c.id for c in service.search_customers(conn, str(bill))] == [zhang]
        assert service.search_customers(conn, "nobody-like-this") == []
        assert service.search_customers(conn, "   ") == []
        assert service.search_customers(conn, "%") == []  # LIKE wildcards match literally
        assert service.search_customers(conn, "_") == []


def test_360_masks_pii_and_explains_links(seeded) -> None:  # type: ignore[no-untyped-def]
    settings, (zhang, _bill) = seeded
    with connect(settings) as conn:
        masked = service.customer_360(conn, zhang, mask_pii=True)
        clear = service.customer_360(conn, zhang, mask_pii=False)
    assert clear.customer.display_name == "张伟" and masked.customer.display_name == "张*"
    assert masked.customer.email == "z***@example.cn" and masked.customer.birth_date is None
    assert {r.source_system for r in clear.records} == {"crm", "web"}
    assert all(r.explanation == {"keys": ["email"]} for r in clear.records)
    web = next(r for r in masked.records if r.source_system == "web")
    assert web.fields["email"] == "o***@qq.com"


def test_timeline_merges_channels_newest_first_and_pages(seeded) -> None:  # type: ignore[no-untyped-def]
    settings, (zhang, _bill) = seeded
    with connect(settings) as conn:
        events, nxt = service.timeline(conn, zhang, limit=5)
        assert [e.at.day for e in events] == [7, 6, 5, 4, 4]
        assert {e.kind for e in events} == {"interaction", "transaction"}
        assert nxt is not None
        older, end = service.timeline(conn, zhang, before=nxt, limit=5)
        assert [e.at.day for e in older] == [3, 2, 1]
        assert end is None
        # The interaction whose customer record is unknown belongs to nobody.
        assert all(e.source_record_id != "IX-anon" for e in events + older)
        with pytest.raises(NotFound):
            service.customer_360(conn, 424242)
