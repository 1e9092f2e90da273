"""How completely the lake holds each brand's data over a scoring window, from the
`completeness` table the collector writes (see `barometer.collect.reads`).

Per brand, source (`profiles`, `posts`, `mentions`) and day d of the window W:

- d counts only from the first day the lake holds for the panel (the first collected day, or
  the first day its first completeness rows cover): days before the barometer began are not
  expected, neither complete nor missing;
- d is complete when a `complete` row exists for it in a completeness partition (dt ≤ W.end)
  whose run's data partition of that source is still in the lake; a day with rows but none
  complete, or whose partition has been deleted, is not;
- a day without any row reads as complete when a data partition written without completeness
  rows (before the table existed) covers it: for posts and mentions, one dated on or after d;
  for profiles, the snapshot of d itself. A lake without any completeness row reads as complete
  throughout: scores are those it always had.

A source misses the window when more than `tolerance` of the expected days are not complete
(profiles: when the latest complete snapshot is older than that many days before W.end). Its
indicators are then missing (not zero): excluded from the bounds, lowering the brand's coverage
and with it the quality gate's mean coverage; the brand is flagged in `scores.incomplete`.
Fewer missing days leave the value as read, with a warning in the run's errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.config import Panel
from barometer.lake.store import Lake

# Share of the window's expected days a source may miss before its indicators are missing.
# A constant for now (a panel setting `scoring.max_incomplete_share` is honoured if present).
MAX_INCOMPLETE_SHARE = 0.05
SOURCE_TABLE = {"profiles": "accounts", "posts": "posts", "mentions": "mentions"}
DEPENDS = {
    "profiles": ("community", "community_growth", "engagement_rate"),
    "posts": ("content_volume", "interactions", "engagement_rate", "centrality"),
    "mentions": ("mentions", "mention_reach", "centrality"),
}
_EPOCH = date(1970, 1, 1)


@dataclass
class Gaps:
    """What each brand misses of the window (brands in `brand_ids` order)."""

    brand_ids: list[str]
    start: date  # first expected day
    end: date
    tolerance: float
    # posts, mentions: expected days not complete; profiles: days since the latest complete snapshot
    missing: dict[str, np.ndarray] = field(default_factory=dict)
    flagged: dict[str, np.ndarray] = field(default_factory=dict)
    days_incomplete: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def expected(self) -> int:
        return max((self.end - self.start).days + 1, 0)

    @property
    def limit(self) -> float:
        return self.tolerance * self.expected

    @property
    def incomplete(self) -> np.ndarray:
        out = np.zeros(len(self.brand_ids), dtype=bool)
        for f in self.flagged.values():
            out |= f
        return out

    def missing_indicators(self, i: int) -> set[str]:
        return {ind for s, f in self.flagged.items() if f[i] for ind in DEPENDS[s]}

    def apply(self, values: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float | None]]:
        """The values with the indicators of the sources a brand misses set to missing."""
        out = {b: dict(v) for b, v in values.items()}
        for i, b in enumerate(self.brand_ids):
            for ind in self.missing_indicators(i):
                if b in out:
                    out[b][ind] = None
        return out

    def warnings(self) -> list[str]:
        """One line per source with brands missing days, and one per brand beyond the tolerance."""
        lines = []
        what = {"posts": "days of posts", "mentions": "days of mentions",
                "profiles": "days since a complete followers snapshot"}
        for s in ("profiles", "posts", "mentions"):
            m = self.missing.get(s)
            if m is None or not m.any():
                continue
            bad = [(self.brand_ids[i], int(m[i])) for i in np.flatnonzero(m)]
            shown = ", ".join(f"{b} {k}" for b, k in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            lines.append(f"{s}: {len(bad)} brand(s) with {what[s]} not read completely in "
                         f"{self.start}..{self.end} ({shown}; tolerated: {self.limit:.1f} of {self.expected} days)")
        for i in np.flatnonzero(self.incomplete):
            srcs = [s for s, f in self.flagged.items() if f[i]]
            lines.append(f"{self.brand_ids[i]}: {', '.join(srcs)} beyond the tolerance: "
                         f"{', '.join(sorted(self.missing_indicators(int(i))))} missing (not zero)")
        return lines


def _ordinal(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _first_day(lake: Lake, panel: str, comp: list[date], parts: dict[str, list[date]]) -> date:
    first = lake.read("completeness", panel, comp[0], comp[0], columns=["day"])
    cands = [p[0] for p in parts.values() if p]
    if first.num_rows:
        cands.append(pc.min(first["day"]).as_py())
    return min(cands) if cands else comp[0]


def assess(panel: Panel, lake: Lake, start: date, end: date, brand_ids: list[str],
           tolerance: float | None = None) -> Gaps:
    """The window [start, end]'s gaps per brand (see the module doc)."""
    tol = tolerance if tolerance is not None else float(
        getattr(panel.scoring, "max_incomplete_share", MAX_INCOMPLETE_SHARE))
    n = len(brand_ids)
    comp = lake.partitions("completeness", panel.id)
    gaps = Gaps(brand_ids, start, end, tol, days_incomplete=np.zeros(n, np.int64))
    if not comp or comp[0] > end:
        return gaps  # written before the table existed: complete, as it always read
    parts = {s: lake.partitions(t, panel.id) for s, t in SOURCE_TABLE.items()}
    gaps.start = first = max(start, _first_day(lake, panel.id, comp, parts))
    k = gaps.expected
    if k == 0:
        return gaps
    rows = lake.read("completeness", panel.id, first, end, columns=["brand_id", "source", "day", "status", "dt"],
                     filter=(ds.field("day") >= pa.scalar(first, pa.date32()))
                     & (ds.field("day") <= pa.scalar(end, pa.date32())))
    bidx = np.asarray(pc.fill_null(pc.index_in(rows["brand_id"], value_set=pa.array(brand_ids, pa.string())), -1)
                      .to_numpy(zero_copy_only=False), dtype=np.int64) if rows.num_rows else np.zeros(0, np.int64)
    off = _ordinal(rows["day"]) - _days(first) if rows.num_rows else bidx
    comp_set = set(comp)
    complete = {}
    for s in SOURCE_TABLE:
        sel = (bidx >= 0) & np.asarray(pc.fill_null(pc.equal(rows["source"], s), False), dtype=bool) \
            if rows.num_rows else np.zeros(0, bool)
        valid = np.asarray(pc.is_in(rows["dt"], value_set=pa.array(parts[s], pa.date32())), dtype=bool) \
            if rows.num_rows else sel
        good = sel & valid & np.asarray(pc.fill_null(pc.equal(rows["status"], "complete"), False), dtype=bool) \
            if rows.num_rows else sel
        recorded = np.zeros((n, k), dtype=bool)
        done = np.zeros((n, k), dtype=bool)
        recorded[bidx[sel], off[sel]] = True
        done[bidx[good], off[good]] = True
        legacy_days = [p for p in parts[s] if p not in comp_set and p <= end]
        legacy = np.zeros(k, dtype=bool)
        if s == "profiles":  # a snapshot is the day's own
            for p in legacy_days:
                if p >= first:
                    legacy[_days(p) - _days(first)] = True
        elif legacy_days:
            last = max(legacy_days)
            legacy[: max(min((last - first).days + 1, k), 0)] = True
        complete[s] = done | (~recorded & legacy[None, :])
    for s in ("posts", "mentions"):
        gaps.missing[s] = k - complete[s].sum(axis=1)
        gaps.flagged[s] = gaps.missing[s] > gaps.limit
    gaps.days_incomplete = (~(complete["posts"] & complete["mentions"])).sum(axis=1).astype(np.int64)
    prof = complete["profiles"]
    has = prof.any(axis=1)
    latest = np.where(has, k - 1 - np.argmax(prof[:, ::-1], axis=1), -1)
    gaps.missing["profiles"] = np.where(has, k - 1 - latest, k)
    gaps.flagged["profiles"] = gaps.missing["profiles"] > gaps.limit
    return gaps
