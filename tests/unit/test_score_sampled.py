"""Issue 13: indicators of a budgeted sample of mentions, by hand and on a generated world."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from barometer.lake.schemas import RUNS
from barometer.lake.store import Lake
from barometer.score import compute, indicators_table
from barometer.score.estimate import (
    REACH,
    reach_chao1,
    reach_chao_lin,
    reach_gee,
    reach_model_error,
    reach_sgt,
    row_weights,
)

END = date(2018, 4, 30)


def test_estimators_by_hand() -> None:
    # Authors 0, 1, 3 seen once, 2 twice; every row sampled at p = 1/4 (q = 5 / 20).
    a, w = np.array([0, 1, 2, 2, 3]), np.full(5, 4.0)
    # Chao-Lin: f0 = f1² / (2 f2 + q f1 / (1 − q)) = 9 / (2 + 1) = 3.
    assert reach_chao_lin(a, w)[0] == pytest.approx(7.0)
    # GEE: d + (sqrt(1/q) − 1) f1 = 4 + 1 × 3; Chao1: 4 + 3 × 2 / (2 × 2) = 5.5.
    assert reach_gee(a, w)[0] == pytest.approx(7.0)
    assert reach_chao1(a, w)[0] == pytest.approx(5.5)
    # Author 0 read in full (weight 1) is certain: f1 = 2, q = 4 / 16, f0 = 4 / (2 + 2/3) = 1.5.
    assert reach_chao_lin(a, np.array([1.0, 4, 4, 4, 4]))[0] == pytest.approx(5.5)
    # Nothing sampled: the exact distinct count, no error.
    assert reach_chao_lin(a, np.ones(5)) == (4.0, 0.0)
    assert REACH is reach_sgt


def test_smoothed_good_toulmin_by_hand() -> None:
    # Authors seen 1, 2 and 3 times (Φ1 = Φ2 = Φ3 = 1), 6 rows.
    a = np.array([0, 1, 1, 2, 2, 2])
    # q = 1/2: t = 1, plain Good-Toulmin: U = Φ1 − Φ2 + Φ3 = 1; SE sqrt(3).
    est, se = reach_sgt(a, np.full(6, 2.0))
    assert est == pytest.approx(4.0) and se == pytest.approx(math.sqrt(3))
    # q = 1/4: t = 3, k = ⌈½ log₃(6 × 9 / 2)⌉ = ⌈1.5⌉ = 2, L ~ Bin(2, 1/4): P(L ≥ 1) = 7/16,
    # P(L ≥ 2) = 1/16, P(L ≥ 3) = 0. U = 3 × 7/16 − 9 × 1/16 = 12/16; SE sqrt(21² + 9²) / 16.
    est, se = reach_sgt(a, np.full(6, 4.0))
    assert est == pytest.approx(3.75) and se == pytest.approx(math.sqrt(522) / 16)
    # An author read in full is certain: only author 2's rows sampled (Φ3 = 1), q = 3/12.
    est, _ = reach_sgt(a, np.array([1.0, 1, 1, 4, 4, 4]))
    assert est == pytest.approx(3.0)  # U = −(−3)^3 × P(L ≥ 3) = 0 (k = ⌈½ log₃(3 × 9/2)⌉ = 2)
    assert reach_sgt(a, np.ones(6)) == (3.0, 0.0)


def test_row_weights_none_when_all_read() -> None:
    assert row_weights(pa.table({"sample_weight": [1.0, None]})) is None
    assert row_weights(pa.table({"x": [1]})) is None
    np.testing.assert_array_equal(row_weights(pa.table({"sample_weight": [1.0, None, 4.0]})), [1, 1, 4])


def _thinned(demo_lake: Path, root: Path, every: int) -> Lake:
    """A copy of the demo lake whose last day's mentions are a 1-in-`every` sample of slices."""
    shutil.copytree(demo_lake, root)
    thin = Lake(str(root))
    # The last day's mentions of every brand read in one half-hour slice out of `every` only.
    t = thin.read("mentions", "pharma-fr", END, END)
    ms = pc.cast(pc.cast(t["created_at"], pa.timestamp("ms")), pa.int64()).to_numpy(zero_copy_only=False)
    day = (ms // 86_400_000) == (np.datetime64(END, "D").astype(np.int64))
    keep = ~day | ((ms // 1_800_000) % every == 0)
    t = t.filter(pa.array(keep))
    w = np.where(day[keep], float(every), 1.0)
    t = t.set_column(t.schema.get_field_index("sample_weight"), "sample_weight", pa.array(w))
    thin.write_partition("mentions", "pharma-fr", END, t.drop_columns(["panel", "dt"]))
    return thin


@pytest.fixture(scope="module")
def worlds(demo_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Lake, Lake]:
    """The demo's lake, and a copy whose last day's mentions are a 1-in-4 sample of slices."""
    from barometer.config import resolve_panel

    thin = _thinned(demo_lake, tmp_path_factory.mktemp("sampled") / "thin", 4)
    return resolve_panel("pharma-fr"), Lake(str(demo_lake)), thin


def _value(t: pa.Table, brand: str, ind: str, col: str = "value") -> object:
    rows = t.filter(pc.and_(pc.equal(t["brand_id"], brand), pc.equal(t["indicator"], ind)))
    return rows[col][0].as_py()


def test_a_sample_is_estimated_and_mentions_stay_exact(worlds: tuple[object, Lake, Lake]) -> None:
    panel, full, thin = worlds
    exact = indicators_table(compute(panel, END, full))  # type: ignore[arg-type]
    est = indicators_table(compute(panel, END, thin))  # type: ignore[arg-type]
    assert not any(exact["estimated"].to_pylist()) and exact["std_error"].null_count == exact.num_rows
    b = exact["brand_id"][0].as_py()
    # mentions: exact (the day's X count replaces the sample's rows).
    assert _value(est, b, "mentions") == _value(exact, b, "mentions")
    for ind in ("mention_reach", "centrality"):
        assert _value(est, b, ind, "estimated") is True
        assert _value(est, b, ind, "std_error") is not None
    for ind in ("mentions", "community", "content_volume"):
        assert _value(est, b, ind, "estimated") is False
    # The estimate is closer to the truth than the sample's distinct authors.
    seen_reach = _value(exact, b, "mention_reach")
    assert abs(_value(est, b, "mention_reach") - seen_reach) / seen_reach < 0.15  # type: ignore[operator]


def test_a_sampled_day_with_no_row_keeps_its_count(worlds: tuple[object, Lake, Lake],
                                                   tmp_path: Path) -> None:
    """A brand's sample can draw only empty slices: the day has no row, the run still lists the
    brand as sampled, and `mentions` keeps X's count of the day (not the rows' zero)."""
    panel, full, thin = worlds
    exact = indicators_table(compute(panel, END, full))  # type: ignore[arg-type]
    b = exact["brand_id"][0].as_py()
    shutil.copytree(thin.uri.removeprefix("file://"), tmp_path / "none")
    none = Lake(str(tmp_path / "none"))
    t = none.read("mentions", panel.id, END, END)  # type: ignore[attr-defined]
    ms = pc.cast(pc.cast(t["created_at"], pa.timestamp("ms")), pa.int64()).to_numpy(zero_copy_only=False)
    on_end = (ms // 86_400_000) == np.datetime64(END, "D").astype(np.int64)
    keep = ~(on_end & (t["brand_id"].to_numpy(zero_copy_only=False) == b))
    none.write_partition("mentions", panel.id, END, t.filter(pa.array(keep)).drop_columns(["panel", "dt"]))  # type: ignore[attr-defined]
    n_end = int(np.count_nonzero(on_end & ~keep))
    assert n_end > 0
    without_run = indicators_table(compute(panel, END, none))  # type: ignore[arg-type]
    # Without the run's word the day looks read in full and empty: its mentions are missing.
    assert _value(without_run, b, "mentions") < _value(exact, b, "mentions")  # type: ignore[operator]
    # A later run of END (the demo's finished minutes ago, by the wall clock) that sampled b.
    row = {f: None for f in RUNS.names} | {
        "run_id": "r-end", "stage": "collect", "status": "ok", "errors": [],
        "finished_at": datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1), "sampled_brands": [b]}
    none.write_partition("runs", panel.id, END, pa.Table.from_pylist([row], schema=RUNS),  # type: ignore[attr-defined]
                         part="r-end")
    est = indicators_table(compute(panel, END, none))  # type: ignore[arg-type]
    assert _value(est, b, "mentions") == _value(exact, b, "mentions")


def test_reach_model_error_by_q() -> None:
    # estimate.REACH_RMSE: the SGT column of the measured table, from each bin's lower bound.
    assert reach_model_error(0.19) is None  # below REACH_MIN_Q: not published
    assert [reach_model_error(q) for q in (0.2, 0.35, 0.45, 0.6, 0.9, 1.0)] == [0.09, 0.07, 0.03, 0.01, 0.005, 0.0]


def test_reach_error_is_in_the_published_standard_error(worlds: tuple[object, Lake, Lake]) -> None:
    """At q = 1/4 the estimator's measured RMSE (9 %) is part of the standard error."""
    panel, _, thin = worlds
    est = indicators_table(compute(panel, END, thin))  # type: ignore[arg-type]
    sampled = [b for b in set(est["brand_id"].to_pylist()) if _value(est, b, "mention_reach", "estimated")]
    assert len(sampled) >= 5
    for b in sampled:
        value, se = _value(est, b, "mention_reach"), _value(est, b, "mention_reach", "std_error")
        assert se is not None and se >= 0.09 * value  # type: ignore[operator]


def test_too_thin_a_sample_withholds_the_reach(demo_lake: Path, tmp_path: Path) -> None:
    """At q = 1/8 (below 0.2) the reach is missing, not guessed; the run says why."""
    from barometer.config import resolve_panel
    from barometer.score import run_score

    panel = resolve_panel("pharma-fr")
    thin = _thinned(demo_lake, tmp_path / "thin8", 8)
    run = compute(panel, END, thin)
    withheld = run.details["withheld"]
    # the brands with sampled rows (a quiet brand's kept slices may hold none of its mentions)
    assert isinstance(withheld, list) and len(withheld) >= 5
    gone = sorted(w.split(":")[0] for w in withheld)
    assert all(run.values[b]["mention_reach"] is None for b in gone)
    assert ("sanofi: mention_reach not published: its mentions were read at q = 0.12, below 0.2 where reach "
            "estimates err by a third or more") in withheld
    s = run_score(panel, END, thin)
    assert s.status == "ok" and [e for e in s.errors if "mention_reach not published" in e] == withheld
    t = thin.read("indicators", panel.id, END, END)
    reach = t.filter(pc.equal(t["indicator"], "mention_reach"))
    assert sorted(b for b, m in zip(reach["brand_id"].to_pylist(), reach["missing"].to_pylist(),
                                    strict=True) if m) == gone


def _looked_back(thin: Lake, full: Lake, w0: date) -> None:
    """Fill the sampled rows' look-back columns as the collector would (collect/lookback.py),
    from the full lake: the author's latest earlier mention of the brand back to `w0`."""
    times: dict[tuple[str, str], list[datetime]] = {}
    for x in full.read("mentions", "pharma-fr", w0, END, columns=["brand_id", "author_id", "created_at"]).to_pylist():
        if x["created_at"].date() >= w0:
            times.setdefault((x["brand_id"], x["author_id"]), []).append(x["created_at"])
    t = thin.read("mentions", "pharma-fr", END, END)
    prev, start = [], []
    for r in t.to_pylist():
        if r["sample_weight"] > 1:
            before = [at for at in times.get((r["brand_id"], r["author_id"]), ()) if at < r["created_at"]]
            prev.append(max(before).date() if before else None)
            start.append(w0)
        else:
            prev.append(None)
            start.append(None)
    t = t.set_column(t.schema.get_field_index("author_prev_day"), "author_prev_day", pa.array(prev, pa.date32()))
    t = t.set_column(t.schema.get_field_index("author_lookback_from"), "author_lookback_from",
                     pa.array(start, pa.date32()))
    thin.write_partition("mentions", "pharma-fr", END, t.drop_columns(["panel", "dt"]))


def test_looked_back_reach_is_the_first_mentions_estimate(demo_lake: Path, tmp_path: Path) -> None:
    """At q = 1/8 with look-backs the reach is published: the authors of the window's days read in
    full, plus 8 for each sampled row that is its author's first mention in the window."""
    from barometer.config import resolve_panel

    panel = resolve_panel("pharma-fr")
    w0 = END - timedelta(days=panel.scoring.window_days - 1)
    thin = _thinned(demo_lake, tmp_path / "thin8", 8)
    _looked_back(thin, Lake(str(demo_lake)), w0)
    run = compute(panel, END, thin)
    assert not run.details.get("withheld")
    est = indicators_table(run)
    full = Lake(str(demo_lake)).read("mentions", panel.id, w0, END,
                                     columns=["brand_id", "author_id", "created_at", "post_id"]).to_pylist()
    kept = {r["post_id"] for r in thin.read("mentions", panel.id, END, END).to_pylist() if r["sample_weight"] > 1}
    checked = 0
    for b in sorted({r["brand_id"] for r in full}):
        rows = sorted((r for r in full if r["brand_id"] == b), key=lambda r: (r["created_at"], int(r["post_id"])))
        before = {r["author_id"] for r in rows if r["created_at"].date() < END}
        seen: set[str] = set()
        firsts = 0
        for r in rows:
            if r["created_at"].date() != END:
                continue
            if r["post_id"] in kept and r["author_id"] not in before and r["author_id"] not in seen:
                firsts += 1
            seen.add(r["author_id"])
        if not any(r["post_id"] in kept for r in rows):
            continue
        assert _value(est, b, "mention_reach") == len(before) + 8 * firsts, b
        se = _value(est, b, "mention_reach", "std_error")
        assert se is not None and se >= math.sqrt(firsts * 8 * 7) - 1e-9  # at least the by-row SE
        checked += 1
    assert checked >= 5


def test_one_brand_not_looked_back_sends_every_brand_to_the_sample_only_estimate(demo_lake: Path,
                                                                                  tmp_path: Path) -> None:
    """A mix would set unbiased reaches against low ones: one brand's look-backs missing, every
    brand's reach is the sample-only estimate (withheld at q = 1/8), and the run says why."""
    from barometer.config import resolve_panel

    panel = resolve_panel("pharma-fr")
    w0 = END - timedelta(days=panel.scoring.window_days - 1)
    thin = _thinned(demo_lake, tmp_path / "thin8", 8)
    _looked_back(thin, Lake(str(demo_lake)), w0)
    t = thin.read("mentions", panel.id, END, END)
    one = pc.equal(t["brand_id"], "sanofi")
    i = t.schema.get_field_index("author_lookback_from")
    t = t.set_column(i, "author_lookback_from",
                     pc.if_else(one, pa.scalar(None, pa.date32()), t["author_lookback_from"]))
    thin.write_partition("mentions", panel.id, END, t.drop_columns(["panel", "dt"]))
    run = compute(panel, END, thin)
    n = len(run.details["withheld"])  # type: ignore[arg-type]
    assert n >= 5  # every sampled brand: withheld at q = 1/8
    assert run.details["reach_estimate"] == ("sample only for every sampled brand: look-backs incomplete for "
                                             f"1 of {n} (sanofi)")
    looked = compute(panel, END, _looked_back_copy(demo_lake, tmp_path / "all8", w0))
    assert looked.details["reach_estimate"] == "look-back (unbiased) for every sampled brand"


def _looked_back_copy(demo_lake: Path, root: Path, w0: date) -> Lake:
    thin = _thinned(demo_lake, root, 8)
    _looked_back(thin, Lake(str(demo_lake)), w0)
    return thin
