"""The saved queries follow the `network` dimension (issue 14): on a lake with a panel on X and
Bluesky (index rows per network and combined, `all`) beside an X-only panel, each query over a
table with a `network` column outputs it, and its values are per network: leaderboards, histories
and changes within a network, top posts per network, daily mentions per network and summed,
collection gaps per network. A file written before the column existed reads as `x`."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.query import connect, lake_tables, parameters, query

REPO = Path(__file__).resolve().parents[2]
DUO, SOLO = "duo", "solo"
D0, D1 = date(2018, 4, 29), date(2018, 4, 30)
END = {"end_date": D1.isoformat()}
# brand → networks it has an account on (c: X only)
BRANDS = {"a": ("x", "bluesky"), "b": ("x", "bluesky"), "c": ("x",)}
# leadership per (network, brand) on D0 and D1
LEAD = {("all", "a"): (70.0, 80.0), ("all", "b"): (60.0, 50.0), ("all", "c"): (20.0, 30.0),
        ("x", "a"): (50.0, 55.0), ("x", "b"): (65.0, 60.0), ("x", "c"): (40.0, 45.0),
        ("bluesky", "a"): (90.0, 70.0), ("bluesky", "b"): (10.0, 40.0)}


def sql_of(name: str) -> str:
    return (REPO / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def run(name: str, lake: Lake, **params: str) -> list[dict[str, Any]]:
    return query(sql_of(name), lake, params=params or None).to_pylist()


def _at(dt: date) -> datetime:
    return datetime.combine(dt + timedelta(days=1), datetime.min.time()).replace(hour=5)


def _index_rows(table: str, dt: date, nets: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    k = 0 if dt == D0 else 1
    out: list[dict[str, Any]] = []
    for net in nets:
        lead = {b: LEAD[(net, b)][k] for b in nets[net]}
        for rank, b in enumerate(sorted(lead, key=lambda x: -lead[x]), 1):
            base = {"brand_id": b, "network": net, "window_start": dt - timedelta(days=6), "window_end": dt}
            if table == "scores":
                out.append({**base, "brand_name": b.upper(), "leadership": lead[b], "relational": lead[b],
                            "expression": lead[b], "engagement": lead[b], "rank": rank, "rank_low": rank,
                            "rank_high": rank, "coverage": 1.0, "computed_at": _at(dt)})
            elif table == "indicators":
                out.append({**base, "indicator": "community", "attribute": "relational", "value": 10 * lead[b],
                            "score": lead[b], "contribution": lead[b] / 8, "missing": False})
            else:
                for i, topic in enumerate(("cancer", "diabetes", "vaccines")):
                    out.append({**base, "source": "posts", "topic": topic, "family": "pathologies",
                                "items": 10 - i + (5 if net == "bluesky" and topic == "vaccines" else 0),
                                "share": (10 - i + (5 if net == "bluesky" and topic == "vaccines" else 0)) / 30})
    return out


def _collect_rows(table: str, dt: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b, nets in BRANDS.items():
        for net in nets:
            if table == "accounts" and not (dt == D1 and net == "bluesky" and b == "b"):  # b's Bluesky gap on D1
                out.append({"brand_id": b, "network": net, "account_id": f"{net}-{b}", "handle": b,
                            "followers": 100, "collected_at": _at(dt)})
            elif table == "mention_counts":
                for back in (0, 1):  # each run recounts the day before: the latest count wins
                    out.append({"brand_id": b, "network": net, "day": dt - timedelta(days=back),
                                "mentions": (10 if net == "x" else 3) * " abc".index(b) + (dt - D0).days})
            elif table == "posts":
                for i in range(3):
                    out.append({"post_id": f"{b}{i}", "brand_id": b, "network": net, "account_id": f"{net}-{b}",
                                "created_at": datetime.combine(D0, datetime.min.time()) + timedelta(hours=i),
                                "kind": "original", "text": f"{net} {b} {i}", "likes": (100 if net == "x" else 1) * i,
                                "reposts": 0, "replies": 0, "quotes": 0, "deleted": False, "observed_at": _at(dt)})
    return out


def write(lake: Lake, panel: str, table: str, dt: date, rows: list[dict[str, Any]]) -> None:
    lake.write_partition(table, panel, dt, pa.Table.from_pylist(rows, schema=SCHEMAS[table]))


def build(root: Path) -> Lake:
    lake = Lake(str(root))
    duo = {"all": ("a", "b", "c"), "x": ("a", "b", "c"), "bluesky": ("a", "b")}
    for dt in (D0, D1):
        for t in ("scores", "indicators", "topics"):
            write(lake, DUO, t, dt, _index_rows(t, dt, duo))
            write(lake, SOLO, t, dt, _index_rows(t, dt, {"x": ("a", "b", "c")}))
        for t in ("accounts", "mention_counts", "posts"):
            write(lake, DUO, t, dt, _collect_rows(t, dt))
        write(lake, DUO, "runs", dt, [{"run_id": f"c-{dt}", "stage": "collect", "started_at": _at(dt),
                                       "finished_at": _at(dt), "status": "ok", "errors": []}])
    return lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return build(tmp_path_factory.mktemp("nets") / "lake")


def test_every_query_over_a_network_table_outputs_network(lake: Lake) -> None:
    params = {"panel": DUO, "brand_id": "a", **END}
    for path in sorted((REPO / "queries").glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        with_net = [t for t in lake_tables(sql) if "network" in SCHEMAS[t].names]
        if not with_net:
            continue
        names = {p.name for p in parameters(sql)}
        t = query(sql, lake, params={k: v for k, v in params.items() if k in names})
        assert "network" in t.column_names, path.stem
        assert t.num_rows and set(t["network"].to_pylist()) >= {"x", "bluesky"}, path.stem


def test_leaderboard_per_network_and_combined(lake: Lake) -> None:
    rows = run("leaderboard_latest", lake)
    got = [(r["panel"], r["network"], r["rank"], r["brand_id"]) for r in rows]
    assert got == [(DUO, "all", 1, "a"), (DUO, "all", 2, "b"), (DUO, "all", 3, "c"),
                   (DUO, "bluesky", 1, "a"), (DUO, "bluesky", 2, "b"),
                   (DUO, "x", 1, "b"), (DUO, "x", 2, "a"), (DUO, "x", 3, "c"),
                   (SOLO, "x", 1, "b"), (SOLO, "x", 2, "a"), (SOLO, "x", 3, "c")]
    assert {r["dt"] for r in rows} == {D1}
    assert [r["leadership"] for r in rows if r["network"] == "all"] == [80.0, 50.0, 30.0]


def test_brand_history_changes_within_a_network(lake: Lake) -> None:
    rows = run("brand_history", lake, panel=DUO, brand_id="b", **END)
    got = [(r["network"], r["dt"], r["leadership"], r["leadership_change"]) for r in rows]
    assert got == [("all", D0, 60.0, None), ("all", D1, 50.0, -10.0),
                   ("bluesky", D0, 10.0, None), ("bluesky", D1, 40.0, 30.0),
                   ("x", D0, 65.0, None), ("x", D1, 60.0, -5.0)]
    c = run("brand_history", lake, panel=DUO, brand_id="c", **END)
    assert {r["network"] for r in c} == {"all", "x"}  # no Bluesky account: no Bluesky row, not a zero
    solo = run("brand_history", lake, panel=SOLO, brand_id="b", **END)
    assert [(r["network"], r["leadership_change"]) for r in solo] == [("x", None), ("x", -5.0)]


def test_indicator_trends_change_within_a_network(lake: Lake) -> None:
    rows = run("indicator_trends", lake, panel=DUO, **END)
    a = {(r["network"], r["dt"]): r["score_change"] for r in rows if r["brand_id"] == "a"}
    assert a == {("all", D0): None, ("all", D1): 10.0, ("bluesky", D0): None, ("bluesky", D1): -20.0,
                 ("x", D0): None, ("x", D1): 5.0}
    assert [r["network"] for r in rows] == sorted(r["network"] for r in rows)


def test_topics_share_per_network(lake: Lake) -> None:
    rows = run("topics_share", lake, panel=DUO)
    a = {(r["network"], r["topic_rank"]): r["topic"] for r in rows if r["brand_id"] == "a"}
    assert a[("x", 1)] == "cancer" and a[("bluesky", 1)] == "vaccines" and a[("all", 1)] == "cancer"
    assert {r["network"] for r in rows if r["brand_id"] == "c"} == {"all", "x"}


def test_top_posts_per_network(lake: Lake) -> None:
    rows = run("top_posts", lake, panel=DUO, **END)
    by_net: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_net.setdefault(r["network"], []).append(r)
    assert sorted(by_net) == ["bluesky", "x"] and len(by_net["x"]) == 9 and len(by_net["bluesky"]) == 6
    # The same post id on both networks is two posts; each once, at its latest observation.
    assert ("x", "a2") in {(r["network"], r["post_id"]) for r in rows}
    assert ("bluesky", "a2") in {(r["network"], r["post_id"]) for r in rows}
    for net, want in (("x", 200), ("bluesky", 2)):
        assert by_net[net][0]["interactions"] == want
        assert [r["interactions"] for r in by_net[net]] == sorted((r["interactions"] for r in by_net[net]),
                                                                 reverse=True)
        assert len({r["post_id"] for r in by_net[net]}) == len(by_net[net])


def test_mentions_daily_per_network_and_summed(lake: Lake) -> None:
    rows = run("mentions_daily", lake, panel=DUO, **END)
    got = {(r["day"], r["network"], r["brand_id"]): r["mentions"] for r in rows}
    assert len(got) == len(rows)
    # D0 recounted by D1's run (+1): the latest count wins, per network.
    assert got[(D0, "x", "a")] == 11 and got[(D0, "bluesky", "a")] == 4
    assert got[(D0, "all", "a")] == 15 and got[(D0, "all", "c")] == got[(D0, "x", "c")] == 31
    assert (D0, "bluesky", "c") not in got  # no Bluesky account: no row
    for day in (D0, D1):
        for net in ("x", "bluesky", "all"):
            share = sum(r["share_of_voice_pct"] for r in rows if r["day"] == day and r["network"] == net)
            assert share == pytest.approx(100.0, abs=0.2), (day, net)


def test_mentions_daily_one_network_has_no_combined_rows(lake: Lake, tmp_path: Path) -> None:
    solo = Lake(str(tmp_path / "solo"))
    for dt in (D0, D1):
        write(solo, SOLO, "mention_counts", dt, [r for r in _collect_rows("mention_counts", dt) if r["network"] == "x"])
    rows = run("mentions_daily", solo, panel=SOLO, **END)
    assert {r["network"] for r in rows} == {"x"} and len(rows) == 3 * 3  # 3 days (D0's run counts D0-1) × 3


def test_collection_gaps_per_network(lake: Lake) -> None:
    rows = run("collection_gaps", lake, panel=DUO, **END)
    assert len(rows) == 30 * 2  # a row per day and network
    at = {(r["dt"], r["network"]): r for r in rows}
    assert at[(D1, "bluesky")]["missing_brands"] == "b" and at[(D1, "bluesky")]["gap"]
    assert at[(D1, "bluesky")]["brands_expected"] == 2  # c has no Bluesky account: not expected there
    assert not at[(D1, "x")]["gap"] and at[(D1, "x")]["brands_expected"] == 3
    assert not at[(D0, "bluesky")]["gap"]
    assert rows[0]["gap"] and (rows[0]["dt"], rows[0]["network"]) == (D1, "bluesky")


def test_files_written_before_the_network_column_read_as_x(lake: Lake, tmp_path: Path) -> None:
    """An older partition without the column, beside newer ones: DuckDB binds by name, rows read as x."""
    shutil.copytree(lake.root, tmp_path / "lake")
    old = Lake(str(tmp_path / "lake"))
    before = D0 - timedelta(days=1)
    for table in ("scores", "mention_counts"):
        rows = _index_rows("scores", D0, {"x": ("a", "b", "c")}) if table == "scores" else \
            [r for r in _collect_rows(table, before) if r["network"] == "x"]
        schema = pa.schema([f for f in SCHEMAS[table] if f.name != "network"])
        path = Path(old.partition_path(table, SOLO, before))
        path.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist([{k: v for k, v in r.items() if k != "network"} for r in rows],
                                            schema=schema), path / "data.parquet")
    con = connect(old, ["scores"])  # the default views: DuckDB refuses the mix
    with pytest.raises(duckdb.Error, match="schema mismatch"):
        con.sql("SELECT network FROM scores").fetchall()
    con.close()
    hist = run("brand_history", old, panel=SOLO, brand_id="b", **END)
    assert [(r["network"], r["dt"]) for r in hist] == [("x", before), ("x", D0), ("x", D1)]
    daily = run("mentions_daily", old, panel=SOLO, **END)
    assert {r["network"] for r in daily} == {"x"} and daily
    assert len(run("mentions_daily", old, panel=DUO, **END)) == len(run("mentions_daily", lake, panel=DUO, **END))


def test_queries_on_a_collected_and_scored_lake(tmp_path: Path) -> None:
    """The pipeline's own files (X's `data` part and the `bluesky` part of each partition) on the
    embedded simulators: the leaderboard per network is the lake's scores, per network."""
    from _two_networks import two_network_spec

    from barometer.config import parse_panel
    from barometer.lake.store import network_is
    from barometer.pipeline import LocalRun, quiet
    from barometer.pipeline import run as run_stages

    panel = parse_panel(two_network_spec("two-nets", "Two networks", D1, min_coverage=0.5))
    local = LocalRun(panel, Lake(str(tmp_path / "lake")), tmp_path / "site", progress=quiet)
    collect, score = run_stages(local, D1, ["collect", "score"], mode="backfill", since=D1 - timedelta(days=6))
    assert collect.status == "ok" and score.status == "ok", (collect.errors, score.errors)
    board = run("leaderboard_latest", local.lake)
    for net in ("all", "x", "bluesky"):
        want = local.lake.read("scores", panel.id, D1, D1, filter=network_is(net)).to_pylist()
        got = [r for r in board if r["network"] == net]
        assert sorted((r["brand_id"], r["rank"]) for r in got) == sorted((r["brand_id"], r["rank"]) for r in want)
    assert {r["brand_id"] for r in board if r["network"] == "bluesky"} == {"sanofi", "gsk-france"}
    daily = run("mentions_daily", local.lake, panel=panel.id, end_date=D1.isoformat())
    counts = local.lake.read("mention_counts", panel.id, filter=network_is("bluesky")).to_pylist()
    assert sum(r["mentions"] for r in daily if r["network"] == "bluesky" and r["day"] == D1) == \
        sum(c["mentions"] for c in counts if c["day"] == D1)
    top = run("top_posts", local.lake, panel=panel.id, end_date=D1.isoformat())
    assert {r["network"] for r in top} == {"x", "bluesky"}
    assert all(r["post_id"].startswith("at://") == (r["network"] == "bluesky") for r in top)
