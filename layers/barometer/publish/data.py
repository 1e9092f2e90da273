"""What the site shows, read from the lake in a few vectorised reads; and the quality gate.

Quality gate: a run date is *publishable* when its `scores` partition exists, is not empty, and
the **mean** of `scores.coverage` over the panel's brands (null counts as 0) reaches
`panel.scoring.min_coverage`. The mean is the run's share of (brand, indicator) cells that have
data: one brand with a gap lowers it without vetoing the whole panel (the minimum would).
The history (charts, archive, downloads) only holds publishable dates. A provisional score (its
window rests on fewer collected days than `scoring.min_window_days`) is publishable, under a
banner, unless the panel says `scoring.provisional: withhold`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.config import Panel
from barometer.definitions import INDICATOR_IDS
from barometer.lake.store import Lake
from barometer.publish.history import _leaderboard_rows, indicator_changes

COVERAGE_AGGREGATE = "mean"
TOP_POSTS = 5


@dataclass(frozen=True)
class Gate:
    ok: bool
    reason: str = ""
    coverage: float | None = None
    brands: int = 0


def coverage_gate(scores_dt: pa.Table | None, min_coverage: float, panel: str = "", dt: date | None = None
                  ) -> Gate:
    """The quality gate of one run date, from its scores rows."""
    where = f"{panel} {dt.isoformat()}" if dt else panel
    if scores_dt is None or scores_dt.num_rows == 0:
        return Gate(False, f"no scores partition for {where}".strip())
    cov = pc.fill_null(scores_dt["coverage"], 0.0)
    mean = float(pc.mean(cov).as_py() or 0.0)
    n = scores_dt.num_rows
    if mean + 1e-12 < min_coverage:
        return Gate(False, f"coverage {mean:.3f} (mean over {n} brands) is below min_coverage "
                           f"{min_coverage:.3f}", mean, n)
    # Brands whose window misses more than the tolerance (score flags them `incomplete`): the
    # leaderboard may show a few, marked; it is not replaced when they exceed the share of the
    # panel that min_coverage leaves missing.
    if "incomplete" in scores_dt.column_names:
        flagged = sorted(str(b) for b, f in zip(scores_dt["brand_id"].to_pylist(),
                                                 scores_dt["incomplete"].to_pylist(), strict=True) if f)
        if len(flagged) > (1.0 - min_coverage) * n + 1e-9:
            return Gate(False, f"{len(flagged)} of {n} brands have incomplete data "
                               f"({', '.join(flagged[:5])}{'…' if len(flagged) > 5 else ''}), more than "
                               f"min_coverage {min_coverage:.3f} allows", mean, n)
    return Gate(True, "", mean, n)


def check_gate(panel: Panel, dt: date, lake: Lake) -> Gate:
    if dt not in lake.partitions("scores", panel.id):
        return coverage_gate(None, panel.scoring.min_coverage, panel.id, dt)
    scores = _leaderboard_rows(lake.read("scores", panel.id, dt, dt))  # a brand once: its `all` row
    gate = coverage_gate(scores, panel.scoring.min_coverage, panel.id, dt)
    if gate.ok and panel.scoring.provisional == "withhold" and _provisional(scores):
        days = max(int(d or 0) for d in scores["days_collected"].to_pylist())
        return Gate(False, f"provisional: the window rests on {days} collected days, fewer than "
                           f"scoring.min_window_days {panel.scoring.min_days} (scoring.provisional: withhold)",
                    gate.coverage, gate.brands)
    return gate


def _provisional(scores: pa.Table) -> bool:
    """Whether a date's scores are provisional (a lake written before the flag: never)."""
    return "provisional" in scores.column_names and bool(pc.any(pc.fill_null(scores["provisional"], False)).as_py())


