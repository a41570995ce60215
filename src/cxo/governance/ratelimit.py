"""A small in-process limiter for failed logins (per client address and user name)."""

from __future__ import annotations

import threading
import time
from collections import deque


class FailureLimiter:
    """Allow at most ``limit`` failures per key within ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 900.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._failures.get(key)
            if not q:
                return False
            while q and q[0] <= now - self.window:
                q.popleft()
            return len(q) >= self.limit

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._failures.clear()  # bounded memory; a flood resets rather than grows
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
