"""Customer queries. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.customers.models import customers
from cxo.customers.schemas import CustomerRead, Page

MAX_PER_PAGE = 200


def list_customers(
    conn: Connection, *, page: int = 1, per_page: int = 50, mask_pii: bool = True
) -> Page[CustomerRead]:
    """One page of golden customer records (merged-away aliases excluded), newest id last."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    live = customers.c.merged_into_id.is_(None)
    total = conn.execute(sa.select(sa.func.count()).select_from(customers).where(live)).scalar_one()
    rows = conn.execute(
        sa.select(*(customers.c[name] for name in CustomerRead.model_fields))
        .where(live)
        .order_by(customers.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [CustomerRead.model_validate(dict(r._mapping)) for r in rows]
    if mask_pii:
        items = [c.masked() for c in items]
    return Page[CustomerRead](items=items, total=int(total), page=page, per_page=per_page)


def iter_customers(
    conn: Connection, *, mask_pii: bool = True, batch: int = 5000
) -> Iterator[CustomerRead]:
    """Every golden customer record in id order, fetched in batches (for exports)."""
    last = 0
    live = customers.c.merged_into_id.is_(None)
    while True:
        rows = conn.execute(
            sa.select(*(customers.c[name] for name in CustomerRead.model_fields))
            .where(live, customers.c.id > last)
            .order_by(customers.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            item = CustomerRead.model_validate(dict(r._mapping))
            yield item.masked() if mask_pii else item
        last = int(rows[-1].id)
