"""CSRF protection: a signed double-submit token.

Each browser gets a random ``cxo_csrf`` cookie. Forms carry ``csrf_token`` = HMAC(secret key, that
cookie); HTMX requests send it as the ``X-CSRF-Token`` header. A POST whose token does not match its
cookie is refused with 403. This works before login too (the login form), and needs no server state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CSRF_COOKIE = "cxo_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def new_cookie_value() -> str:
    return secrets.token_urlsafe(24)


def token_for(cookie_value: str, secret_key: str) -> str:
    mac = hmac.new(secret_key.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256)
    return mac.hexdigest()


def check(cookie_value: str | None, submitted: str | None, secret_key: str) -> bool:
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(token_for(cookie_value, secret_key), submitted)
