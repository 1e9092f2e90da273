"""Fault injection for the X API simulator, deterministic and counted.

A `FaultPlan` parses from a compact string (the `--faults` CLI option), comma-separated:

    429@search_recent:2      the next 2 search/recent requests get 429 with a reset seconds away
    503@users_tweets:1       one 503 (any 5xx/4xx code works: 500, 502, 503, 400, 403…)
    cap                      monthly cap exhausted: every post-reading request gets X's
                             UsageCapExceeded 429 (reset days away); /2/usage/tweets shows it
    reset[@ep][:n]           close the connection without a response (connection reset)
    timeout[@ep][:n]         answer only after `timeout_seconds` (default 2 s, capped at 5 s)
    malformed[@ep][:n]       a 200 whose body is not valid JSON
    suspended=GSK_FR         users/by answers X's "User has been suspended" error for the handle
    unknown=foo              the handle does not resolve (X's "Could not find user")
    rename=MSDFrance>MSD_FR  same account id, new username
    delete=3                 the 3 most recent brand posts older than a day are deleted at `now`

`@ep` is an endpoint key (see `ENDPOINTS`); without it the fault hits the next requests of any
endpoint. `:n` is how many requests it hits (default 1; `cap` lasts until the plan is replaced).
Faults fire in request order, so a scripted client sees the same faults on every run.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from barometer.errors import ConfigError

ENDPOINTS = (
    "users_by",
    "users",
    "users_tweets",
    "tweets",
    "search_recent",
    "counts_recent",
    "search_all",
    "counts_all",
    "usage",
)
_KINDS = ("status", "cap", "reset", "timeout", "malformed")
_ITEM = re.compile(r"^(?P<kind>\d{3}|cap|reset|timeout|malformed)(?:@(?P<ep>[a-z_]+|\*))?(?::(?P<n>\d+))?$")
_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,15}$")


@dataclass
class Fault:
    kind: str  # status | cap | reset | timeout | malformed
    endpoint: str | None = None  # None: any endpoint
    count: int | None = 1  # None: unlimited
    status: int = 0  # for kind == "status"
    fired: int = 0

    def matches(self, endpoint: str) -> bool:
        return (self.endpoint is None or self.endpoint == endpoint) and (
            self.count is None or self.fired < self.count
        )


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    suspended: set[str] = field(default_factory=set)  # lower-case handles
    unknown: set[str] = field(default_factory=set)
    renames: dict[str, str] = field(default_factory=dict)  # old handle (lower) → new handle
    delete: int = 0
    delete_ids: list[int] = field(default_factory=list)
    timeout_seconds: float = 2.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.timeout_seconds = min(max(self.timeout_seconds, 0.0), 5.0)

    @classmethod
    def parse(cls, spec: str | None, *, timeout_seconds: float = 2.0) -> FaultPlan:
        plan = cls(timeout_seconds=timeout_seconds)
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if "=" in item:
                key, _, val = item.partition("=")
                key = key.strip()
                val = val.strip()
                if key in ("suspended", "unknown"):
                    if not _HANDLE.match(val):
                        raise ConfigError(f"--faults: {item!r}: not a handle")
                    getattr(plan, key).add(val.removeprefix("@").lower())
                elif key == "rename":
                    old, sep, new = val.partition(">")
                    if not sep or not _HANDLE.match(old) or not _HANDLE.match(new):
                        raise ConfigError(f"--faults: {item!r}: expected rename=OLD>NEW")
                    plan.renames[old.removeprefix("@").lower()] = new.removeprefix("@")
                elif key == "delete":
                    if not val.isdigit():
                        raise ConfigError(f"--faults: {item!r}: expected delete=N")
                    plan.delete += int(val)
                else:
                    raise ConfigError(f"--faults: unknown fault {key!r}")
                continue
            m = _ITEM.match(item)
            if not m:
                raise ConfigError(
                    f"--faults: cannot parse {item!r} (expected e.g. 429@search_recent:2, cap, reset)"
                )
            kind, ep, n = m.group("kind"), m.group("ep"), m.group("n")
            if ep == "*":
                ep = None
            if ep is not None and ep not in ENDPOINTS:
                raise ConfigError(f"--faults: unknown endpoint {ep!r} (one of {', '.join(ENDPOINTS)})")
            if kind.isdigit():
                code = int(kind)
                if not 400 <= code <= 599:
                    raise ConfigError(f"--faults: {item!r}: status must be 4xx or 5xx")
                plan.faults.append(Fault("status", ep, int(n) if n else 1, code))
            else:
                count = int(n) if n else (None if kind == "cap" else 1)
                plan.faults.append(Fault(kind, ep, count))
        return plan

    def take(self, endpoint: str) -> Fault | None:
        """The fault to apply to this request, if any (consumes one occurrence)."""
        with self._lock:
            for f in self.faults:
                if f.matches(endpoint):
                    f.fired += 1
                    return f
        return None

    def cap_active(self, endpoint: str) -> bool:
        return any(f.kind == "cap" and f.matches(endpoint) for f in self.faults)

    @property
    def fired(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.faults:
            key = f"{f.status if f.kind == 'status' else f.kind}@{f.endpoint or '*'}"
            out[key] = out.get(key, 0) + f.fired
        return out
