"""The demo world's four source systems mapped onto the canonical customer fields.

This is the synth → canonical mapping that the import pipeline will make with mapping files; the
identity benchmarks and tests use it until then. Column by column:

========== ===========================================================================================
crm        customer_no, family_name, given_name, english_name, gender, birth_date, id_type,
           id_number_hash → national_id_hash, mobile (E.164) → phone, email, address, updated_at
web        display_name → full_name, email, mobile → phone, device_id, customer_no (an online-
           banking profile's), updated_at
cti        caller_name → full_name, caller_number (digits with country code, no "+") → phone
           ("+" prepended), language, customer_no (the verified caller's), updated_at
branch     member_name → full_name, loyalty_no, mobile (national format) → phone (E.164 with the
           country of home_branch; a leading trunk 0 dropped for CN, UK and AU), address,
           birthday → birth_date, home_branch → city, updated_at
========== ===========================================================================================

``record_pk`` numbers the records 1… in the order crm, web, cti, branch (each in file order);
``source_system`` is ``crm``/``web``/``cti``/``branch``, the names the truth files use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from cxo.identity.engine import RECORD_COLUMNS

SYSTEM_FOLDERS: Final = {
    "crm": "crm_customers",
    "web": "web_accounts",
    "cti": "cti_callers",
    "branch": "branch_members",
}
_COUNTRY_CODE: Final = {
    "Shanghai": "86",
    "Beijing": "86",
    "Shenzhen": "86",
    "Guangzhou": "86",
    "Hangzhou": "86",
    "Chengdu": "86",
    "Hong Kong": "852",
    "London": "44",
    "Singapore": "65",
    "Sydney": "61",
}
_ISO: Final = {"86": "CN", "852": "HK", "44": "GB", "65": "SG", "61": "AU"}


@dataclass(frozen=True)
class World:
    """Canonical records (:data:`RECORD_COLUMNS`) and the truth per record."""

    records: pa.Table
    truth: pa.Table  # record_pk, source_system, person_id, household_id, noise flags …


def _s(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    return a if a.type == pa.string() else pc.cast(a, pa.string())


def _branch_phone(mobile: pa.Array, city: pa.Array) -> pa.Array:
    """National-format numbers as a clerk writes them → E.164, by the home branch's country."""
    digits = pc.replace_substring_regex(mobile, r"[^0-9]", "")
    cc = pc.fill_null(
        pa.array([_COUNTRY_CODE.get(c) if c else None for c in city.to_pylist()], pa.string()),
        "",
    )
    trunk = pc.and_(pc.is_in(cc, pa.array(["86", "44", "61"])), pc.starts_with(digits, "0"))
    national = pc.if_else(trunk, pc.utf8_slice_codeunits(digits, 1), digits)
    e164 = pc.binary_join_element_wise("+", cc, national, "")
    return pc.if_else(pc.equal(cc, ""), pa.scalar(None, pa.string()), e164)


def map_system(system: str, table: pa.Table) -> dict[str, pa.Array]:
    """One system's table as canonical columns (absent fields left out)."""
    c = {name: _s(table[name]) for name in table.column_names}
    out: dict[str, pa.Array] = {"source_record_id": c["source_record_id"]}
    if "customer_no" in c:  # crm, web and cti; absent from worlds made before it existed
        out["customer_no"] = c["customer_no"]
    if system == "crm":
        out |= {
            "family_name": c["family_name"],
            "given_name": c["given_name"],
            "english_name": c["english_name"],
            "gender": c["gender"],
            "birth_date": c["birth_date"],
            "id_type": c["id_type"],
            "national_id_hash": c["id_number_hash"],
            "phone": c["mobile"],
            "email": c["email"],
            "address": c["address"],
        }
    elif system == "web":
        out |= {
            "full_name": c["display_name"],
            "email": c["email"],
            "phone": c["mobile"],
            "device_id": c["device_id"],
        }
    elif system == "cti":
        number = c["caller_number"]
        out |= {
            "full_name": c["caller_name"],
            "phone": pc.if_else(
                pc.is_valid(number), pc.binary_join_element_wise("+", number, ""), number
            ),
            "language": c["language"],
        }
    elif system == "branch":
        phone = _branch_phone(c["mobile"], c["home_branch"])
        out |= {
            "full_name": c["member_name"],
            "loyalty_no": c["loyalty_no"],
            "phone": phone,
            "address": c["address"],
            "birth_date": c["birthday"],
            "city": c["home_branch"],
        }
    else:
        raise ValueError(f"unknown source system {system!r}")
    out["updated_at"] = pc.strftime(table["updated_at"].combine_chunks(), "%Y-%m-%dT%H:%M:%S")
    return out


def to_records(systems: dict[str, pa.Table], first_pk: int = 1) -> pa.Table:
    """Canonical records from the systems' tables (keys: crm, web, cti, branch)."""
    parts: list[pa.Table] = []
    pk = first_pk
    for system in SYSTEM_FOLDERS:
        if system not in systems:
            continue
        table = systems[system]
        n = table.num_rows
        mapped = map_system(system, table)
        cols: dict[str, pa.Array] = {
            "record_pk": pa.array(range(pk, pk + n), pa.int64()),
            "source_system": pa.array([system] * n, pa.string()),
        }
        for name in RECORD_COLUMNS[2:]:
            cols[name] = mapped.get(name, pa.nulls(n, pa.string()))
        parts.append(pa.table(cols))
        pk += n
    if not parts:
        return pa.table(
            {
                c: pa.array([], pa.int64() if c == "record_pk" else pa.string())
                for c in RECORD_COLUMNS
            }
        )
    return pa.concat_tables(parts)


def world_from_tables(tables: dict[str, pa.Table]) -> World:
    """A World from synth output tables keyed as ``cxo synth`` names them (in memory)."""
    systems = {s: tables[f] for s, f in SYSTEM_FOLDERS.items()}
    records = to_records(systems)
    persons = tables["truth/persons"].select(
        [
            "person_id",
            "household_id",
            "market",
            "name_romanisation",
            "family_name_zh",
            "given_name_zh",
            "family_name_latin",
            "given_name_latin",
        ]
    )
    keys = records.select(["record_pk", "source_system", "source_record_id"])
    truth = (
        keys.join(tables["truth/record_person"], ["source_system", "source_record_id"])
        .join(tables["truth/record_noise"], ["source_system", "source_record_id"])
        .join(persons, "person_id")
        .sort_by("record_pk")
    )
    return World(records=records, truth=truth)


def load_world(folder: str | Path) -> World:
    """Read a ``cxo synth`` folder: canonical records and the truth joined on them."""
    root = Path(folder)
    names = [*SYSTEM_FOLDERS.values(), "truth/record_person", "truth/record_noise", "truth/persons"]
    return world_from_tables({n: ds.dataset(root / n).to_table() for n in names})


def true_name(truth: pa.Table) -> pa.Array:
    """Each record's person's true name (characters where the person has them): for namesakes."""
    zh = pc.binary_join_element_wise(truth["family_name_zh"], truth["given_name_zh"], "")
    latin = pc.binary_join_element_wise(truth["family_name_latin"], truth["given_name_latin"], " ")
    return pc.coalesce(zh, latin)
