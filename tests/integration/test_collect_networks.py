"""One collect stage over X and Bluesky (issue 14 item 7), on the embedded simulators (the X
simulator and, beside it, the Bluesky one): one `runs` row with each network's cost, a network
that fails leaves the other's rows written and the run partial; then score and publish of a
2-network panel show each brand once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest
from _two_networks import two_network_spec

from barometer.config import parse_panel
from barometer.lake.store import Lake, network_is
from barometer.pipeline import LocalRun, XSource, quiet, run, run_clock

D = date(2018, 4, 30)
PANEL = parse_panel(two_network_spec("two-nets", "Two networks", D, min_coverage=0.5))


def _local(tmp: Path, **source: object) -> LocalRun:
    return LocalRun(PANEL, Lake(str(tmp / "lake")), tmp / "site", XSource(**source), progress=quiet)  # type: ignore[arg-type]


def _rows(lake: Lake, table: str, net: str) -> int:
    return lake.read(table, PANEL.id, filter=network_is(net)).num_rows


def test_one_stage_reads_both_networks_then_score_and_publish(tmp_path: Path) -> None:
    local = _local(tmp_path)
    out = run(local, D, ["collect", "score", "publish"], mode="backfill", since=D - timedelta(days=6))
    collect, score, publish = out
    assert collect.status == "ok", collect.errors
    nets = collect.details["networks"]
    assert set(nets) == {"x", "bluesky"}  # type: ignore[arg-type]
    assert nets["x"]["cost_usd"] == collect.cost_usd > 0 and nets["bluesky"]["cost_usd"] == 0.0  # type: ignore[index]
    assert collect.api_requests == nets["x"]["api_requests"] + nets["bluesky"]["api_requests"]  # type: ignore[index]
    runs = local.lake.read("runs", PANEL.id).to_pylist()
    assert [r["stage"] for r in runs].count("collect") == 1
    lake = local.lake
    for table in ("accounts", "posts", "mentions"):
        assert _rows(lake, table, "x") > 0 and _rows(lake, table, "bluesky") > 0, table
    bsky_brands = set(lake.read("accounts", PANEL.id, filter=network_is("bluesky"))["brand_id"].to_pylist())
    assert bsky_brands == {"sanofi", "gsk-france"}  # roche has no Bluesky account: missing, not zero
    assert score.status == "ok" and publish.status == "ok", (score.errors, publish.errors)
    scores = lake.read("scores", PANEL.id, D, D)
    assert sorted(set(scores["network"].to_pylist())) == ["all", "bluesky", "x"]
    assert scores.filter(pc.equal(scores["network"], "bluesky")).num_rows == 2
    index = (tmp_path / "site" / "index.html").read_text()
    for b in ("sanofi", "gsk-france", "roche-france"):  # each brand once on the leaderboard
        assert index.count(f'href="marques/{b}/"') == 1, b
    # The network switch: plain links to one leaderboard per network (no JS needed).
    assert '<a href="reseau/x/">X</a>' in index and '<a href="reseau/bluesky/">Bluesky</a>' in index
    bsky = (tmp_path / "site" / "reseau" / "bluesky" / "index.html").read_text()
    assert '<a href="../../reseau/bluesky/" aria-current="page">Bluesky</a>' in bsky
    assert bsky.count('href="../../marques/') == 2 and "roche-france" not in bsky  # no Bluesky account
    assert (tmp_path / "site" / "en" / "network" / "x" / "index.html").exists()
    brand = (tmp_path / "site" / "marques" / "sanofi" / "index.html").read_text()
    assert "@sanofi (X) · @sanofi.bsky.social (Bluesky)" in brand  # simulated: not linked
    assert 'id="nets-h">Par réseau' in brand and '<th scope="row">Bluesky</th><td>' in brand
    roche = (tmp_path / "site" / "marques" / "roche-france" / "index.html").read_text()
    assert '<th scope="row">Bluesky</th><td colspan="2">pas de compte</td>' in roche
    # Real data: each handle linked to its own network.
    from barometer.publish import PublishOptions, SiteTarget, run_publish

    run_publish(PANEL, D, lake, SiteTarget.local(tmp_path / "real"), PublishOptions(simulated=False))
    real = (tmp_path / "real" / "marques" / "sanofi" / "index.html").read_text()
    assert '<a href="https://x.com/sanofi" rel="external noopener">@sanofi (X)</a>' in real
    assert '<a href="https://bsky.app/profile/sanofi.bsky.social" rel="external noopener">' in real


def test_x_failing_leaves_bluesky_written_and_run_partial(tmp_path: Path) -> None:
    # X refuses the token (an external URL that answers nothing); Bluesky still reads and writes.
    local = _local(tmp_path)
    with local.client(run_clock(D)) as (_client, _):
        from barometer.collect.client import make_client

        bad = make_client("sim-token", base_url="http://127.0.0.1:9")
        s = local.collect(bad, D, run_clock(D), mode="daily", backoff=0.0)
    assert s.status == "partial", s.errors
    assert s.details["networks"]["x"]["status"] == "failed"  # type: ignore[index]
    assert s.details["networks"]["bluesky"]["status"] == "ok"  # type: ignore[index]
    assert s.errors and all("\n" not in e and e.startswith(("x: ", "bluesky: ")) for e in s.errors)
    assert "x: panel: profiles: users_by_username: connection error (reset), 3 tries" in s.errors
    assert _rows(local.lake, "posts", "bluesky") > 0


def test_bluesky_password_refused_one_line_x_written(tmp_path: Path) -> None:
    local = _local(tmp_path)
    with local.client(run_clock(D)) as (client, _):
        local.bluesky.password = "wrong-pass-word"  # type: ignore[union-attr]
        s = local.collect(client, D, run_clock(D), mode="daily")
    assert s.status == "partial"
    refused = [e for e in s.errors if "login refused" in e]
    assert len(refused) == 1 and "wrong-pass-word" not in " ".join(s.errors)
    assert _rows(local.lake, "accounts", "x") == 3 and _rows(local.lake, "mentions", "x") > 0
    assert _rows(local.lake, "mentions", "bluesky") == 0


@pytest.mark.parametrize("net", ["x"])
def test_x_only_panel_has_no_networks_detail(tmp_path: Path, net: str) -> None:
    x_only = PANEL.on_network(net)
    local = LocalRun(x_only, Lake(str(tmp_path / "lake")), tmp_path / "site", progress=quiet)
    with local.client(run_clock(D)) as (client, _):
        s = local.collect(client, D, run_clock(D), mode="daily")
    assert "networks" not in s.details and local.bluesky is None
