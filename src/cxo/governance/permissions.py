"""Who may do what: permissions as data.

Every route names one permission; a permission lists the roles that hold it. Anything not listed is
denied. API tokens additionally carry scopes: a token may use a permission only if one of its scopes
grants it (see ``SCOPES``).
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("admin", "analyst", "agent", "viewer")

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "home.view": frozenset(ROLES),
    "customers.read": frozenset(ROLES),
    "customers.read_pii": frozenset({"admin", "analyst", "agent"}),
    "customers.write": frozenset({"admin", "analyst"}),
    "journey.view": frozenset(ROLES),
    "voc.view": frozenset(ROLES),
    "value.view": frozenset({"admin", "analyst", "viewer"}),
    "cases.view": frozenset(ROLES),
    "treatments.view": frozenset({"admin", "analyst"}),
    "pipeline.run": frozenset({"admin", "analyst"}),
    "imports.read": frozenset({"admin", "analyst"}),
    "imports.run": frozenset({"admin", "analyst"}),
    "surveys.read": frozenset({"admin", "analyst", "viewer"}),
    "surveys.write": frozenset({"admin", "analyst"}),
    "surveys.distribute": frozenset({"admin", "analyst"}),
    "voc.export": frozenset({"admin", "analyst"}),
    "governance.view": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
    "profile.edit": frozenset(ROLES),
}

# API token scopes and the permissions each grants.
SCOPES: Final[dict[str, frozenset[str]]] = {
    "customers:read": frozenset({"customers.read"}),
    "customers:write": frozenset({"customers.read", "customers.write"}),
    "pii:read": frozenset({"customers.read_pii"}),
    "analytics:run": frozenset({"pipeline.run"}),
    "imports:write": frozenset({"imports.read", "imports.run"}),
    "surveys:read": frozenset({"surveys.read", "voc.export"}),
    "surveys:write": frozenset({"surveys.read", "surveys.write", "surveys.distribute"}),
    "voc:export": frozenset({"voc.export"}),
    "audit:read": frozenset({"audit.read"}),
    "admin": frozenset({"users.manage", "governance.view", "audit.read"}),
}


def role_allows(role: str, permission: str) -> bool:
    """True if ``role`` holds ``permission``; unknown permissions are denied."""
    return role in PERMISSIONS.get(permission, frozenset())


def scopes_allow(scopes: list[str] | tuple[str, ...] | None, permission: str) -> bool:
    """True if any scope grants ``permission``; ``None`` means a web session (no scope limit)."""
    if scopes is None:
        return True
    return any(permission in SCOPES.get(s, frozenset()) for s in scopes)


def allowed(role: str, scopes: list[str] | tuple[str, ...] | None, permission: str) -> bool:
    return role_allows(role, permission) and scopes_allow(scopes, permission)
