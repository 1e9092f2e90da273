"""The score stage on a small handmade lake: every indicator checked against a hand computation.

Window: D = 2018-04-30, window_days = 10 → W = 2018-04-21 .. 2018-04-30; yoy reference end
2017-04-30. Brands: alpha (two accounts), beta, gamma (accounts only, no post, no mention),
delta (no accounts snapshot at all: only mentioned).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barometer.config import parse_panel
from barometer.errors import BarometerError
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.score import compute, run_score
from barometer.score.indicators import Window, compute_indicators
from barometer.score.pagerank import DAMPING

D = date(2018, 4, 30)

PANEL = parse_panel({
    "id": "test-panel",
    "name": "Test",
    "topics": "pharma",  # the rows below are tagged with (and their texts tagged by) the pharma taxonomy
    "scoring": {"window_days": 10, "growth_reference": "yoy", "sensitivity_draws": 1000},
    "brands": [
        {"id": "alpha", "name": "Alpha", "accounts": [{"handle": "Alpha"}, {"handle": "alpha_fr"}],
         "mention_query": "alpha"},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
        {"id": "gamma", "name": "Gamma", "accounts": [{"handle": "gamma_h"}], "mention_query": "gamma"},
        {"id": "delta", "name": "Delta", "accounts": [{"handle": "delta_h"}], "mention_query": "delta"},
    ],
})


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _write(lake: Lake, table: str, dt: date, rows: list[dict]) -> None:
    schema = SCHEMAS[table]
    full = [{name: r.get(name) for name in schema.names} for r in rows]
    lake.write_partition(table, PANEL.id, dt, pa.Table.from_pylist(full, schema=schema))


def _acc(brand: str, aid: str, handle: str, followers: int, at: str) -> dict:
    return {"brand_id": brand, "network": "x", "account_id": aid, "handle": handle, "status": "ok",
            "followers": followers, "collected_at": ts(at)}


def _post(pid: str, brand: str, aid: str, created: str, kind: str, likes: int, observed: str,
          reposts: int = 0, replies: int = 0, quotes: int = 0, mentioned: list[str] | None = None,
          deleted: bool | None = None, text: str = "", topics: list[str] | None = None) -> dict:
    return {"post_id": pid, "brand_id": brand, "network": "x", "account_id": aid, "created_at": ts(created),
            "kind": kind, "text": text, "likes": likes, "reposts": reposts, "replies": replies,
            "quotes": quotes, "mentioned_handles": mentioned or [], "topics": topics, "deleted": deleted,
            "observed_at": ts(observed)}


def _men(pid: str, brand: str, author_id: str, handle: str, created: str, observed: str,
         mentioned: list[str], text: str = "", topics: list[str] | None = None) -> dict:
    return {"post_id": pid, "brand_id": brand, "network": "x", "author_id": author_id,
            "author_handle": handle, "author_followers": 10, "created_at": ts(created), "kind": "original",
            "text": text, "likes": 0, "reposts": 0, "replies": 0, "quotes": 0,
            "mentioned_handles": mentioned, "topics": topics, "observed_at": ts(observed)}


def build_lake(root: Path) -> Lake:
    lake = Lake(str(root))
    _write(lake, "accounts", date(2017, 4, 28), [
        _acc("alpha", "a1", "Alpha", 100, "2017-04-29T05:00"),
        _acc("alpha", "a2", "alpha_fr", 50, "2017-04-29T05:00"),
        _acc("beta", "b1", "beta", 200, "2017-04-29T05:00"),
    ])
    _write(lake, "accounts", date(2018, 4, 10), [_acc("alpha", "a1", "Alpha", 999, "2018-04-11T05:00")])
    _write(lake, "accounts", date(2018, 4, 25), [
        _acc("alpha", "a1", "Alpha", 150, "2018-04-26T05:00"),
        _acc("alpha", "a2", "alpha_fr", 60, "2018-04-26T05:00"),
        _acc("beta", "b1", "beta", 300, "2018-04-26T05:00"),
        _acc("gamma", "g1", "gamma_h", 40, "2018-04-26T05:00"),
    ])
    _write(lake, "accounts", D, [
        _acc("alpha", "a1", "Alpha", 170, "2018-05-01T01:00"),  # superseded the same day
        _acc("alpha", "a1", "Alpha", 180, "2018-05-01T05:00"),
        _acc("alpha", "a2", "alpha_fr", 70, "2018-05-01T05:00"),
        _acc("beta", "b1", "beta", 330, "2018-05-01T05:00"),
        _acc("gamma", "g1", "gamma_h", 44, "2018-05-01T05:00"),
    ])
    _write(lake, "posts", date(2018, 4, 25), [
        _post("p1", "alpha", "a1", "2018-04-22T10:00", "original", 5, "2018-04-26T05:00", reposts=1,
              mentioned=["beta"], text="Le diabète et les cancers", topics=None),
        _post("p5", "alpha", "a1", "2018-04-20T10:00", "original", 7, "2018-04-26T05:00"),  # before W
    ])
    _write(lake, "posts", D, [
        _post("p1", "alpha", "a1", "2018-04-22T10:00", "original", 10, "2018-05-01T05:00", reposts=2,
              replies=1, quotes=1, mentioned=["beta"], text="Le diabète et les cancers", topics=None),
        _post("p2", "alpha", "a2", "2018-04-29T10:00", "reply", 3, "2018-05-01T05:00", mentioned=["someone"],
              topics=["cancer"]),
        _post("p3", "alpha", "a1", "2018-04-28T10:00", "repost", 100, "2018-05-01T05:00", mentioned=["beta"],
              topics=["vih"]),
        _post("p4", "alpha", "a1", "2018-04-26T10:00", "original", 50, "2018-05-01T05:00", deleted=True),
        _post("p6", "alpha", "a1", "2018-04-30T23:59", "original", 1, "2018-05-01T05:00", deleted=False,
              topics=[]),
        _post("p7", "alpha", "a1", "2018-04-27T10:00", "original", 2, "2018-05-01T05:00", deleted=True),
        _post("q1", "beta", "b1", "2018-04-23T10:00", "quote", 4, "2018-05-01T05:00", replies=2,
              mentioned=["alpha"], topics=["asthme", "cancer"]),
    ])
    # After the run date: must not be read (p7 comes back, p1 gets more likes).
    _write(lake, "posts", date(2018, 5, 1), [
        _post("p7", "alpha", "a1", "2018-04-27T10:00", "original", 99, "2018-05-02T05:00", deleted=False),
        _post("p1", "alpha", "a1", "2018-04-22T10:00", "original", 1000, "2018-05-02T05:00"),
    ])
    _write(lake, "mentions", date(2018, 4, 25), [
        _men("x1", "alpha", "u1", "fan1", "2018-04-24T08:00", "2018-04-26T05:00", ["alpha"]),
    ])
    _write(lake, "mentions", D, [
        _men("x1", "alpha", "u1", "Fan1", "2018-04-24T08:00", "2018-05-01T05:00", ["alpha"],
             topics=["penurie"]),
        _men("x2", "alpha", "u1", "fan1", "2018-04-25T08:00", "2018-05-01T05:00", ["alpha", "beta"],
             text="Pénurie de vaccins", topics=None),
        _men("x2", "beta", "u1", "fan1", "2018-04-25T08:00", "2018-05-01T05:00", ["alpha", "beta"],
             text="Pénurie de vaccins", topics=None),
        _men("x3", "beta", "u2", "fan2", "2018-04-21T00:00", "2018-05-01T05:00", ["beta"], topics=[]),
        _men("x4", "alpha", "a1", "Alpha", "2018-04-26T08:00", "2018-05-01T05:00", ["alpha", "beta"]),
        _men("x4", "beta", "a1", "Alpha", "2018-04-26T08:00", "2018-05-01T05:00", ["alpha", "beta"],
             topics=["ventes"]),
        _men("x5", "beta", "u2", "fan2", "2018-04-20T23:59", "2018-05-01T05:00", ["beta"]),
        _men("x6", "delta", "u3", "fan3", "2018-04-27T08:00", "2018-05-01T05:00", ["delta_h"], topics=[]),
    ])
    return lake


def dense_pagerank(edges: list[tuple[str, str]], nodes: list[str]) -> dict[str, float]:
    """Textbook PageRank with a dense matrix: the independent reference for the numpy one."""
    idx = {h: i for i, h in enumerate(nodes)}
    n = len(nodes)
    m = np.zeros((n, n))
    for s, t in edges:
        m[idx[s], idx[t]] += 1
    out = m.sum(axis=1)
    pr = np.full(n, 1 / n)
    for _ in range(2000):
        new = np.zeros(n)
        for i in range(n):
            if out[i] == 0:
                new += DAMPING * pr[i] / n
            else:
                new += DAMPING * pr[i] * m[i] / out[i]
        new += (1 - DAMPING) / n
        pr = new
    return dict(zip(nodes, pr, strict=True))


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return build_lake(tmp_path / "lake")


def test_window() -> None:
    w = Window.for_run(D, PANEL.scoring)
    assert (w.start, w.end, w.reference_end) == (date(2018, 4, 21), D, date(2017, 4, 30))
    prev = Window.for_run(D, PANEL.scoring.model_copy(update={"growth_reference": "previous"}))
    assert prev.reference_end == date(2018, 4, 20)
    assert Window.for_run(date(2020, 2, 29), PANEL.scoring).reference_end == date(2019, 2, 28)


def test_every_indicator_by_hand(lake: Lake) -> None:
    v = compute_indicators(PANEL, D, lake)
    # community: latest snapshot per account in W (a1 180 from its later collection, a2 70).
    assert v["alpha"]["community"] == 250
    assert v["beta"]["community"] == 330
    assert v["gamma"]["community"] == 44
    assert v["delta"]["community"] is None
    # growth: reference 2017-04-28 snapshot (within 7 days of 2017-04-30).
    assert v["alpha"]["community_growth"] == pytest.approx(250 / 150 - 1)
    assert v["beta"]["community_growth"] == pytest.approx(330 / 200 - 1)
    assert v["gamma"]["community_growth"] is None  # no reference snapshot
    # content: p1, p2, p6 (p3 repost, p4/p7 deleted in their latest observation ≤ D, p5 before W).
    assert v["alpha"]["content_volume"] == 3
    assert v["beta"]["content_volume"] == 1
    assert v["gamma"]["content_volume"] == 0  # observed, no post: data, not missing
    assert v["delta"]["content_volume"] is None
    # interactions on the latest observation: p1 10+2+1+1, p2 3, p6 1.
    assert v["alpha"]["interactions"] == 18
    assert v["beta"]["interactions"] == 6
    assert v["gamma"]["interactions"] == 0
    # engagement: mean followers over the snapshot dates in W (04-25 and 04-30).
    assert v["alpha"]["engagement_rate"] == pytest.approx(18 / (3 * ((210 + 250) / 2)) * 100)
    assert v["beta"]["engagement_rate"] == pytest.approx(6 / (1 * 315) * 100)
    assert v["gamma"]["engagement_rate"] is None  # no post: undefined, not 0
    assert v["delta"]["engagement_rate"] is None
    # mentions: distinct posts in W by others (x4 is alpha's own for alpha; x5 before W).
    assert v["alpha"]["mentions"] == 2 and v["alpha"]["mention_reach"] == 1
    assert v["beta"]["mentions"] == 3 and v["beta"]["mention_reach"] == 3
    assert v["gamma"]["mentions"] == 0 and v["gamma"]["mention_reach"] == 0
    assert v["delta"]["mentions"] == 1 and v["delta"]["mention_reach"] == 1
    # centrality: the window's graph, one edge set per distinct post.
    edges = [("fan1", "alpha"), ("fan1", "alpha"), ("fan1", "beta"), ("fan2", "beta"),
             ("alpha", "beta"),  # x4 (its self-mention dropped)
             ("fan3", "delta_h"),
             ("alpha", "beta"), ("alpha_fr", "someone"), ("alpha", "beta"), ("beta", "alpha")]
    nodes = ["alpha", "alpha_fr", "beta", "gamma_h", "delta_h", "fan1", "fan2", "fan3", "someone"]
    pr = dense_pagerank(edges, nodes)
    assert v["alpha"]["centrality"] == pytest.approx(pr["alpha"] + pr["alpha_fr"], abs=1e-10)
    assert v["beta"]["centrality"] == pytest.approx(pr["beta"], abs=1e-10)
    assert v["gamma"]["centrality"] == pytest.approx(pr["gamma_h"], abs=1e-10)
    assert v["delta"]["centrality"] == pytest.approx(pr["delta_h"], abs=1e-10)


def test_run_score_writes_partitions(lake: Lake) -> None:
    summary = run_score(PANEL, D, lake)
    assert summary.status == "partial"  # delta: coverage 3/8 < 0.75
    assert summary.brands_failed == 1 and "delta" in summary.errors[0]
    ind = lake.read("indicators", PANEL.id, D, D)
    assert ind.num_rows == 4 * 8
    scores = lake.read("scores", PANEL.id, D, D).to_pylist()
    assert [s["rank"] for s in scores] == [1, 2, 3, 4]
    for s in scores:
        assert s["rank_low"] <= s["rank"] <= s["rank_high"]
        assert s["computed_at"] == datetime(2018, 5, 1)
        assert s["rank_prev"] is None
    delta = next(s for s in scores if s["brand_id"] == "delta")
    assert delta["coverage"] == pytest.approx(3 / 8)
    rows = ind.to_pylist()
    for b in ("alpha", "beta", "gamma", "delta"):
        mine = [r for r in rows if r["brand_id"] == b]
        lead = next(s["leadership"] for s in scores if s["brand_id"] == b)
        assert sum(r["contribution"] for r in mine) == pytest.approx(lead, abs=1e-9)
        for r in mine:
            assert r["missing"] == (r["value"] is None)
            if r["missing"]:
                assert r["score"] is None and r["contribution"] == 0
    # A later run sees this one as previous.
    run_score(PANEL, date(2018, 5, 1), lake)
    later = lake.read("scores", PANEL.id, date(2018, 5, 1), date(2018, 5, 1)).to_pylist()
    prev = {s["brand_id"]: s["rank"] for s in scores}
    assert all(s["rank_prev"] == prev[s["brand_id"]] for s in later)


def test_topics_table(lake: Lake) -> None:
    run_score(PANEL, D, lake)
    t = lake.read("topics", PANEL.id, D, D).to_pylist()
    got = {(r["brand_id"], r["source"], r["topic"]): (r["items"], r["share"], r["family"]) for r in t}
    # alpha posts in W (reposts excluded): p1 (null topics → tagged from text: cancer, diabete),
    # p2 [cancer], p6 [].
    assert got[("alpha", "posts", "cancer")] == (2, pytest.approx(2 / 3), "pathologies")
    assert got[("alpha", "posts", "diabete")] == (1, pytest.approx(1 / 3), "pathologies")
    assert ("alpha", "posts", "vih") not in got  # only on the repost
    assert got[("beta", "posts", "asthme")] == (1, 1.0, "pathologies")
    # alpha mentions x1 (latest: penurie), x2 (tagged: penurie, vaccination).
    assert got[("alpha", "mentions", "penurie")] == (2, 1.0, "scandales")
    assert got[("alpha", "mentions", "vaccination")] == (1, 0.5, "pathologies")
    # beta mentions x2, x3, x4.
    assert got[("beta", "mentions", "ventes")] == (1, pytest.approx(1 / 3), "industrie")
    assert not any(k[0] in ("gamma", "delta") for k in got)


def test_deterministic_bytes(tmp_path: Path) -> None:
    files = []
    for i in range(2):
        lake = build_lake(tmp_path / f"lake{i}")
        run_score(PANEL, D, lake)
        run_score(PANEL, D, lake)  # a rerun replaces, and stays identical
        files.append({t: (Path(lake.partition_path(t, PANEL.id, D)) / "data.parquet").read_bytes()
                      for t in ("indicators", "scores", "topics")})
    assert files[0] == files[1]
    assert pq.read_table(tmp_path / "lake0" / "scores" / "panel=test-panel" / "dt=2018-04-30"
                         / "data.parquet").num_rows == 4


def test_empty_lake(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "empty"))
    with pytest.raises(BarometerError, match="no data for panel test-panel"):
        run_score(PANEL, D, lake)
    # Read the part file itself: the `runs` schema repeats the partition keys (panel, dt),
    # which Lake.read cannot bind a filter on.
    runs = pq.read_table(Path(lake.partition_path("runs", PANEL.id, D)) / "score.parquet")
    assert runs["status"].to_pylist() == ["failed"]


def test_compute_is_pure(lake: Lake) -> None:
    a, b = compute(PANEL, D, lake), compute(PANEL, D, lake)
    assert np.array_equal(a.result.scores, b.result.scores, equal_nan=True)
    assert np.array_equal(a.bands.ranks, b.bands.ranks)


def test_explain(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from barometer.score.explain import explain, register

    run_score(PANEL, D, lake)
    text = explain(PANEL, None, lake, "alpha")
    assert "Community size" in text and "Rank: " in text and "sensitivity band" in text
    assert "Engagement rate" in text
    fr = explain(PANEL, D, lake, "delta", lang="fr")
    assert "manquant" in fr and "Couverture: 38 %" in fr
    with pytest.raises(BarometerError, match="no scores"):
        explain(PANEL, date(2018, 1, 1), lake, "alpha")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    panel_file = Path(lake.root).parent / "panel.yaml"
    import yaml
    panel_file.write_text(yaml.safe_dump(PANEL.model_dump(mode="json")))
    args = parser.parse_args(["explain", "--panel", str(panel_file), "--brand", "beta", "--lake", lake.root])
    assert args.func(args) == 0
    assert "Beta" in capsys.readouterr().out
