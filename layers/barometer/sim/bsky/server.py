"""`BskySimServer`: a real HTTP/1.1 server speaking XRPC over a simulated Bluesky world.

The collector talks to it with the production `atproto` SDK (`Client(base_url=server.url)`),
so the transport is real: keep-alive connections, Content-Length framing, connection resets
and slow answers for the fault plan.
"""

from __future__ import annotations

import socket
import struct
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from barometer.sim.bsky.faults import BskyFaultPlan
from barometer.sim.bsky.model import BskyWorld
from barometer.sim.bsky.search import SEARCH_CAP
from barometer.sim.bsky.xrpc import DEFAULT_HANDLE, DEFAULT_PASSWORD, BskyApi
from barometer.sim.model import World
from barometer.sim.server import HttpSim


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see the X server: ~40 ms a request otherwise
    server_version = "bsky-sim"
    sys_version = ""
    api: BskyApi  # set on the per-server subclass

    def _serve(self, verb: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.api.handle(verb, parts.path, parts.query, headers, body, self.client_address[0])
        if reply.body is None:
            # A connection reset: RST instead of FIN (SO_LINGER 0), no response at all.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        return  # silent: `.stats` reports what was served


class BskySimServer(HttpSim):
    """Serve a Bluesky world as XRPC on host:port (port 0 picks a free one).

    `world` is a `BskyWorld`, or an X `World` from which one is derived
    (`build_bsky_world`). The one account that can log in is `handle` (default
    `barometer.bsky.social`) with the app password `password` (default
    `sim0-app0-pass-word`); its DID works as the identifier too. `now` is the simulated clock
    (what exists, counts' ages, followers); sessions and rate limits use the wall clock.
    """

    handler = _Handler
    thread_name = "bsky-sim"

    def __init__(
        self,
        world: BskyWorld | World,
        *,
        now: datetime,
        handle: str = DEFAULT_HANDLE,
        password: str = DEFAULT_PASSWORD,
        faults: BskyFaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        access_ttl: float | None = None,
        search_cap: int = SEARCH_CAP,
    ) -> None:
        super().__init__(host, port)
        if isinstance(world, World):
            from barometer.sim.bsky.worldgen import build_bsky_world

            world = build_bsky_world(world)
        self.api = BskyApi(
            world,
            now,
            handle=handle,
            password=password,
            faults=faults,
            rate_limits=rate_limits,
            access_ttl=access_ttl,
            search_cap=search_cap,
        )
        self.handle = handle
        self.password = password

    @property
    def world(self) -> BskyWorld:
        return self.api.world

    @property
    def stats(self) -> dict[str, Any]:
        """Requests per endpoint, responses per status, posts and profiles served, faults fired,
        logins and session refreshes."""
        view = self.api.stats.view()
        view["logins"] = self.api.sessions.logins
        view["refreshes"] = self.api.sessions.refreshes
        return view
