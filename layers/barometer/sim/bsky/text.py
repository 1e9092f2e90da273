"""An X post's text as a Bluesky post's: handles rewritten, rich-text facets over UTF-8 bytes.

`@handle` of an account that has a Bluesky counterpart becomes `@<its bsky handle>` with an
`app.bsky.richtext.facet#mention` carrying its DID; `#tag` gets a `#tag` facet, URLs a `#link`
facet. Byte offsets count UTF-8 bytes, as the lexicon says (accents take two).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

MAX_GRAPHEMES = 300
_TOKEN = re.compile(r"@(?P<handle>[A-Za-z0-9_]{1,15})|#(?P<tag>[^\s#@.,;:!?…()\"']+)|(?P<url>https?://\S+)")
_WORD = re.compile(r"[a-z0-9]+")


def convert(
    text: str, resolve: Callable[[str], tuple[str, str] | None]
) -> tuple[str, list[dict[str, Any]], tuple[str, ...]]:
    """(text, facets, mentioned DIDs). `resolve(x_username)` → (bsky handle, DID) or None."""
    out: list[str] = []
    spans: list[tuple[int, int, dict[str, Any]]] = []  # character spans, converted to bytes below
    dids: list[str] = []
    pos = 0
    length = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        length += m.start() - pos
        pos = m.end()
        piece = m.group(0)
        feature: dict[str, Any] | None = None
        if m.group("handle"):
            hit = resolve(m.group("handle"))
            if hit is not None:
                handle, did = hit
                piece = "@" + handle
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
                dids.append(did)
        elif m.group("tag"):
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": m.group("tag")[:64]}
        else:
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": m.group("url")}
        if feature is not None:
            spans.append((length, length + len(piece), feature))
        out.append(piece)
        length += len(piece)
    out.append(text[pos:])
    full = "".join(out)
    if len(full) > MAX_GRAPHEMES:
        full = full[: MAX_GRAPHEMES - 1].rstrip() + "…"
        spans = [s for s in spans if s[1] <= MAX_GRAPHEMES - 1]
        kept = {s[2].get("did") for s in spans}
        dids = [d for d in dids if d in kept]
    facets = [
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": _bytes(full, a), "byteEnd": _bytes(full, b)},
            "features": [feat],
        }
        for a, b, feat in spans
    ]
    return full, facets, tuple(dict.fromkeys(dids))


def _bytes(text: str, chars: int) -> int:
    return len(text[:chars].encode())


def fold(text: str) -> str:
    """Lower case, accents dropped (é → e), other non-ASCII characters too: what search
    matches on, for posts and queries alike."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def words(text: str) -> frozenset[str]:
    """The search tokens of a text: folded runs of letters and digits (`@sanofi.bsky.social`
    gives sanofi, bsky, social)."""
    return frozenset(_WORD.findall(fold(text)))
