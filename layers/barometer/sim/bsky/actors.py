"""Identity and profiles: com.atproto.identity.resolveHandle, app.bsky.actor.getProfile(s)."""

from __future__ import annotations

from typing import Any

from barometer.sim.bsky.errors import invalid
from barometer.sim.bsky.params import Params, check_handle, check_identifier
from barometer.sim.bsky.render import profile_detailed
from barometer.sim.bsky.state import BskyState

MAX_ACTORS = 25


def resolve_handle(s: BskyState, q: Params) -> dict[str, Any]:
    handle = q.one("handle", required=True)
    assert handle is not None
    check_handle("handle", handle)
    a = s.actor(handle, strict=False)
    if a is None:
        raise invalid("Unable to resolve handle")
    return {"did": a.did}


def get_profile(s: BskyState, q: Params) -> dict[str, Any]:
    actor = q.identifier("actor", required=True)
    assert actor is not None
    a = s.actor(actor)
    assert a is not None
    s.stats.count_users(1)
    return profile_detailed(s, a)


def get_profiles(s: BskyState, q: Params) -> dict[str, Any]:
    """Up to 25 actors; those that do not resolve (or are taken down) are left out."""
    actors = q.many("actors", required=True, max_length=MAX_ACTORS)
    for v in actors:
        check_identifier("actors", v)
    out = []
    seen: set[str] = set()
    for v in actors:
        a = s.actor(v, strict=False)
        if a is None or a.did in seen:
            continue
        seen.add(a.did)
        out.append(profile_detailed(s, a))
    s.stats.count_users(len(out))
    return {"profiles": out}
