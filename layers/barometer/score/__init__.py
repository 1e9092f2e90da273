"""Scoring: the eight indicators, normalisation, aggregation, sensitivity and topics.

`run_score(panel, dt, lake)` is the stage: it reads the window's rows from the lake, computes
the indicators, scores, rank bands and topic shares, writes the `indicators`, `scores` and
`topics` partitions of (panel, dt) and records the run.

Determinism: two runs on the same lake write byte-identical `indicators` and `scores` files.
Rows are sorted, floats come from the same vectorised code in the same order, the Monte Carlo
is seeded, and `computed_at` is not the wall clock but the end of the run date (D+1 00:00
UTC, the moment the data is complete) unless the caller passes one. The wall-clock start and
end of the run are in the `runs` table instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa

from barometer.config import ALL_NETWORKS, Panel, Scoring
from barometer.definitions import ATTRIBUTE_IDS, INDICATOR_IDS, INDICATORS
from barometer.errors import BarometerError
from barometer.lake.schemas import INDICATORS as INDICATORS_SCHEMA
from barometer.lake.schemas import SCORES as SCORES_SCHEMA
from barometer.lake.schemas import TOPICS as TOPICS_SCHEMA
from barometer.lake.store import CachedLake, Lake
from barometer.lake.validate import BadFile, check_tables, require_valid, without
from barometer.runs import StageSummary, recorded
from barometer.score.collected import collected_days
from barometer.score.completeness import Gaps, assess
from barometer.score.estimate import estimate_columns
from barometer.score.indicators import Values, Window, WindowData, compute_values, load_window
from barometer.score.networks import NetworkLake, index_networks, labelled, rows_of
from barometer.score.sampled import estimate as estimate_sample
from barometer.score.scoring import ScoreResult, score_matrix, score_values, transform, value_matrix
from barometer.score.sensitivity import Sensitivity

# Aliased: the name `sensitivity` must stay the submodule (barometer.score.sensitivity).
from barometer.score.sensitivity import sensitivity as rank_bands
from barometer.score.topics_share import topic_rows
from barometer.topics import Taxonomy, panel_tagger, taxonomy_for

# The collected tables score reads (checked against the lake contract before scoring).
SOURCE_TABLES = ("accounts", "posts", "mentions", "mention_counts")

__all__ = [
    "ScoreResult",
    "ScoreRun",
    "Sensitivity",
    "Values",
    "Window",
    "compute",
    "compute_all",
    "indicators_table",
    "previous_ranks",
    "rank_bands",
    "run_score",
    "score_values",
    "scores_table",
]


@dataclass
class ScoreRun:
    """Everything one scoring of (panel, dt) computed, before it is written."""

    panel: Panel
    dt: date
    window: Window
    values: Values
    result: ScoreResult
    bands: Sensitivity
    topics: pa.Table
    gaps: Gaps
    details: dict[str, object] = field(default_factory=dict)
    # The rows' `network`: the panel's one network, a network of a multi-network panel, or all.
    network: str = "x"
    # Days of the window the lake holds data for (see score.collected): fewer than
    # `scoring.min_window_days` make the leaderboard provisional.
    days_collected: int = 0
    # Issue 13 (score.sampled): n × k standard errors (NaN: exact) and B × n × k redraws of the
    # raw values, when some mentions of the window were a budgeted sample; None otherwise.
    std_errors: np.ndarray | None = None
    replicates: np.ndarray | None = None

    @property
    def provisional(self) -> bool:
        return self.days_collected < self.panel.scoring.min_days


def compute(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None) -> ScoreRun:
    """Indicators, scores, rank bands and topic shares of (panel, dt); writes nothing."""
    scoring = scoring or panel.scoring
    data: WindowData = load_window(panel, dt, lake, scoring)
    w = data.window
    if not (data.accounts.num_rows or data.posts.num_rows or data.mentions.num_rows):
        raise BarometerError(
            f"score: no data for panel {panel.id} between {w.start} and {w.end} in the lake "
            f"{lake.uri} (run collect for {dt} first)")
    values, details = compute_values(data)
    est = estimate_sample(data, values, lake, scoring.seed)  # issue 13: a budgeted sample
    # What the collector could not read completely is missing data, never zero.
    gaps = assess(panel, lake, w.start, w.end, data.brand_ids)
    values = gaps.apply(values)
    brand_ids, mat = value_matrix(values)
    result = score_matrix(brand_ids, mat, scoring)
    # Issue 13: with a budgeted sample, each draw also redraws the sample (score.sampled).
    reps = None if est is None else np.stack(
        [transform(np.where(np.isnan(result.values), np.nan, x)) for x in est.replicates])
    bands = rank_bands(result, scoring, replicates=reps)
    topics = topic_rows(data, lake, TaggedOnce(panel))
    run = ScoreRun(panel, dt, w, values, result, bands, topics, gaps, details, panel.networks[0])
    run.days_collected = collected_days(lake, panel.id, w.start, w.end)
    if est is not None:
        run.std_errors = np.where(np.isnan(result.values), np.nan, est.std_errors)
        run.replicates = est.replicates
        run.details["reach_estimate"] = est.reach_method
        if est.notes:
            run.details["withheld"] = est.notes
    return run


def compute_all(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None) -> list[ScoreRun]:
    """The runs of every index network of the panel (see barometer.score.networks): the panel's
    one network, or the combined index (`all`) first, then each network that has data."""
    nets = index_networks(panel)
    if len(nets) == 1:
        return [compute(panel, dt, lake, scoring)]
    runs = [compute(panel, dt, lake, scoring)]
    runs[0].network = ALL_NETWORKS
    errors: list[str] = []
    for net in nets[1:]:
        try:
            run = compute(panel.on_network(net), dt, NetworkLake(lake, net), scoring)
        except BarometerError as e:  # no data on that network: its index is missing
            errors.append(f"{net}: {e}")
            continue
        run.network = net
        runs.append(run)
    if errors:
        runs[0].details["network_errors"] = errors
    return runs


def indicators_table(run: ScoreRun) -> pa.Table:
    """The `indicators` rows: brand × indicator, brands by id, indicators in definition order."""
    r, w = run.result, run.window
    n, k = len(r.brand_ids), len(INDICATOR_IDS)

    def col(m: np.ndarray) -> pa.Array:
        flat = m.reshape(-1)
        return pa.array(flat, pa.float64(), mask=np.isnan(flat))

    missing = np.isnan(r.values)
    return pa.table({
        "brand_id": pa.array(np.repeat(np.array(r.brand_ids, dtype=object), k), pa.string()),
        "network": pa.array([run.network] * (n * k), pa.string()),
        "indicator": pa.array(list(INDICATOR_IDS) * n, pa.string()),
        "attribute": pa.array([i.attribute for i in INDICATORS] * n, pa.string()),
        "value": col(r.values),
        "transformed": col(r.transformed),
        "score": col(r.scores),
        "weight": col(r.weights),
        "contribution": col(r.contributions),
        "missing": pa.array(missing.reshape(-1), pa.bool_()),
        "window_start": pa.array([w.start] * (n * k), pa.date32()),
        "window_end": pa.array([w.end] * (n * k), pa.date32()),
        # Issue 13: values estimated from a budgeted sample, with their standard error.
        **estimate_columns(run.std_errors, n, k),
    }, schema=INDICATORS_SCHEMA)


def scores_table(run: ScoreRun, rank_prev: dict[str, int] | None = None,
                 computed_at: datetime | None = None) -> pa.Table:
    """The `scores` rows, in rank order."""
    r, w = run.result, run.window
    at = computed_at or datetime.combine(run.dt + timedelta(days=1), time())
    order = r.order()
    prev = rank_prev or {}

    def fcol(v: np.ndarray) -> pa.Array:
        return pa.array(v[order], pa.float64(), mask=np.isnan(v[order]))

    names = {b.id: b.name for b in run.panel.brands}
    ids = [r.brand_ids[i] for i in order]
    g = run.gaps
    at_gap = {b: i for i, b in enumerate(g.brand_ids)}
    flagged = g.incomplete
    return pa.table({
        "brand_id": pa.array(ids, pa.string()),
        "network": pa.array([run.network] * len(ids), pa.string()),
        "brand_name": pa.array([names.get(b, b) for b in ids], pa.string()),
        "leadership": fcol(r.leadership),
        **{a: fcol(r.attributes[:, j]) for j, a in enumerate(ATTRIBUTE_IDS)},
        "rank": pa.array(r.rank[order], pa.int64()),
        "rank_low": pa.array(run.bands.rank_low[order], pa.int64()),
        "rank_high": pa.array(run.bands.rank_high[order], pa.int64()),
        "rank_prev": pa.array([prev.get(b) for b in ids], pa.int64()),
        "coverage": pa.array(r.coverage[order], pa.float64()),
        "window_start": pa.array([w.start] * len(ids), pa.date32()),
        "window_end": pa.array([w.end] * len(ids), pa.date32()),
        "computed_at": pa.array([at] * len(ids), pa.timestamp("ms")),
        "days_incomplete": pa.array([int(g.days_incomplete[at_gap[b]]) for b in ids], pa.int64()),
        "incomplete": pa.array([bool(flagged[at_gap[b]]) for b in ids], pa.bool_()),
        "days_collected": pa.array([run.days_collected] * len(ids), pa.int64()),
        "provisional": pa.array([run.provisional] * len(ids), pa.bool_()),
    }, schema=SCORES_SCHEMA)


def previous_ranks(panel: Panel, dt: date, lake: Lake, network: str | None = None) -> dict[str, int]:
    """Ranks of the latest scores partition before `dt` (empty when there is none), on one
    index network (default: the leaderboard's)."""
    before = [d for d in lake.partitions("scores", panel.id) if d < dt]
    if not before:
        return {}
    t = lake.read("scores", panel.id, before[-1], before[-1], columns=["brand_id", "network", "rank"])
    t = rows_of(t, network or index_networks(panel)[0])
    return {b: int(k) for b, k in zip(t["brand_id"].to_pylist(), t["rank"].to_pylist(), strict=True)
            if b is not None and k is not None}


class TaggedOnce(Taxonomy):
    """The panel's taxonomy, tagging each distinct text once per process (`panel_tagger`): the
    same texts come back in each network's scoring and in each score of a series."""

    def __init__(self, panel: Panel) -> None:  # a copy of the compiled taxonomy, not a new one
        self.__dict__.update(vars(taxonomy_for(panel)))
        self._tag = panel_tagger(panel)

    def tag_many(self, texts: Iterable[str | None]) -> list[list[str]]:
        return [self._tag(t) for t in texts]


def _bad_files(panel: Panel, since: date, dt: date, lake: Lake, skip_bad_files: bool) -> list[BadFile]:
    """`require_valid` on the collected tables of [since, dt]. Through a `CachedLake` (a series of
    scores over tables nobody writes meanwhile), every file of the panel is checked once: when
    all pass, so do those of each date."""
    if isinstance(lake, CachedLake):
        key = ("contract", panel.id, SOURCE_TABLES)
        if key not in lake.memo:
            lake.memo[key] = not check_tables(lake, SOURCE_TABLES, panel.id)
        if lake.memo[key]:
            return []
    return require_valid(lake, SOURCE_TABLES, panel.id, since, dt, skip_bad_files=skip_bad_files)


def run_score(panel: Panel, dt: date, lake: Lake, computed_at: datetime | None = None,
              run_id: str | None = None, skip_bad_files: bool = False) -> StageSummary:
    """The score stage for (panel, dt): write indicators, scores and topics; record the run.

    The collected tables it reads are checked against the lake contract first: a file that is
    not Parquet, is corrupt or has the wrong schema stops the stage with its path (nothing is
    scored over it), unless `skip_bad_files`: then its rows count as missing data."""
    with recorded(lake, StageSummary.start("score", panel.id, dt, run_id=run_id)) as summary:
        # the window, its growth reference a year earlier, and the days before it
        since = dt - timedelta(days=panel.scoring.window_days + 366 + 7)
        bad = _bad_files(panel, since, dt, lake, skip_bad_files)
        reads = without(lake, bad) if bad else lake
        summary.errors.extend(f"skipped, its rows count as missing: {b}" for b in bad)
        runs = compute_all(panel, dt, reads)
        run = runs[0]  # the leaderboard's: the panel's one network, or all
        lake.write_partition("indicators", panel.id, dt, pa.concat_tables([indicators_table(r) for r in runs]))
        prev = {r.network: previous_ranks(panel, dt, lake, r.network) for r in runs}
        lake.write_partition("scores", panel.id, dt, pa.concat_tables(
            [scores_table(r, prev[r.network], computed_at) for r in runs]))
        lake.write_partition("topics", panel.id, dt, pa.concat_tables(
            [labelled(r.topics, r.network) for r in runs]).select(TOPICS_SCHEMA.names).cast(TOPICS_SCHEMA))

        r = run.result
        low = [b for b, c in zip(r.brand_ids, r.coverage, strict=True) if c < panel.scoring.min_coverage]
        summary.brands_ok = len(r.brand_ids) - len(low)
        summary.brands_failed = len(low)
        summary.errors.extend(
            f"{b}: coverage {r.coverage[r.index(b)]:.2f} below {panel.scoring.min_coverage:.2f} "
            f"(missing: {', '.join(i for i, v in run.values[b].items() if v is None)})" for b in low)
        gap_lines = run.gaps.warnings()
        summary.errors.extend(gap_lines)
        summary.errors.extend(str(w) for w in run.details.get("withheld", []))  # type: ignore[attr-defined]
        leader = r.brand_ids[int(r.order()[0])] if r.brand_ids else None
        summary.details.update({
            "window_start": run.window.start.isoformat(), "window_end": run.window.end.isoformat(),
            "leader": leader, "topics_rows": run.topics.num_rows, **run.details,
            "incomplete_brands": int(run.gaps.incomplete.sum()),
            "days_collected": run.days_collected, "provisional": run.provisional,
            **({"networks": [r.network for r in runs]} if len(runs) > 1 else {}),
        })
        summary.finish("partial" if low or gap_lines or bad else "ok")
    return summary
