"""Customer schemas and PII masking."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class CustomerRead(BaseModel):
    id: int
    display_name: str | None
    email: str | None
    phone_e164: str | None
    city: str | None
    country: str | None
    segment: str | None
    created_at: dt.datetime

    def masked(self) -> CustomerRead:
        """The same record with personal data masked, for roles that may not see it."""
        return self.model_copy(
            update={
                "display_name": mask_name(self.display_name),
                "email": mask_email(self.email),
                "phone_e164": mask_phone(self.phone_e164),
            }
        )


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def mask_name(name: str | None) -> str | None:
    """Keep the first character: 陈小明 → 陈**, Chen Xiaoming → C*************."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_email(email: str | None) -> str | None:
    """Keep the first character of the local part and the domain: a***@example.com."""
    if not email or "@" not in email:
        return None if email is None else "***"
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    """Keep the last four digits: +86*******1234."""
    if not phone:
        return phone
    keep = phone[-4:]
    prefix = phone[:3] if phone.startswith("+") else ""
    return prefix + "*" * max(0, len(phone) - len(prefix) - 4) + keep


class CustomerDetail(BaseModel):
    """The golden record of one customer, as the Customer 360 page and API show it."""

    id: int
    requested_id: int
    """The id asked for: an alias when it differs from ``id``."""
    display_name: str | None
    given_name: str | None
    family_name: str | None
    name_latin: str | None
    email: str | None
    phone_e164: str | None
    birth_date: dt.date | None
    gender: str | None
    city: str | None
    country: str | None
    segment: str | None
    attributes: dict[str, object]
    aliases: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    def masked(self) -> CustomerDetail:
        attributes = {k: v for k, v in self.attributes.items() if k not in PII_ATTRIBUTES}
        return self.model_copy(
            update={
                "display_name": mask_name(self.display_name),
                "given_name": mask_name(self.given_name),
                "family_name": mask_name(self.family_name),
                "name_latin": mask_name(self.name_latin),
                "email": mask_email(self.email),
                "phone_e164": mask_phone(self.phone_e164),
                "birth_date": None,
                "attributes": attributes,
            }
        )


PII_ATTRIBUTES = frozenset({"address", "english_name", "loyalty_no", "customer_no"})

# How each source-record field is masked for roles that may not see personal data.
PAYLOAD_MASKS = {
    "full_name": mask_name,
    "family_name": mask_name,
    "given_name": mask_name,
    "english_name": mask_name,
    "email": mask_email,
    "phone": mask_phone,
}
PAYLOAD_HIDDEN = frozenset(
    {"birth_date", "national_id_hash", "address", "device_id", "loyalty_no", "customer_no"}
)


class SourceRecordView(BaseModel):
    """A source record of a customer, with why it was linked."""

    record_pk: int
    source_system: str
    source_record_id: str
    fields: dict[str, str | None]
    method: str
    match_weight: float | None
    explanation: dict[str, object]
    linked_at: dt.datetime

    @property
    def name(self) -> str | None:
        """The name as the record holds it: whole, or family and given name joined by script."""
        full = self.fields.get("full_name")
        if full:
            return full
        family, given = self.fields.get("family_name") or "", self.fields.get("given_name") or ""
        cjk = any("\u3400" <= ch <= "\u9fff" for ch in family + given)
        return (family + given if cjk else f"{given} {family}".strip()) or None

    def masked(self) -> SourceRecordView:
        fields: dict[str, str | None] = {}
        for k, v in self.fields.items():
            if k in PAYLOAD_HIDDEN:
                fields[k] = None if v is None else "***"
            elif k in PAYLOAD_MASKS:
                fields[k] = PAYLOAD_MASKS[k](v)
            else:
                fields[k] = v
        return self.model_copy(
            update={"fields": fields, "explanation": _mask_explanation(self.explanation)}
        )


def _mask_explanation(explanation: dict[str, object]) -> dict[str, object]:
    """Explanations name fields and levels, never values, but drop any 'values' key to be sure."""
    return {k: v for k, v in explanation.items() if k != "values"}


class TimelineEvent(BaseModel):
    """One thing that happened to a customer, on any channel."""

    kind: str
    """interaction | transaction | response | case"""
    at: dt.datetime
    channel: str | None
    title: str | None
    detail: dict[str, object]
    source_system: str | None
    source_record_id: str | None


class Customer360(BaseModel):
    customer: CustomerDetail
    records: list[SourceRecordView]
    timeline: list[TimelineEvent]
    timeline_next: dt.datetime | None
    """Pass as ``before`` to fetch the next, older page of the timeline."""
