"""A real HTTP/1.1 server speaking X API v2 over a simulated world.

The collector talks to it with the production tweepy client (only the host differs), so
the transport is real: keep-alive connections, Content-Length framing, genuine connection
resets and slow answers for the fault plan.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from barometer.sim.api import XApi, stats_view
from barometer.sim.faults import FaultPlan
from barometer.sim.world import World


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms a request). TCP_NODELAY makes a keep-alive request take ~1 ms.
    disable_nagle_algorithm = True
    server_version = "tsa_b"  # what X's edge answers in `server`
    sys_version = ""
    api: XApi  # set on the per-server subclass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.api.handle(parts.path, parts.query, headers)
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

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header on the rate limits' clock (a SimClock runs compressed): a client
        # computes the wait until x-rate-limit-reset against it.
        return super().date_time_string(self.api.clock() if timestamp is None else timestamp)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = (
            b'{"title":"Method Not Allowed","detail":"Method Not Allowed","type":"about:blank","status":405}'
        )
        self.send_response(405)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Silent: the demo makes thousands of requests; `.stats` reports them instead.
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up (the timeout fault does this on purpose) are not
        # server errors; anything else still gets the default report.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class HttpSim:
    """The lifecycle both simulators share (X here, Bluesky in `sim.bsky.server`): an HTTP
    server on host:port (port 0 picks a free one) in a daemon thread, its handler class bound
    to the simulator's `api`. Subclasses set `handler` and `thread_name` and build `api`."""

    handler: type[BaseHTTPRequestHandler]
    thread_name = "sim"
    api: Any

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        handler = type("Handler", (self.handler,), {"api": self.api})
        self._httpd = _Server((self.host, self.port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's `sim serve`)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def set_now(self, now: datetime) -> None:
        self.api.set_now(now)

    def set_faults(self, plan: Any) -> None:
        self.api.set_faults(plan)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SimServer(HttpSim):
    """Serve `world` as X API v2 on host:port (port 0 picks a free one).

    `now` is the simulated clock: it decides what exists (posts created after it do not),
    what is deleted, metrics' ages, and the 7-day window of search/recent. Rate-limit
    windows (`sim.api.limits`: X's published per-app limits) run on `clock`, epoch seconds as in
    X's `x-rate-limit-reset`: the wall clock by default, or a `SimClock` whose time advances with
    the collector's simulated sleeps, so that a day of rate-limit waits runs in seconds.
    """

    handler = _Handler
    thread_name = "x-sim"

    def __init__(
        self,
        world: World,
        bearer_token: str = "sim-token",
        *,
        now: datetime,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        search_all_per_second: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        self.api = XApi(
            world,
            bearer_token,
            now,
            faults,
            rate_limits=rate_limits,
            search_all_per_second=search_all_per_second,
            clock=clock,
        )

    @property
    def world(self) -> World:
        return self.api.world

    @property
    def stats(self) -> dict[str, Any]:
        """Requests per endpoint, responses per status, posts and users returned, faults fired."""
        return stats_view(self.api)