@dataclass
class SiteData:
    panel: Panel
    dt: date
    dates: list[date]  # publishable dates ≤ dt, ascending (dt is the last)
    scores: pa.Table  # publishable dates, sorted by (dt, rank, brand_id)
    indicators: pa.Table  # publishable dates, sorted by (dt, brand_id, indicator order)
    topics: pa.Table  # publishable dates, sorted by (dt, brand_id, source, topic)
    posts: pa.Table  # top posts of dt per brand (window of dt), with `interactions` and `handle`
    runs: pa.Table  # runs rows of dt
    updated_at: datetime | None
    coverage: float
    brand_handles: dict[str, str] = field(default_factory=dict)
    handles: dict[str, list[str]] = field(default_factory=dict)  # every handle of a brand, panel's first
    # Dates whose permanent files (archive pages, downloads) are built; `indicators` and
    # `topics` hold these dates (and dt) only.
    unit_dates: list[date] = field(default_factory=list)
    table_dates: dict[str, set[date]] = field(default_factory=dict)  # dates with a partition, per table
    # brand id → indicators that entered or left its index on a published date (publish.history)
    history_changes: dict[str, list[Any]] = field(default_factory=dict)
    # A panel on several networks: the run date's scores of each network alone (the leaderboard
    # shows `all`; the network switch and the brand pages show these).
    network_scores: pa.Table | None = None


def _published_dates(scores: pa.Table, min_coverage: float, withhold: bool = False) -> list[date]:
    if scores.num_rows == 0:
        return []
    if withhold and "provisional" in scores.column_names:  # provisional dates are not published
        scores = scores.filter(pc.invert(pc.fill_null(scores["provisional"], False)))
    t = pa.table({"dt": scores["dt"], "c": pc.fill_null(scores["coverage"], 0.0)})
    g = t.group_by("dt").aggregate([("c", "mean")])
    ok = pc.greater_equal(pc.add(g["c_mean"], 1e-12), min_coverage)
    return sorted(pc.filter(g["dt"], ok).to_pylist())


def _only_dates(t: pa.Table, dates: list[date]) -> pa.Table:
    if t.num_rows == 0:
        return t
    return t.filter(pc.is_in(t["dt"], pa.array(dates, pa.date32())))


def load_site_data(panel: Panel, dt: date, lake: Lake, top_posts: int = TOP_POSTS,
                   units: Callable[[list[date]], Iterable[date]] | None = None) -> SiteData:
    """Everything the site shows for (panel, dt); call after `check_gate` passed.

    `units(published_dates)` chooses the dates whose archive pages and downloads are built
    (default: all); `indicators` and `topics` are read for those dates and dt only.
    """
    pid = panel.id
    # The leaderboard's rows only (`all` on a panel of several networks): a brand is shown once.
    every = lake.read("scores", pid, end=dt)
    scores = _leaderboard_rows(every)
    network_scores = _network_scores(every, dt) if len(panel.networks) > 1 else None
    withhold = panel.scoring.provisional == "withhold"
    dates = [d for d in _published_dates(scores, panel.scoring.min_coverage, withhold) if d <= dt]
    if dt not in dates:  # the caller checked the gate; be safe anyway
        dates.append(dt)
    unit_dates = sorted(set(units(dates)) & set(dates)) if units is not None else list(dates)
    detail = sorted({*unit_dates, dt})
    scores = _only_dates(scores, dates).sort_by([("dt", "ascending"), ("rank", "ascending"),
                                                 ("brand_id", "ascending")])
    table_dates = {t: set(lake.partitions(t, pid)) for t in ("scores", "indicators", "topics")}

    def read_detail(table: str) -> pa.Table:
        days = [d for d in detail if d in table_dates[table]]
        if not days:
            return lake.read(table, pid, dt, dt).slice(0, 0)
        flt = ds.field("dt").isin(pa.array(days, pa.date32()))
        return _leaderboard_rows(lake.read(table, pid, days[0], days[-1], filter=flt))

    indicators = read_detail("indicators")
    if indicators.num_rows:
        order = pc.index_in(indicators["indicator"], value_set=pa.array(INDICATOR_IDS))
        indicators = (indicators.append_column("_o", pc.fill_null(order, len(INDICATOR_IDS)))
                      .sort_by([("dt", "ascending"), ("brand_id", "ascending"), ("_o", "ascending"),
                                ("indicator", "ascending")]).drop_columns(["_o"]))
    topics = read_detail("topics")
    if topics.num_rows:
        topics = topics.sort_by([("dt", "ascending"), ("brand_id", "ascending"), ("source", "ascending"),
                                 ("topic", "ascending")])

    cur = scores.filter(pc.equal(scores["dt"], pa.scalar(dt, pa.date32())))
    gate = coverage_gate(cur, panel.scoring.min_coverage)
    updated = pc.max(cur["computed_at"]).as_py() if cur.num_rows else None
    wstart = pc.min(cur["window_start"]).as_py() if cur.num_rows else None
    wend = pc.max(cur["window_end"]).as_py() if cur.num_rows else None

    account_handles, brand_handles, handles = _handles(panel, dt, lake)
    posts = _top_posts(lake, pid, dt, wstart or dt, wend or dt, top_posts, account_handles, brand_handles)
    runs = read_runs(lake, pid, dt, dt)
    return SiteData(panel=panel, dt=dt, dates=dates, scores=scores, indicators=indicators, topics=topics,
                    posts=posts, runs=runs, updated_at=updated, coverage=gate.coverage or 0.0,
                    brand_handles=brand_handles, handles=handles, unit_dates=unit_dates, table_dates=table_dates,
                    history_changes=indicator_changes(lake, pid, scores, dates), network_scores=network_scores)


