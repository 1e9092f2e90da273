"""The index across networks (issue 14) on a small handmade file lake, row by row.

Brands: alpha on X and Bluesky, beta on X only. Combined (`all`): community, content volume,
mentions, interactions and mention reach are sums over the networks; growth and engagement
rate are computed on the sums; centrality is PageRank on the union graph. beta has no row on
Bluesky: missing there, never a zero. A file written before `network` existed reads as X.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barometer.config import parse_panel
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.score import compute_all
from barometer.score.networks import NetworkLake, index_networks, labelled, main_rows, rows_of

D = date(2026, 4, 30)

PANEL = parse_panel({
    "id": "net-panel", "name": "Networks",
    "scoring": {"window_days": 10, "growth_reference": "previous", "sensitivity_draws": 0},
    "brands": [
        {"id": "alpha", "name": "Alpha",
         "accounts": [{"network": "x", "handle": "alpha"}, {"network": "bluesky", "handle": "alpha.bsky.social"}],
         "mentions": {"x": "alpha", "bluesky": {"q": "alpha"}}},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
    ],
})


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _write(lake: Lake, table: str, dt: date, rows: list[dict]) -> None:
    schema = SCHEMAS[table]
    full = [{name: r.get(name) for name in schema.names} for r in rows]
    lake.write_partition(table, PANEL.id, dt, pa.Table.from_pylist(full, schema=schema))


def _acc(brand: str, net: str, aid: str, handle: str, followers: int, at: str) -> dict:
    return {"brand_id": brand, "network": net, "account_id": aid, "handle": handle, "status": "ok",
            "followers": followers, "collected_at": ts(at)}


def _post(pid: str, brand: str, net: str, aid: str, likes: int, mentioned: list[str] | None = None) -> dict:
    return {"post_id": pid, "brand_id": brand, "network": net, "account_id": aid,
            "created_at": ts("2026-04-25T10:00"), "kind": "original", "text": "", "likes": likes, "reposts": 0,
            "replies": 0, "quotes": 0, "mentioned_handles": mentioned or [], "observed_at": ts("2026-04-30T05:00")}


def _men(pid: str, brand: str, net: str, author: str, handle: str, mentioned: list[str]) -> dict:
    return {"post_id": pid, "brand_id": brand, "network": net, "author_id": author, "author_handle": handle,
            "author_followers": 10, "created_at": ts("2026-04-26T10:00"), "kind": "original", "text": "",
            "likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "mentioned_handles": mentioned,
            "observed_at": ts("2026-04-30T05:00")}


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    # Growth reference (previous window ends 2026-04-20): followers then.
    _write(lake, "accounts", date(2026, 4, 20), [
        _acc("alpha", "x", "1", "alpha", 100, "2026-04-20T05:00"),
        _acc("alpha", "bluesky", "did:plc:alpha", "alpha.bsky.social", 50, "2026-04-20T05:00"),
        _acc("beta", "x", "2", "beta", 200, "2026-04-20T05:00")])
    _write(lake, "accounts", D, [
        _acc("alpha", "x", "1", "alpha", 120, "2026-04-30T05:00"),
        _acc("alpha", "bluesky", "did:plc:alpha", "alpha.bsky.social", 80, "2026-04-30T05:00"),
        _acc("beta", "x", "2", "beta", 210, "2026-04-30T05:00")])
    _write(lake, "posts", D, [
        _post("10", "alpha", "x", "1", 5), _post("11", "alpha", "x", "1", 3),
        _post("at://did:plc:alpha/app.bsky.feed.post/3k1", "alpha", "bluesky", "did:plc:alpha", 7,
              ["beta"]),
        _post("20", "beta", "x", "2", 1)])
    _write(lake, "mentions", D, [
        _men("100", "alpha", "x", "500", "fan", ["alpha"]),
        _men("101", "alpha", "x", "501", "fan2", ["alpha", "beta"]),
        _men("at://did:plc:u1/app.bsky.feed.post/1", "alpha", "bluesky", "did:plc:u1", "u1.bsky.social",
             ["alpha.bsky.social"]),
        _men("102", "beta", "x", "500", "fan", ["beta"])])
    return lake


def test_per_network_and_combined_values(lake: Lake) -> None:
    assert index_networks(PANEL) == ("all", "x", "bluesky")
    runs = {r.network: r for r in compute_all(PANEL, D, lake)}
    assert set(runs) == {"all", "x", "bluesky"}
    a, x, b = runs["all"].values, runs["x"].values, runs["bluesky"].values
    # Sums over networks.
    assert x["alpha"]["community"] == 120 and b["alpha"]["community"] == 80 and a["alpha"]["community"] == 200
    assert x["alpha"]["content_volume"] == 2 and b["alpha"]["content_volume"] == 1
    assert a["alpha"]["content_volume"] == 3
    assert a["alpha"]["interactions"] == 15 == x["alpha"]["interactions"] + b["alpha"]["interactions"]
    assert a["alpha"]["mentions"] == 3 and a["alpha"]["mention_reach"] == 3
    # Growth and engagement rate on the sums, not averaged.
    assert a["alpha"]["community_growth"] == pytest.approx(200 / 150 - 1)
    assert b["alpha"]["community_growth"] == pytest.approx(80 / 50 - 1)
    # Mean followers over W (one snapshot in W: 120 + 80).
    assert a["alpha"]["engagement_rate"] == pytest.approx(15 / (3 * 200) * 100)
    assert b["alpha"]["engagement_rate"] == pytest.approx(7 / (1 * 80) * 100)
    # beta: no Bluesky account → no Bluesky row (missing, not zero); its combined = its X values.
    assert "beta" not in b
    for k in ("community", "content_volume", "mentions", "mention_reach", "interactions", "engagement_rate"):
        assert a["beta"][k] == x["beta"][k]
    assert a["beta"]["community"] == 210 and a["beta"]["mentions"] == 1
    # Centrality: PageRank on the union graph: alpha's Bluesky post mentioning beta adds an
    # edge to beta that the X graph does not have.
    assert runs["all"].details["graph_edges"] == runs["x"].details["graph_edges"] + 2
    assert runs["bluesky"].result.brand_ids == ["alpha"]


def test_x_only_panel_has_x_rows_only() -> None:
    x_only = PANEL.model_copy(update={"brands": [PANEL.brand("beta")]})
    assert index_networks(x_only) == ("x",)


def test_a_lake_without_network_reads_as_x(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "old"))
    part = tmp_path / "old" / "accounts" / f"panel={PANEL.id}" / "dt=2026-04-30"
    os.makedirs(part)
    old = pa.table({"brand_id": ["beta"], "account_id": ["2"], "handle": ["beta"], "followers": [7],
                    "collected_at": pa.array([ts("2026-04-30T05:00")], pa.timestamp("ms"))})
    pq.write_table(old, part / "data.parquet")
    assert lake.read("accounts", PANEL.id)["network"].to_pylist() == ["x"]
    assert NetworkLake(lake, "x").read("accounts", PANEL.id).num_rows == 1
    assert NetworkLake(lake, "bluesky").read("accounts", PANEL.id).num_rows == 0


def test_rows_helpers() -> None:
    t = pa.table({"brand_id": ["a", "a", "a"], "network": ["all", "x", "bluesky"]})
    assert main_rows(t)["network"].to_pylist() == ["all"]
    assert rows_of(t, "bluesky").num_rows == 1
    one = labelled(pa.table({"brand_id": ["a"]}), "x")
    assert main_rows(one).num_rows == 1 and one["network"].to_pylist() == ["x"]
