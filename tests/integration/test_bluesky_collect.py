"""The Bluesky collector on the file lake, against the Bluesky simulator (barometer.sim.bsky,
real XRPC over HTTP through the production atproto SDK): rows of the bluesky part, reruns
replace it (nothing twice), the session kept in the lake's state (no second login), a refused
app password and an unresolvable handle in one line each, an X-only panel skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from atproto import Client

from barometer.collect.bluesky import collect_bluesky
from barometer.config import parse_panel
from barometer.lake.store import Lake
from barometer.sim.bsky import BskySimServer
from barometer.sim.world import build_world

D = date(2018, 4, 30)
NOW = datetime(2018, 5, 1, 5, 0)
PANEL = parse_panel({
    "id": "bsky-panel", "name": "B", "topics": "pharma", "demo": {"run_date": D.isoformat()},
    "scoring": {"window_days": 10},
    "brands": [
        {"id": "sanofi", "name": "Sanofi", "accounts": [{"network": "x", "handle": "sanofi"},
                                                        {"network": "bluesky", "handle": "sanofi.bsky.social"}],
         "mentions": {"x": "sanofi", "bluesky": {"q": "sanofi"}}},
        {"id": "gsk-france", "name": "GSK France",
         "accounts": [{"network": "x", "handle": "GSK_FR"}, {"network": "bluesky", "handle": "gsk-france.bsky.social"}],
         "mentions": {"x": "gsk"}},
    ],
})
GHOST = parse_panel({**PANEL.model_dump(include={"id", "name", "scoring"}), "brands": [
    *[b.model_dump(exclude={"bluesky_query", "mention_query"}) | {"mentions": {"x": b.mention_query}}
      for b in PANEL.brands],
    {"id": "ghost", "name": "Ghost", "accounts": [{"network": "bluesky", "handle": "ghost-nobody.bsky.social"}]}]})


@pytest.fixture(scope="module")
def srv() -> Iterator[BskySimServer]:
    with BskySimServer(build_world(PANEL), now=NOW) as s:
        yield s


def _collect(srv: BskySimServer, lake: Lake, password: str | None = None, panel=PANEL):  # type: ignore[no-untyped-def]
    return collect_bluesky(panel, D, lake, Client(srv.url), srv.handle, password or srv.password, now=NOW)


def test_rows_and_rerun_replace_the_part(srv: BskySimServer, tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    r = _collect(srv, lake)
    assert r.status == "ok", r.errors
    assert r.logins == 1 and r.brands_ok == 2 and r.requests > 0
    acc = lake.read("accounts", PANEL.id).to_pylist()
    assert sorted((a["brand_id"], a["network"]) for a in acc) == [("gsk-france", "bluesky"), ("sanofi", "bluesky")]
    assert all(a["account_id"].startswith("did:plc:") for a in acc)
    posts, men = lake.read("posts", PANEL.id), lake.read("mentions", PANEL.id)
    assert posts.num_rows > 0 and set(posts["network"].to_pylist()) == {"bluesky"}
    own = {a["account_id"] for a in acc}
    assert men.num_rows > 0 and not (set(men["author_id"].to_pylist()) & own)  # own posts are not mentions
    counts = {c["brand_id"]: c["mentions"] for c in lake.read("mention_counts", PANEL.id).to_pylist()}
    assert sum(counts.values()) == men.num_rows
    # Rerun: the same rows, nothing twice; the session is resumed, no second login.
    r2 = _collect(srv, lake)
    assert r2.logins == 0 and r2.status == "ok"
    assert lake.read("posts", PANEL.id).num_rows == posts.num_rows
    assert lake.read("mentions", PANEL.id).num_rows == men.num_rows


def test_refused_password_one_line_profiles_and_feeds_still_read(srv: BskySimServer, tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    r = _collect(srv, lake, password="wrong-pass-word0")
    line = [e for e in r.errors if "login refused" in e]
    assert len(line) == 1 and line[0].startswith(f"bluesky: login refused for {srv.handle}")
    assert "wrong-pass-word0" not in " ".join(r.errors) and r.status == "partial"
    assert lake.read("accounts", PANEL.id).num_rows == 2
    assert lake.read("mentions", PANEL.id).num_rows == 0


def test_unresolvable_handle_one_line(srv: BskySimServer, tmp_path: Path) -> None:
    r = _collect(srv, Lake(str(tmp_path / "lake")), panel=GHOST)
    assert "bluesky: ghost: handle @ghost-nobody.bsky.social does not resolve" in r.errors
    assert r.status == "partial" and r.brands_failed == 1


def test_x_only_panel_skipped(tmp_path: Path) -> None:
    x_only = PANEL.on_network("x")
    assert collect_bluesky(x_only, D, Lake(str(tmp_path)), None).status == "skipped"