def _network_scores(every: pa.Table, dt: date) -> pa.Table | None:
    """The run date's rows of each single network, by (network, rank, brand); None without them."""
    if "network" not in every.column_names or every.num_rows == 0:
        return None
    net = pc.fill_null(every["network"], "all")
    t = every.filter(pc.and_(pc.equal(every["dt"], pa.scalar(dt, pa.date32())), pc.not_equal(net, "all")))
    if t.num_rows == 0:
        return None
    return t.sort_by([("network", "ascending"), ("rank", "ascending"), ("brand_id", "ascending")])


def _handles(panel: Panel, dt: date, lake: Lake
             ) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """account_id → handle, brand_id → first handle and brand_id → every handle (the panel's
    accounts, then any other the latest accounts partition ≤ dt holds)."""
    brand_handles = {b.id: b.accounts[0].handle for b in panel.brands}
    handles = {b.id: list(dict.fromkeys(a.handle for a in b.accounts if a.handle)) for b in panel.brands}
    by_account: dict[str, str] = {}
    days = [d for d in lake.partitions("accounts", panel.id) if d <= dt]
    if days:
        acc = lake.read("accounts", panel.id, days[-1], days[-1],
                        columns=["brand_id", "account_id", "handle"])
        for b, a, h in zip(acc["brand_id"].to_pylist(), acc["account_id"].to_pylist(),
                           acc["handle"].to_pylist(), strict=True):
            if h:
                if a:
                    by_account[a] = h
                brand_handles.setdefault(b, h)
                known = handles.setdefault(b, [])
                if h.lower() not in {k.lower() for k in known}:
                    known.append(h)
    return by_account, brand_handles, handles


POST_COLUMNS = ["post_id", "brand_id", "account_id", "created_at", "kind", "text", "likes", "reposts",
                "replies", "quotes", "deleted", "observed_at"]


