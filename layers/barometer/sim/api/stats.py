"""What the simulator counts: requests, statuses, posts and users served, faults, daily usage."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any


class Stats:
    """Counters shared by the server's request threads (hence the lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.status: Counter[int | str] = Counter()  # HTTP status, or "reset" / "malformed"
        self.faults: Counter[str] = Counter()
        self.posts = 0
        self.users = 0
        self.usage: Counter[str] = Counter()  # simulated day (ISO) → posts read

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    def count_status(self, status: int | str) -> None:
        with self._lock:
            self.status[status] += 1

    def count_fault(self, key: str) -> None:
        with self._lock:
            self.faults[key] += 1

    def count_users(self, n: int) -> None:
        with self._lock:
            self.users += n

    def count_posts(self, now_ms: int, n: int) -> None:
        # Posts read count against the project's usage on the simulated day, as X bills them.
        day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date().isoformat()
        with self._lock:
            self.posts += n
            self.usage[day] += n

    def view(self) -> dict[str, Any]:
        """A consistent copy, safe to serialise while requests are being served."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "status": dict(self.status),
                "posts": self.posts,
                "users": self.users,
                "faults": dict(self.faults),
            }
