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

from barometer.config import ALL_NETWORKS, Panel
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
    # The downloads' rows per table (`scores`, `indicators`, `topics`; same dates as the tables
    # above): on a panel of several networks the combined rows (`all`) and each network's, by
    # date then network (`all` first, then the panel's order), with their `network` column;
    # otherwise the tables above themselves. Missing: the tables above.
    downloads: dict[str, pa.Table] = field(default_factory=dict)

    def download_table(self, table: str) -> pa.Table:
        """The rows of `table` its downloads carry (see `downloads`)."""
        t = self.downloads.get(table)
        return t if t is not None else getattr(self, table)


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
    """The rows of `dates` (`t` itself when it holds no other date: no copy)."""
    if t.num_rows == 0:
        return t
    keep = pc.is_in(t["dt"], pa.array(dates, pa.date32()))
    return t if pc.all(keep).as_py() else t.filter(keep)


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
    nets = _network_order(panel)
    scores = _sorted("scores", _only_dates(scores, dates))
    downloads = {"scores": _with_networks("scores", scores, _only_dates(every, dates), nets)}
    table_dates = {t: set(lake.partitions(t, pid)) for t in ("scores", "indicators", "topics")}

    def read_detail(table: str) -> pa.Table:
        days = [d for d in detail if d in table_dates[table]]
        if not days:
            return lake.read(table, pid, dt, dt).slice(0, 0)
        flt = ds.field("dt").isin(pa.array(days, pa.date32()))
        t = lake.read(table, pid, days[0], days[-1], filter=flt)
        shown = _sorted(table, _leaderboard_rows(t))
        downloads[table] = _with_networks(table, shown, t, nets)
        return shown

    indicators = read_detail("indicators")
    topics = read_detail("topics")

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
                    history_changes=indicator_changes(lake, pid, scores, dates), network_scores=network_scores,
                    downloads=downloads)


# Sort keys of the site's tables after the date (and, in the downloads, the network).
SORT_KEYS = {"scores": ["rank", "brand_id"], "indicators": ["brand_id", "_o", "indicator"],
             "topics": ["brand_id", "source", "topic"]}


def _sorted(table: str, t: pa.Table, networks: list[str] | None = None) -> pa.Table:
    """`t` in the site's order: by date, then (given `networks`, the order of the `network`
    values) by network, then by the table's keys (indicators in the definitions' order)."""
    if t.num_rows == 0:
        return t
    extra = []
    if table == "indicators":
        order = pc.index_in(t["indicator"], value_set=pa.array(INDICATOR_IDS))
        t = t.append_column("_o", pc.fill_null(order, len(INDICATOR_IDS)))
        extra.append("_o")
    keys = ["dt"]
    if networks is not None and "network" in t.column_names:
        rank = pc.index_in(t["network"], value_set=pa.array(networks, pa.string()))
        t = t.append_column("_n", pc.fill_null(rank, len(networks)))
        extra.append("_n")
        keys += ["_n", "network"]
    keys += SORT_KEYS[table]
    order = pc.sort_indices(t, sort_keys=[(k, "ascending") for k in keys])
    if np.array_equal(order.to_numpy(), np.arange(t.num_rows)):  # already in order: no copy
        return t.drop_columns(extra)
    return t.take(order).drop_columns(extra)


def _network_order(panel: Panel) -> list[str]:
    """The order of the downloads' networks: the combined rows, then the panel's networks."""
    return [ALL_NETWORKS, *(n for n in panel.networks if n != ALL_NETWORKS)]


def _with_networks(table: str, shown: pa.Table, every: pa.Table, networks: list[str]) -> pa.Table:
    """The downloads' rows: `shown` (the leaderboard's network) when it is every row, else
    every network's rows, sorted by date then network."""
    if every.num_rows == shown.num_rows:
        return shown
    return _sorted(table, every, networks)


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


POST_COLUMNS = ["post_id", "brand_id", "network", "account_id", "created_at", "kind", "text", "likes", "reposts",
                "replies", "quotes", "deleted", "observed_at"]