def _top_posts(lake: Lake, pid: str, dt: date, wstart: date, wend: date, n: int,
               account_handles: dict[str, str], brand_handles: dict[str, str]) -> pa.Table:
    """The n most engaging brand posts created in the window, per brand (latest observation)."""
    empty = pa.table({"brand_id": pa.array([], pa.string()), "post_id": pa.array([], pa.string()),
                      "created_at": pa.array([], pa.timestamp("ms")), "text": pa.array([], pa.string()),
                      "likes": pa.array([], pa.int64()), "reposts": pa.array([], pa.int64()),
                      "replies": pa.array([], pa.int64()), "quotes": pa.array([], pa.int64()),
                      "interactions": pa.array([], pa.int64()), "handle": pa.array([], pa.string())})
    if n <= 0 or not lake.partitions("posts", pid):
        return empty
    start_ts = datetime.combine(wstart, datetime.min.time())
    end_ts = datetime.combine(wend + timedelta(days=1), datetime.min.time())
    flt = ((ds.field("created_at") >= pa.scalar(start_ts, pa.timestamp("ms")))
           & (ds.field("created_at") < pa.scalar(end_ts, pa.timestamp("ms"))))
    posts = lake.read("posts", pid, wstart, dt, columns=[*POST_COLUMNS, "dt"], filter=flt)
    if posts.num_rows == 0:
        return empty
    # Sorts run on row indices over the small columns; the wide ones (text) are taken once at the end.
    # Latest observation per post.
    idx = pc.sort_indices(posts.select(["post_id", "observed_at", "dt"]),
                          sort_keys=[("post_id", "ascending"), ("observed_at", "descending"),
                                     ("dt", "descending")])
    ids = pc.take(posts["post_id"], idx).combine_chunks()
    first = np.ones(len(ids), dtype=bool)
    if len(ids) > 1:
        first[1:] = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).to_numpy(zero_copy_only=False)
    idx = pc.filter(idx, pa.array(first))
    small = posts.select(["brand_id", "created_at", "post_id", "kind", "deleted",
                          "likes", "reposts", "replies", "quotes"]).take(idx)
    keep = pc.and_(pc.not_equal(pc.fill_null(small["kind"], ""), "repost"),
                   pc.invert(pc.fill_null(small["deleted"], False)))
    idx, small = pc.filter(idx, keep), small.filter(keep)
    if small.num_rows == 0:
        return empty
    inter = pc.fill_null(small["likes"], 0)
    for c in ("reposts", "replies", "quotes"):
        inter = pc.add(inter, pc.fill_null(small[c], 0))
    small = small.append_column("interactions", inter)
    order = pc.sort_indices(small, sort_keys=[("brand_id", "ascending"), ("interactions", "descending"),
                                              ("created_at", "descending"), ("post_id", "ascending")])
    brands = pc.take(small["brand_id"], order).combine_chunks()
    m = len(brands)
    start = np.ones(m, dtype=bool)
    if m > 1:
        start[1:] = pc.not_equal(brands.slice(1), brands.slice(0, m - 1)).to_numpy(zero_copy_only=False)
    pos = np.arange(m)
    group_start = np.maximum.accumulate(np.where(start, pos, 0))
    order = pc.filter(order, pa.array((pos - group_start) < n))
    posts = posts.take(pc.take(idx, order)).append_column("interactions", pc.take(inter, order))
    handles = [account_handles.get(a or "") or brand_handles.get(b or "", "")
               for a, b in zip(posts["account_id"].to_pylist(), posts["brand_id"].to_pylist(), strict=True)]
    posts = posts.append_column("handle", pa.array(handles, pa.string()))
    return posts.select(empty.column_names)


def read_runs(lake: Lake, panel: str, start: date | None = None, end: date | None = None) -> pa.Table:
    """Rows of the `runs` table, with `panel` and `dt`. (Should its files carry `panel` and `dt`
    columns, which clash with the Hive partition keys in `Lake.read`, the part files are read
    directly instead.)"""
    from barometer.lake.schemas import SCHEMAS

    if "dt" not in SCHEMAS["runs"].names:
        return lake.read("runs", panel, start, end)
    files = [f"runs/panel={panel}/dt={d.isoformat()}" for d in lake.partitions("runs", panel)
             if (start is None or d >= start) and (end is None or d <= end)]
    paths = [lake.path(k) for prefix in files for k in lake.list_keys(prefix) if k.endswith(".parquet")]
    if not paths:
        return SCHEMAS["runs"].empty_table()
    return ds.dataset(paths, schema=SCHEMAS["runs"], format="parquet", filesystem=lake.fs).to_table()


def last_published(lake: Lake, panel: str, before: date | None = None) -> tuple[date | None, datetime | None]:
    """The date and time of the latest successful publish run (from the `runs` table)."""
    runs = read_runs(lake, panel, end=before)
    runs = runs.filter(pc.and_(pc.equal(runs["stage"], "publish"), pc.equal(runs["status"], "ok")))
    if before is not None:
        runs = runs.filter(pc.less(runs["dt"], pa.scalar(before, pa.date32())))
    if runs.num_rows == 0:
        return None, None
    runs = runs.sort_by([("dt", "descending"), ("finished_at", "descending")])
    return runs["dt"][0].as_py(), runs["finished_at"][0].as_py()
