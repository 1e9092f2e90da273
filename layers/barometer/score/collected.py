"""How many days of its window a score rests on: a new panel's window is not yet full.

The collected span of a window is the days from the first day the lake holds collected data
for (a daily mention count, or a followers snapshot taken by a run in the window), to the
window's end. A panel started today with one daily run rests on a few days of a 182-day window;
one started with `barometer start` (a backfill of the window first) rests on all of it. Gaps
inside the span are not counted here: what a run could not read is missing data (see
`score.completeness`), not a window that is not yet full.

A score resting on fewer days than `scoring.min_window_days` (default: the whole window) is
`provisional` in the scores table; publish shows it under a banner, or withholds it
(`scoring.provisional: withhold`).
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.lake.store import Lake


def first_collected_day(lake: Lake, panel_id: str, start: date, end: date) -> date | None:
    """The first day of [start, end] the lake holds collected data for (None: no day)."""
    firsts: list[date] = []
    snapshots = [d for d in lake.partitions("accounts", panel_id) if start <= d <= end]
    if snapshots:
        firsts.append(snapshots[0])
    runs = [d for d in lake.partitions("mention_counts", panel_id) if start <= d <= end]
    if runs:
        lo, hi = pa.scalar(start, pa.date32()), pa.scalar(end, pa.date32())
        t = lake.read("mention_counts", panel_id, runs[0], runs[-1], columns=["day"],
                      filter=(ds.field("day") >= lo) & (ds.field("day") <= hi))
        if t.num_rows:
            firsts.append(pc.min(t["day"]).as_py())
    return min(firsts) if firsts else None


def collected_days(lake: Lake, panel_id: str, start: date, end: date) -> int:
    """Days from the first collected day of the window to its end (0: nothing collected)."""
    first = first_collected_day(lake, panel_id, start, end)
    return (end - first).days + 1 if first is not None else 0
