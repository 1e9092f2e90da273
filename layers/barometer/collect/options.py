"""How one collect run behaves (`CollectOptions`), and the X constants the run loop shares."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from barometer.runs import utcnow

TWEET_FIELDS = ["created_at", "public_metrics", "lang", "entities", "referenced_tweets",
                "conversation_id", "author_id"]
USER_FIELDS = ["public_metrics", "created_at", "name", "username"]
# Recent search and counts only reach 7 days back; keep a margin so a slow run never asks for
# a start_time X has meanwhile rejected as too old.
RECENT_DAYS = 7
RECENT_MARGIN = timedelta(minutes=5)
X_EPOCH_MS = 1288834974657
# A followers snapshot belongs to the run date D when it is read before the end of the day
# after D (the scheduled run is at D+1 05:00 UTC; retries and on-demand runs of yesterday
# fit). A later run of D never writes D's snapshot: what it reads is another day's.
SNAPSHOT_GRACE = timedelta(days=1)


class CollectOptions(BaseModel):
    """How one collect run behaves. Budgets and refresh age default to the panel's `collection`."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["daily", "backfill"] = "daily"
    since: date | None = None  # backfill: first day of the range
    # When API work must be over: a wall-clock datetime (UTC) or a time.monotonic() value.
    deadline: datetime | float | None = None
    max_post_reads: int | None = Field(default=None, ge=0)
    max_user_reads: int | None = Field(default=None, ge=0)
    refresh_days: int | None = Field(default=None, ge=0, le=30)
    full_archive: bool = False  # the /all endpoints may be used (X Pro access)
    now: datetime = Field(default_factory=utcnow)  # the run's UTC clock (the simulator's in the demo)
    brands: list[str] | None = None
    page_size: int = Field(default=100, ge=10, le=100)  # max_results per page (X's maximum: 100)
    max_wait: float = Field(default=900.0, ge=0)  # longest rate-limit sleep
    retries: int = Field(default=3, ge=1)
    backoff: float = Field(default=0.5, ge=0)  # first retry pause, doubled each try
    reserve: float = Field(default=1.0, ge=0)  # seconds kept before the deadline to write the lake
    # Seconds between full-archive search requests (X: 1/s); 0 for a simulator without that limit.
    # 1.05: requests leave 1 s apart but can reach X closer together; a 5 % margin keeps
    # them from arriving inside X's one-second window (each such 429 is a wasted request).
    search_all_interval: float = Field(default=1.05, ge=0)
    # Continue the run date's own checkpoint (an invocation after the first of the state
    # machine's loop): streams already read to the end of D are skipped, the rest resumed, and
    # rows are merged into D's partitions, never replaced. False: replay D from the state before it.
    resume: bool = False
    # After this (UTC), a stopped run reports no work left: the day's collection gives up so that
    # score and publish run before the next day's schedule. None: D+2 04:00 UTC.
    give_up_at: datetime | None = None
    # What the run reads time from and sleeps on (collect.fetch.Clock: time/monotonic/sleep):
    # None is the real clock; a simulated one (sim.api.limits.SimClock, shared with the
    # simulator) runs a day of rate-limit waits in seconds. `deadline` is then on its scale.
    clock: Any = Field(default=None, exclude=True, repr=False)

    @field_validator("now")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v

    @model_validator(mode="after")
    def _since(self) -> CollectOptions:
        if self.mode == "backfill" and self.since is None:
            raise ValueError("backfill needs `since` (the first day of the range)")
        return self

    def monotonic_deadline(self) -> float | None:
        if self.deadline is None:
            return None
        if isinstance(self.deadline, datetime):
            d = self.deadline
            d = d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo else d
            if self.clock is not None:
                now = datetime.fromtimestamp(self.clock.time(), UTC).replace(tzinfo=None)
                return float(self.clock.monotonic()) + (d - now).total_seconds() - self.reserve
            return time.monotonic() + (d - utcnow()).total_seconds() - self.reserve
        return float(self.deadline) - self.reserve


def snowflake_time(post_id: str) -> datetime:
    """When a post was created, from its id (X ids are snowflakes: ms since X's epoch << 22)."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=(int(post_id) >> 22) + X_EPOCH_MS)


def midnight(d: date) -> datetime:
    return datetime.combine(d, dtime())
