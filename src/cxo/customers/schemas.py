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