def _top_posts(lake: Lake, pid: str, dt: date, wstart: date, wend: date, n: int,
               account_handles: dict[str, str], brand_handles: dict[str, str]) -> pa.Table:
    """The n most engaging brand posts created in the window, per brand (latest observation)."""
    empty = pa.table({"brand_id": pa.array([], pa.string()), "post_id": pa.array([], pa.string()),
                      "created_at": pa.array([], pa.timestamp("ms")), "text": pa.array([], pa.string()),
                      "likes": pa.array([], pa.int64()), "reposts": pa.array([], pa.int64()),
                      "replies": pa.array([], pa.int64()), "quotes": pa.array([], pa.int64()),
                      "interactions": pa.array([], pa.int64()), "handle": pa.array([], pa.string()),
                      "network": pa.array([], pa.string())})
    if n <= 0 or not lake.partitions("posts", pid):
        return empty
    start_ts = datetime.combine(wstart, datetime.min.time())
    end_ts = datetime.combine(wend + timedelta(days=1), datetime.min.time())
    flt = ((ds.field("created_at") >= pa.scalar(start_ts, pa.timestamp("ms")))
           & (ds.field("created_at") < pa.scalar(end_ts, pa.timestamp("ms"))))
    posts = lake.read("posts", pid, wstart, dt, columns=[*POST_COLUMNS, "dt"], filter=flt)
    if posts.num_rows == 0:
        return empty
    # Row indices are narrowed down on whole columns (masks, sums, codes); the rows' texts are
    # taken once at the end, for the few rows kept.
    idx = _latest_observations(posts)
    keep = pc.and_(pc.not_equal(pc.fill_null(posts["kind"], ""), "repost"),
                   pc.invert(pc.fill_null(posts["deleted"], False)))
    idx = pc.filter(idx, pc.take(keep, idx))
    if len(idx) == 0:
        return empty
    inter = pc.fill_null(posts["likes"], 0)
    for c in ("reposts", "replies", "quotes"):
        inter = pc.add(inter, pc.fill_null(posts[c], 0))
    inter = pc.take(inter, idx)
    # Only a brand's posts with at least its n-th most interactions can rank in its top n.
    cand = _top_candidates(pc.take(_codes(posts["brand_id"]), idx), inter, n)
    idx, inter = pc.filter(idx, cand), pc.filter(inter, cand)
    small = posts.select(["brand_id", "created_at", "post_id"]).take(idx).append_column("interactions", inter)
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


def _latest_observations(posts: pa.Table) -> pa.Array:
    """Row indices of each post's latest observation (latest `observed_at`, then `dt`; the first
    row of a tie); posts without an id are left out. Posts are told apart by a dictionary code
    (a sort on integers, not on the ids' text)."""
    codes = _codes(posts["post_id"])
    keys = pa.table({"code": codes, "observed_at": posts["observed_at"], "dt": posts["dt"]})
    idx = pc.sort_indices(keys, sort_keys=[("code", "ascending"), ("observed_at", "descending"),
                                           ("dt", "descending")])
    code = pc.take(codes, idx)
    valid = code.is_valid().to_numpy(zero_copy_only=False)
    c = np.asarray(pc.fill_null(code, -1).to_numpy(zero_copy_only=False))
    first = valid.copy()
    if len(c) > 1:
        first[1:] &= c[1:] != c[:-1]
    return pc.filter(idx, pa.array(first))


def _codes(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A dictionary code per value (one dictionary for every chunk; null stays null)."""
    enc = pc.dictionary_encode(values)
    return (enc.combine_chunks() if isinstance(enc, pa.ChunkedArray) else enc).indices


def _top_candidates(codes: pa.Array, inter: pa.ChunkedArray | pa.Array, n: int) -> pa.Array:
    """Rows that may be among their brand's n most engaging posts (`codes`: the brands'
    dictionary codes): interactions at least the brand's n-th highest (ties kept), and every
    row without a brand (left to the exact sort)."""
    b = np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)).astype(np.int64)
    v = np.asarray(pc.cast(inter, pa.int64()).to_numpy(zero_copy_only=False))
    if len(b) == 0:
        return pa.array([], pa.bool_())
    order = np.lexsort((-v, b))  # by brand, most interactions first
    sb = b[order]
    first = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    last = np.r_[first[1:], len(sb)] - 1
    threshold = np.zeros(int(b.max()) + 2, np.int64)  # the last slot: rows without a brand
    threshold[sb[first]] = v[order[np.minimum(first + n - 1, last)]]
    return pa.array((b < 0) | (v >= threshold[b]))


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
