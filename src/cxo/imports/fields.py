"""The cxo fields each import kind maps source columns onto, as data.

A mapping file (or the default mapping, when a file's columns already carry these names) maps
source columns to these fields. ``required`` fields must be present and non-empty on every row;
a row without one is quarantined. Types drive parsing: ``date`` and ``timestamp`` parse with the
mapping's format (ISO 8601 by default), ``number`` as a decimal, ``phone`` normalises to E.164,
``email`` trims and lower-cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FieldType = Literal["string", "date", "timestamp", "number", "phone", "email", "enum"]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = "string"
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    help: str = ""


CUSTOMER_FIELDS: Final[tuple[Field, ...]] = (
    Field("source_record_id", required=True, max_length=100, help="The record's id in its system"),
    Field("full_name", help="The whole name as written, any script"),
    Field("family_name", max_length=100),
    Field("given_name", max_length=100),
    Field("english_name", max_length=100, help="An English given name next to a Chinese name"),
    Field("gender", max_length=20),
    Field("birth_date", "date"),
    Field("email", "email", max_length=320),
    Field("phone", "phone", max_length=20, help="Normalised to E.164 (+8613812345678)"),
    Field("national_id_hash", max_length=128, help="A hash of the national id, never the id"),
    Field("id_type", max_length=30),
    Field("loyalty_no", max_length=50),
    Field("device_id", max_length=100),
    Field("address", max_length=400),
    Field("city", max_length=100),
    Field("country", max_length=2, help="ISO 3166-1 alpha-2"),
    Field("language", max_length=30),
    Field("updated_at", "timestamp", help="When the source system last changed the record"),
)

INTERACTION_FIELDS: Final[tuple[Field, ...]] = (
    Field("source_record_id", required=True, max_length=100),
    Field("customer_record_id", max_length=100, help="The customer's record id in any system"),
    Field("channel", "enum", required=True, max_length=20),
    Field("touchpoint", max_length=100),
    Field("stage", "enum", required=True, max_length=20),
    Field("started_at", "timestamp", required=True),
    Field("ended_at", "timestamp"),
    Field("wait_seconds", "number"),
    Field("handle_seconds", "number"),
    Field("outcome", max_length=50),
    Field("team", max_length=100),
)

TRANSACTION_FIELDS: Final[tuple[Field, ...]] = (
    Field("source_record_id", required=True, max_length=100),
    Field("customer_record_id", max_length=100),
    Field("occurred_at", "timestamp", required=True),
    Field("amount", "number", required=True),
    Field("currency", required=True, max_length=3, help="ISO 4217"),
    Field("product", max_length=100),
    Field("channel", "enum", max_length=20),
)

RESPONSE_FIELDS: Final[tuple[Field, ...]] = (
    Field("source_record_id", required=True, max_length=100, help="The response's id"),
    Field("customer_record_id", max_length=100),
    Field("survey", max_length=50, help="Survey code; defaults to the import's source name"),
    Field("locale", max_length=10),
    Field("started_at", "timestamp"),
    Field("completed_at", "timestamp"),
    Field("item_code", required=True, max_length=50, help="One row per answer (long format)"),
    Field("scale", max_length=20, help="importance | performance | expectation | single"),
    Field("value_num", "number"),
    Field("value_text", max_length=4000),
)

FIELDS: Final[dict[str, tuple[Field, ...]]] = {
    "customers": CUSTOMER_FIELDS,
    "interactions": INTERACTION_FIELDS,
    "transactions": TRANSACTION_FIELDS,
    "responses": RESPONSE_FIELDS,
}
