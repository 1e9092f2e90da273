"""The Bluesky simulator: a deterministic Bluesky world served as XRPC over real HTTP.

- `worldgen.build_bsky_world(world)`: the Bluesky side of an X `World` (brands' accounts
  `<brand>.bsky.social` or the panel's Bluesky handles, cross-posts, reposts, mentions with
  facets), smaller than X's; the data types are in `model`, identifiers in `ids`.
- `server.BskySimServer(world, now=..., handle=..., password=..., faults=...)`: the server,
  a context manager exposing `.url` for `atproto.Client(base_url=url)`. Login: the handle
  `barometer.bsky.social` (or its DID) with the app password `sim0-app0-pass-word` unless
  given. Endpoint logic in `xrpc` (routing, auth, limits, faults), `actors`, `feeds`, `search`.
- `faults.BskyFaultPlan`: injected failures (429, 5xx, resets, timeouts, malformed bodies,
  taken-down or unknown handles, deletions, expired sessions, a revoked app password).
"""

from barometer.sim.bsky.faults import BskyFaultPlan
from barometer.sim.bsky.model import Actor, BPost, BskyWorld, Repost
from barometer.sim.bsky.server import BskySimServer
from barometer.sim.bsky.worldgen import build_bsky_world
from barometer.sim.bsky.xrpc import DEFAULT_HANDLE, DEFAULT_PASSWORD, BskyApi

__all__ = [
    "DEFAULT_HANDLE",
    "DEFAULT_PASSWORD",
    "Actor",
    "BPost",
    "BskyApi",
    "BskyFaultPlan",
    "BskySimServer",
    "BskyWorld",
    "Repost",
    "build_bsky_world",
]
