"""Bluesky identifiers, derived deterministically: DIDs, handles, TIDs, CIDs, AT-URIs, times.

Every identifier is a pure function of what it names (a handle, a post's time and author, a
record's content), so the same world serves the same identifiers on every run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

_B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's base32-sortable (TIDs)
_LABEL = re.compile(r"[^a-z0-9-]+")
POST_NSID = "app.bsky.feed.post"
REPOST_NSID = "app.bsky.feed.repost"
# A dag-cbor CIDv1 with a sha2-256 multihash: version 1, codec 0x71, hash 0x12, 32 bytes.
_CID_PREFIX = bytes([0x01, 0x71, 0x12, 0x20])


def did_for(handle: str) -> str:
    """`did:plc:` and 24 base32 characters from the handle's hash (stable across seeds)."""
    digest = hashlib.sha256(f"bsky-sim:{handle.lower()}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest[:15]).decode().lower()


def bsky_handle(x_username: str) -> str:
    """An X username's Bluesky counterpart: lower case, `_` → `-`, under `.bsky.social`."""
    label = _LABEL.sub("-", x_username.lower().replace("_", "-")).strip("-")
    if not label:
        label = "user"
    if len(label) < 3:
        label = (label + "-fr")[:63]
    return f"{label[:63]}.bsky.social"


def tid(micros: int, clock_id: int) -> str:
    """A TID record key: 13 base32-sortable characters of microseconds and a clock id."""
    n = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    out = []
    for _ in range(13):
        out.append(_B32_SORT[n & 31])
        n >>= 5
    return "".join(reversed(out))


def clock_id(did: str) -> int:
    return int.from_bytes(hashlib.sha256(did.encode()).digest()[:2], "big") & 0x3FF


def cid_for(content: Any) -> str:
    """A CIDv1 (dag-cbor, sha2-256) over the content (a string, or canonical JSON): `bafyrei…`."""
    if isinstance(content, str):
        raw = content.encode()
    else:
        raw = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(raw).digest()
    return "b" + base64.b32encode(_CID_PREFIX + digest).decode().lower().rstrip("=")


def at_uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


def iso(ms: int) -> str:
    """An atproto datetime: UTC, milliseconds, `Z`."""
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


_MASK = (1 << 64) - 1


def mix_unit(seed: int, n: int, salt: int) -> float:
    """A uniform number in [0, 1) from integers (splitmix64): `hash_unit` for post ids, cheaper."""
    z = (seed * 0x9E3779B97F4A7C15 + n * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) / 2**64


def hash_unit(*parts: object) -> float:
    """A uniform number in [0, 1) from the parts' hash: seeded choices without a shared RNG."""
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64
