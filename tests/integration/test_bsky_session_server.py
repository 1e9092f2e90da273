"""A stored Bluesky session from another server (a simulator gone, a changed --bsky-url) must
not take the password login there with it: two runs, two servers, one lake."""

from __future__ import annotations

from pathlib import Path

from _bsky import HANDLE, NOW, PASSWORD, pharma_bsky
from atproto import Client

from barometer.collect.bluesky.session import open_client, stored
from barometer.lake.store import Lake
from barometer.sim.bsky import BskySimServer


def test_a_stale_session_falls_back_to_a_login_on_the_current_server(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    with BskySimServer(pharma_bsky(), now=NOW) as first:
        assert open_client(Client(first.url), lake, "p", HANDLE, PASSWORD) == 1
        old = stored(lake, "p")
        assert old
    with BskySimServer(pharma_bsky(), now=NOW) as second:  # another port: the first is gone
        client = Client(second.url)
        assert open_client(client, lake, "p", HANDLE, PASSWORD) == 1  # logged in here, not refused
        assert client._base_url == f"{second.url.rstrip('/')}/xrpc"
        assert stored(lake, "p") != old
        # and the fresh session is restored on the next run without a login
        assert open_client(Client(second.url), lake, "p", HANDLE, PASSWORD) == 0
