"""What a collect run read, per brand × source × day: the rows of the `completeness` table.

Per brand and source a run is responsible for a range of days: from where the stream's last
complete read ended (the cursor state's `until`, or where a stream that never got a page
starts) to the run date; a backfill, from `since`. Each step records a span of those days with
what it achieved: `complete` (read to the end), `partial` (some pages, then a fault, the budget
or the deadline; or days only partly within the API's reach) or `none` (nothing read). Spans
of one brand and source may overlap (a brand's several accounts, the refresh of its posts):
a day is complete when every span over it is, none when every span is, partial otherwise.

Sources: `profiles` (the followers snapshot of the run date), `posts` (the brand's timelines
and the refresh of its recent posts), `mentions` (search) and `counts` (daily mention counts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from barometer.lake.schemas import COMPLETENESS

COMPLETE, PARTIAL, NONE = "complete", "partial", "none"
RANK = {NONE: 0, PARTIAL: 1, COMPLETE: 2}
SOURCES = ("profiles", "posts", "mentions", "counts")
# The lake table each source's rows go to.
SOURCE_TABLE = {"profiles": "accounts", "posts": "posts", "mentions": "mentions", "counts": "mention_counts"}
NETWORK = "x"


@dataclass(frozen=True)
class Span:
    brand: str
    source: str
    first: date
    last: date
    status: str
    reason: str | None = None


def _combine(a: tuple[str, str | None], b: tuple[str, str | None]) -> tuple[str, str | None]:
    status = a[0] if a[0] == b[0] else PARTIAL
    return status, (a[1] or b[1]) if status != COMPLETE else None


class Reads:
    """The spans one run recorded (see module doc)."""

    def __init__(self, spans: list[Span] | None = None) -> None:
        self.spans: list[Span] = list(spans or ())

    def add(self, brand: str, source: str, first: date, last: date, status: str,
            reason: str | None = None) -> None:
        if first <= last:
            self.spans.append(Span(brand, source, first, last, status, None if status == COMPLETE else reason))

    def covered(self, brand: str, source: str) -> bool:
        return any(s.brand == brand and s.source == source for s in self.spans)

    def days(self) -> dict[tuple[str, str], dict[date, tuple[str, str | None]]]:
        """Per (brand, source), each day's (status, reason)."""
        out: dict[tuple[str, str], dict[date, tuple[str, str | None]]] = {}
        for s in self.spans:
            per = out.setdefault((s.brand, s.source), {})
            d = s.first
            while d <= s.last:
                prev = per.get(d)
                per[d] = (s.status, s.reason) if prev is None else _combine(prev, (s.status, s.reason))
                d += timedelta(days=1)
        return out

    def complete(self) -> dict[str, set[str]]:
        """Per source, the brands whose every day is complete (their rows may replace the lake's)."""
        out: dict[str, set[str]] = {s: set() for s in SOURCES}
        for (brand, source), per in self.days().items():
            if per and all(st == COMPLETE for st, _ in per.values()):
                out[source].add(brand)
        return out

    def incomplete(self) -> dict[str, dict[str, str]]:
        """Per source, the brands with a day not read completely → the first reason met."""
        out: dict[str, dict[str, str]] = {s: {} for s in SOURCES}
        for (brand, source), per in sorted(self.days().items()):
            bad = [(d, r) for d, (st, r) in sorted(per.items()) if st != COMPLETE]
            if bad:
                out[source][brand] = next((r for _, r in bad if r), "not read")
        return out

    def table(self, run_id: str, recorded_at: datetime) -> pa.Table:
        """The run's rows of the `completeness` table."""
        rows: dict[str, list[Any]] = {n: [] for n in COMPLETENESS.names}
        for (brand, source), per in sorted(self.days().items()):
            for d, (st, reason) in sorted(per.items()):
                for name, v in (("brand_id", brand), ("network", NETWORK), ("source", source), ("day", d),
                                ("status", st), ("run_id", run_id), ("reason", reason),
                                ("recorded_at", recorded_at)):
                    rows[name].append(v)
        return pa.Table.from_pydict(rows, schema=COMPLETENESS)

    def to_json(self) -> list[dict[str, Any]]:
        return [{**asdict(s), "first": s.first.isoformat(), "last": s.last.isoformat()} for s in self.spans]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> Reads:
        return cls([Span(d["brand"], d["source"], date.fromisoformat(d["first"]), date.fromisoformat(d["last"]),
                         d["status"], d.get("reason")) for d in data])
