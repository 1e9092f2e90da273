"""Calling X: every request goes through `Fetcher`, which archives, counts, limits and retries.

Each successful page is written to `raw/` *before* anything parses it, so a parser bug or a
crash never loses data already paid for. The fetcher also owns the run's three hard limits:
the deadline (never sleep or call past it), the read budgets (what X bills), and X's own rate
limits and monthly cap.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
import tweepy

from barometer.collect.budget import Budget
from barometer.collect.options import RECENT_DAYS
from barometer.collect.parse import SEARCH_ENDPOINTS, USER_ENDPOINTS, billed_ids
from barometer.lake.store import Lake

RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
# A 429 whose window resets further away than this is not a 15-minute throttle but the
# monthly usage cap: waiting is pointless, the run stops at once.
CAP_RESET_SECONDS = 3600
# Transient failures worth another try: 5xx, connection resets, timeouts, truncated bodies.
TRANSIENT = (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout,
             requests.exceptions.ChunkedEncodingError)
# X's 400 for a recent search or count reaching too far back names its own 7-day floor: the
# one place its clock shows (its Date header is the wall clock, which a simulator need not be).
_FLOOR = re.compile(r"'start_time' must be on or after (\d{4}-\d{2}-\d{2}T\d{2}:\d{2})")


class Clock(Protocol):
    """What the fetcher reads time from and sleeps on: the real clock, or a simulated one
    (`sim.api.limits.SimClock`, which only advances by its sleeps: a day of waits in seconds)."""

    def time(self) -> float: ...  # epoch seconds (the API's x-rate-limit-reset scale)

    def monotonic(self) -> float: ...  # the deadline's scale

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The process's own clock (the default)."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


REAL_CLOCK: Clock = RealClock()


class Stop(Exception):
    """Ends the run's API work early (deadline, budget, rate limit, monthly cap): status partial."""


class StreamFailed(Exception):
    """One stream (a brand's timeline, search, counts...) failed; the others go on."""


class Fatal(Exception):
    """The run cannot go on at all (bad token): status failed."""


@dataclass
class Limits:
    deadline: float | None  # the clock's monotonic() by which API work must be over
    max_post_reads: int
    max_user_reads: int
    max_wait: float = 900.0  # longest single rate-limit sleep (one 15-minute window)
    retries: int = 3
    backoff: float = 0.5
    # X allows 1 request/s on full-archive search (on top of its 15-minute window): pacing to it
    # costs the same wait as a 429 would, without the wasted request.
    search_all_interval: float = 1.05
    budget: Budget | None = None  # dollars of X reads this run may spend (collect/budget.py)


@dataclass
class Counters:
    requests: int = 0
    # The distinct posts and users the run was returned: X bills each once a UTC day, however
    # many pages (or brands' searches) return it. A run is taken as one billing day: a run
    # spanning midnight UTC is estimated high, never low.
    post_ids: set[str] = field(default_factory=set)
    user_ids: set[str] = field(default_factory=set)
    # Rate-limit waits per endpoint: (count, seconds), reported as one line per endpoint.
    waits: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def posts(self) -> int:
        return len(self.post_ids)

    @property
    def users(self) -> int:
        return len(self.user_ids)

    @property
    def errors(self) -> list[str]:
        return [f"{ep}: 429 rate limited {n}x: waited {secs:.1f} s in all for the resets"
                for ep, (n, secs) in sorted(self.waits.items())]


