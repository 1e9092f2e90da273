"""`barometer sim serve`: the X API simulator (or, with `--network bluesky`, the Bluesky
XRPC simulator) as a standalone server.

The main CLI calls `register(subparsers)` with the subparsers of `barometer sim`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from barometer.config import Panel, resolve_panel
from barometer.errors import ConfigError

if TYPE_CHECKING:
    from barometer.sim.server import HttpSim


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "serve",
        help="serve a simulated X API v2 (or Bluesky XRPC) until Ctrl-C",
        description="Serve the simulated world of a panel as X API v2, or as Bluesky XRPC "
        "(--network bluesky: log in with --bsky-handle and --bsky-password, by default "
        "barometer.bsky.social / sim0-app0-pass-word).",
    )
    p.add_argument("--network", choices=("x", "bluesky"), default="x", help="the API to serve (default: x)")
    p.add_argument("--port", type=int, default=8787, help="port to listen on (0: any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--panel", default="pharma-fr", help="panel file or id (default: pharma-fr)")
    p.add_argument(
        "--now", help="simulated clock, ISO 8601 UTC (default: day after the demo run date, 05:00Z)"
    )
    p.add_argument("--seed", type=int, help="world seed (default: the panel's demo seed)")
    p.add_argument("--token", default="sim-token", help="bearer token clients must send (X)")
    p.add_argument(
        "--bsky-handle", default="barometer.bsky.social", help="the account that can log in (Bluesky)"
    )
    p.add_argument("--bsky-password", default="sim0-app0-pass-word", help="its app password (Bluesky)")
    p.add_argument(
        "--faults",
        default="",
        help="fault plan, e.g. '429@search_recent:2,cap,delete=3' (Bluesky: '429@search_posts:2,expire')",
    )
    p.set_defaults(func=serve)

    from barometer.sim.generate import register_generate

    register_generate(subparsers)


def parse_now(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--now: not an ISO 8601 date-time: {value!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def sim_clock(panel: Panel, value: str | None) -> tuple[datetime, date]:
    """(now, last simulated day): a panel with a demo keeps its whole (calibrated) world
    whatever `now` is; posts after `now` simply do not exist yet for the API."""
    now = parse_now(value) if value else None
    if panel.demo is not None:
        end = panel.demo.run_date
        return now or datetime.combine(end + timedelta(days=1), time(5), tzinfo=UTC), end
    now = now or datetime.now(UTC)
    return now, (now - timedelta(days=1)).date()


def serve_bluesky(args: argparse.Namespace, panel: Panel) -> int:
    from barometer.sim.bsky import BskyFaultPlan, BskySimServer, build_bsky_world
    from barometer.sim.world import build_world

    plan = BskyFaultPlan.parse(args.faults) if args.faults else None
    now, end = sim_clock(panel, args.now)
    print(f"building the simulated world of {panel.id}…", file=sys.stderr, flush=True)
    world = build_bsky_world(build_world(panel, args.seed, end=end))
    srv = BskySimServer(
        world, now=now, handle=args.bsky_handle, password=args.bsky_password, faults=plan,
        host=args.host, port=args.port,
    )
    return _serve_until_interrupted(srv, args, lambda: (
        f"Bluesky XRPC simulator for {panel.id} at {srv.url} (now {now.isoformat()}, "
        f"{len(world.posts)} posts); log in as {args.bsky_handle} / {args.bsky_password}; Ctrl-C to stop"))


def _serve_until_interrupted(srv: HttpSim, args: argparse.Namespace, banner: Callable[[], str]) -> int:
    """Start `srv` (a busy port is one line), print its banner, serve until Ctrl-C."""
    try:
        srv.start()
    except OSError as e:
        raise ConfigError(f"sim serve: cannot listen on {args.host}:{args.port} ({e.strerror})") from None
    print(banner(), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        srv.stop()
    return 0


def serve(args: argparse.Namespace) -> int:
    # Imported here so `barometer --help` stays fast (numpy and the world are heavy).
    from barometer.sim.faults import FaultPlan
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    panel = resolve_panel(args.panel)
    if getattr(args, "network", "x") == "bluesky":
        return serve_bluesky(args, panel)
    plan = FaultPlan.parse(args.faults) if args.faults else None
    now, end = sim_clock(panel, args.now)
    print(f"building the simulated world of {panel.id}…", file=sys.stderr, flush=True)
    world = build_world(panel, args.seed, end=end)
    srv = SimServer(world, args.token, now=now, faults=plan, host=args.host, port=args.port)
    return _serve_until_interrupted(srv, args, lambda: (
        f"X API simulator for {panel.id} at {srv.url} (now {now.isoformat()}, {len(world.posts)} posts); "
        "Ctrl-C to stop"))
