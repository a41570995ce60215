"""The cxo fields each import kind maps source columns onto, as data.

A mapping file (or the default mapping, when a file's columns already carry these names) maps
source columns to these fields. ``required`` fields must be present and non-empty on every row;
a row without one is quarantined. Types drive parsing: ``date`` and ``timestamp`` parse with the
mapping's format (ISO 8601 by default), ``number`` as a decimal, ``phone`` normalises to E.164,
``email`` trims and lower-cases, ``enum`` checks ``choices`` (case-insensitively).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from cxo.interactions.models import CHANNELS, STAGES
from cxo.vocabulary import N_

FieldType = Literal["string", "date", "timestamp", "number", "phone", "email", "enum"]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = "string"
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    help: str = ""
    max_abs: float | None = None
    """For numbers: the largest magnitude the store column holds (larger values are bad_number)."""


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
    Field(
        "customer_no",
        max_length=50,
        help="The bank's customer (CIF) number; a call centre records the one it verified",
    ),
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
    Field("channel", "enum", required=True, max_length=20, choices=CHANNELS),
    Field("touchpoint", max_length=100),
    Field("stage", "enum", required=True, max_length=20, choices=STAGES),
    Field("started_at", "timestamp", required=True),
    Field("ended_at", "timestamp"),
    Field("wait_seconds", "number"),
    Field("handle_seconds", "number"),
    Field("outcome", max_length=50),
    Field("team", max_length=100),
    Field(
        "source_system",
        max_length=50,
        help="The system the row comes from, for files that mix systems; default: --source",
    ),
)

TRANSACTION_FIELDS: Final[tuple[Field, ...]] = (
    Field("source_record_id", required=True, max_length=100),
    Field("customer_record_id", max_length=100),
    Field("occurred_at", "timestamp", required=True),
    Field("amount", "number", required=True, max_abs=1e16),
    Field("currency", required=True, max_length=3, help="ISO 4217"),
    Field("product", max_length=100),
    Field("channel", "enum", max_length=20, choices=CHANNELS),
    Field(
        "source_system",
        max_length=50,
        help="The system the row comes from, for files that mix systems; default: --source",
    ),
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

# Why a row was quarantined. Codes are stable (stored, filtered on); labels are for display.
REASONS: Final[dict[str, str]] = {
    "missing_required": N_("a required field is empty"),
    "bad_date": N_("not a date"),
    "bad_timestamp": N_("not a timestamp"),
    "bad_number": N_("not a number"),
    "bad_phone": N_("not a phone number"),
    "bad_email": N_("not an e-mail address"),
    "bad_value": N_("not an allowed value"),
    "too_long": N_("too long"),
    "ragged_row": N_("more or fewer fields than the header"),
    "bad_encoding": N_("bytes that are not valid text"),
    "bad_json": N_("not a JSON object"),
    "conflict": N_("already stored with different content"),
    "out_of_range": N_("a value outside the item's scale"),
    "no_answers": N_("no answer in any item column"),
}

# Import kinds and states as shown to people (the stored values are the English words).
KIND_LABELS: Final = (N_("customers"), N_("interactions"), N_("transactions"), N_("responses"))
STATE_LABELS: Final = (N_("queued"), N_("running"), N_("done"), N_("failed"))