class Fetcher:
    """One run's gateway to the API (see module doc)."""

    def __init__(self, client: tweepy.Client, lake: Lake, raw_prefix: str, observed_at: datetime,
                 limits: Limits, sleep: Callable[[float], None] | None = None,
                 clock: Clock | None = None) -> None:
        self.client = client
        self.lake = lake
        self.prefix = raw_prefix
        self.observed_at = observed_at.isoformat()
        self.limits = limits
        self.clock = clock or REAL_CLOCK
        self.sleep = sleep or self.clock.sleep
        self.count = Counters()
        self.seq = 0
        self.pages: list[dict[str, Any]] = []
        self._last_search_all = float("-inf")
        # The API's clock when a 400 revealed it later than ours (see _FLOOR), else None.
        self.server_now: datetime | None = None
        # When a stop for time (the deadline, or a window resetting past it) can be resumed:
        # epoch seconds on the API's clock (x-rate-limit-reset), else None (nothing to resume
        # or a stop no later run of the day cures: budget, monthly cap).
        self.resume_at: float | None = None

    # -- public ------------------------------------------------------------------------
    def archive(self, name: str, record: dict[str, Any]) -> None:
        self._put(name, json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())

    def _put(self, name: str, data: bytes) -> None:
        # Level 1: raw pages are written on every request and read back rarely (reparse).
        self.seq += 1
        self.lake.put_bytes(f"{self.prefix}/{self.seq:05d}-{name}.json.gz", gzip.compress(data, 1))

    def get(self, endpoint: str, method: Callable[..., Any], context: dict[str, Any],
            **params: Any) -> dict[str, Any]:
        """One page: the parsed body (archived first). Raises Stop, StreamFailed or Fatal."""
        return self._page(endpoint, method, context, params)

    def paginate(self, endpoint: str, method: Callable[..., Any], context: dict[str, Any],
                 **params: Any) -> Iterator[dict[str, Any]]:
        """Pages of a paginated endpoint through tweepy's Paginator, each archived before it is yielded."""

        @functools.wraps(method)  # Paginator picks next_token vs pagination_token by __name__
        def one(**kw: Any) -> dict[str, Any]:
            return self._page(endpoint, method, context, kw)

        yield from tweepy.Paginator(one, **params)

    def time_left(self) -> float:
        if self.limits.deadline is None:
            return float("inf")
        return self.limits.deadline - self.clock.monotonic()

    # -- internals ---------------------------------------------------------------------
    def _check_limits(self, endpoint: str, params: dict[str, Any]) -> None:
        if self.time_left() <= 0:
            self.resume_at = self.clock.time()
            raise Stop("deadline reached: stopped before the next request (resumes next run)")
        lim, c = self.limits, self.count
        reads_posts = endpoint not in USER_ENDPOINTS and not endpoint.startswith("counts")
        reads_users = endpoint in USER_ENDPOINTS or endpoint in SEARCH_ENDPOINTS
        if reads_posts and c.posts >= lim.max_post_reads:
            raise Stop(f"post read budget reached ({c.posts}/{lim.max_post_reads})")
        if reads_users and c.users >= lim.max_user_reads:
            raise Stop(f"user read budget reached ({c.users}/{lim.max_user_reads})")
        if lim.budget is not None:
            why = lim.budget.before(endpoint, params, c)
            if why:
                raise Stop(why)
        if reads_posts and "max_results" in params:
            # Ask for no more than the budget allows (X's floor: 5 on timelines, 10 on search).
            floor = 10 if endpoint in SEARCH_ENDPOINTS else 5
            params["max_results"] = max(floor, min(params["max_results"], lim.max_post_reads - c.posts))

    def _page(self, endpoint: str, method: Callable[..., Any], context: dict[str, Any],
              params: dict[str, Any]) -> dict[str, Any]:
        self._check_limits(endpoint, params)
        resp = self._request(endpoint, method, params)
        rate = {h: resp.headers[h] for h in RATE_HEADERS if h in resp.headers}
        record: dict[str, Any] = {
            "endpoint": endpoint, "context": context, "params": _jsonable(params),
            "status": resp.status_code, "rate": rate, "observed_at": self.observed_at,
        }
        raw = resp.content
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            record["body_text"] = raw.decode("utf-8", "replace")
            self.archive(endpoint, record)
            raise StreamFailed(f"{endpoint}: malformed JSON from X ({e.__class__.__name__}); "
                               f"raw page kept as text") from None
        # The body goes to the archive as the bytes X sent (valid JSON, checked above), spliced
        # into the record: exact, and no re-serialisation of every page.
        head = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        self._put(endpoint, head[:-1] + b',"body":' + raw + b"}")
        record["body"] = body
        self.pages.append(record)
        posts, users = billed_ids(endpoint, body)
        self.count.post_ids.update(posts)
        self.count.user_ids.update(users)
        if self.limits.budget is not None:
            self.limits.budget.after(endpoint)
        return body

    def _request(self, endpoint: str, method: Callable[..., Any],
                 params: dict[str, Any]) -> requests.Response:
        lim = self.limits
        failures = 0
        waits = 0
        while True:
            if endpoint == "search_all" and lim.search_all_interval > 0:
                pause = self._last_search_all + lim.search_all_interval - self.clock.monotonic()
                if pause > 0:
                    if pause >= self.time_left():
                        raise Stop(f"{endpoint}: no time left before the deadline")
                    self.sleep(pause)
                self._last_search_all = self.clock.monotonic()
            self.count.requests += 1
            try:
                resp: requests.Response = method(**params)
                return resp
            except tweepy.TooManyRequests as e:
                waits += 1
                self._on_rate_limit(endpoint, e.response, waits)
            except tweepy.Unauthorized as e:
                raise Fatal(f"{endpoint}: 401 Unauthorized: check the X bearer token") from e
            except TRANSIENT as e:
                failures += 1
                what = _describe(e)
                if failures >= lim.retries:
                    raise StreamFailed(f"{endpoint}: {what}, {failures} tries") from None
                pause = lim.backoff * 2 ** (failures - 1)
                if pause >= self.time_left():
                    raise Stop(f"{endpoint}: {what}; no time left to retry before the deadline") from None
                self.sleep(pause)
            except tweepy.HTTPException as e:
                self._learn_clock(e)
                raise StreamFailed(f"{endpoint}: {_describe(e)}") from None

    def _learn_clock(self, e: tweepy.HTTPException) -> None:
        for msg in getattr(e, "api_messages", None) or ():
            m = _FLOOR.search(str(msg))
            if m:
                now = datetime.fromisoformat(m.group(1)) + timedelta(days=RECENT_DAYS)
                if self.server_now is None or now > self.server_now:
                    self.server_now = now

    def _on_rate_limit(self, endpoint: str, resp: requests.Response, waits: int) -> None:
        """Sleep until the window resets if that fits before the deadline; else raise Stop."""
        body = resp.text[:2000] if resp is not None else ""
        if "UsageCapExceeded" in body or "usage-capped" in body:
            raise Stop(f"{endpoint}: 429 monthly usage cap exceeded: stopped (no retry this run)")
        reset = resp.headers.get("x-rate-limit-reset") if resp is not None else None
        if reset is None:
            raise Stop(f"{endpoint}: 429 with no reset time: stopped, resumes next run")
        wait = float(reset) - _server_now(resp, self.clock.time())
        if wait > CAP_RESET_SECONDS:
            raise Stop(f"{endpoint}: 429 resetting in {wait / 3600:.1f} h (monthly cap): stopped")
        wait = max(wait, 0.0) + 0.05
        if waits > 3 or wait > self.limits.max_wait or wait >= self.time_left() - 0.5:
            self.resume_at = float(reset)
            raise Stop(f"{endpoint}: 429 rate limited, resets in {wait:.0f} s, past the deadline: "
                       "checkpointed, resumes next run")
        n, secs = self.count.waits.get(endpoint, (0, 0.0))
        self.count.waits[endpoint] = (n + 1, secs + wait)
        self.sleep(wait)


def _server_now(resp: requests.Response, now: float | None = None) -> float:
    """The server's clock (its Date header), against which x-rate-limit-reset is set; `now`: ours
    (default the machine's)."""
    now = time.time() if now is None else now
    date = resp.headers.get("date")
    if date:
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return now
        # Date has one-second resolution: only trust it when it disagrees by more than that.
        if abs(server - now) > 2:
            return server
    return now


def _describe(e: BaseException) -> str:
    if isinstance(e, tweepy.HTTPException):
        r = e.response
        out = f"{r.status_code} {r.reason}".strip()
        msgs = getattr(e, "api_messages", None) or ()
        if 400 <= r.status_code < 500 and msgs:  # X says why (a parameter, a query): keep it
            out += f": {str(msgs[0])[:200]}"
        return out
    if isinstance(e, requests.Timeout):
        return "timeout"
    if isinstance(e, requests.ConnectionError):
        return "connection error (reset)"
    return e.__class__.__name__


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, datetime):
            v = v.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(v, list | tuple):
            v = ",".join(map(str, v))
        out[k] = v
    return out
