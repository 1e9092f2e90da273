"""app.bsky.feed.searchPosts: a small Lucene-like query language, filters, paging, the cap.

`q`: terms (all must match; matching is on words, case- and accent-insensitive, so `sanofi`
matches `@sanofi.bsky.social`), `"quoted phrases"`, `-term` to exclude, `#tag`, `A OR B`
between groups, `*` for every post, and the operators `from:`, `mentions:`, `lang:`,
`since:`, `until:`, `domain:`. Parameters `author`, `mentions` (facet mentions only, by DID
or handle), `lang`, `since` (inclusive), `until` (exclusive), `domain`, `url`, `tag` filter
further. `sort=latest` (default) is newest first, `top` by interactions.

Paging: the cursor is an offset; results stop at the 10,000th hit (no cursor past it, and a
cursor beyond it gives an empty page), so long periods must be sliced by since/until.
`hitsTotal` is the number of hits, uncapped. Without a session, the first page is served
without a cursor and a request with a cursor is refused (401 AuthMissing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from barometer.sim.bsky.errors import XrpcError, auth_required, invalid
from barometer.sim.bsky.model import BPost
from barometer.sim.bsky.params import Params, parse_when
from barometer.sim.bsky.render import post_view
from barometer.sim.bsky.state import BskyState
from barometer.sim.bsky.text import fold, words

SEARCH_CAP = 10_000
_TOKEN = re.compile(r'-?"[^"]*"|\S+')
_OPS = ("from", "mentions", "lang", "since", "until", "domain")


@dataclass
class Group:
    """Terms that must all match (an OR alternative)."""

    words: list[frozenset[str]] = field(default_factory=list)  # each term's words, all present
    phrases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    excluded: list[frozenset[str]] = field(default_factory=list)
    every: bool = False


@dataclass
class Filters:
    author: set[str] = field(default_factory=set)
    mentions: set[str] = field(default_factory=set)
    lang: str | None = None
    since: int | None = None
    until: int | None = None
    domain: str | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)


def parse_query(q: str, flt: Filters, did_of: Any) -> list[Group]:
    if not q.strip():
        raise XrpcError(400, "BadQueryString", "Query must not be empty")
    groups = [Group()]
    for tok in _TOKEN.findall(q):
        if tok == "OR":
            groups.append(Group())
            continue
        g = groups[-1]
        neg = tok.startswith("-") and len(tok) > 1
        body = tok[1:] if neg else tok
        op, sep, val = body.partition(":")
        if sep and op in _OPS and val and not neg:
            _operator(flt, op, val, did_of)
        elif body.startswith('"'):
            phrase = fold(body.strip('"'))
            ws = words(phrase)
            if neg:
                g.excluded.append(ws)
            elif ws:
                g.words.append(ws)
                g.phrases.append(" ".join(re.findall(r"[a-z0-9]+", phrase)))
        elif body == "*":
            g.every = True
        elif body.startswith("#") and not neg:
            g.tags.append(fold(body[1:]))
        else:
            ws = words(body)
            if ws:
                (g.excluded if neg else g.words).append(ws)
    for g in groups:
        if not (g.words or g.tags):
            g.every = True  # only operators or exclusions: every post they select
    return groups


def _operator(flt: Filters, op: str, val: str, did_of: Any) -> None:
    if op in ("from", "mentions"):
        target = flt.author if op == "from" else flt.mentions
        target.add(did_of(val.removeprefix("@")) or "did:plc:none")
    elif op == "lang":
        flt.lang = val
    elif op in ("since", "until"):
        setattr(flt, op, parse_when(op, val))
    else:
        flt.domain = val.lower()


def _match_group(g: Group, p: BPost, text: str) -> bool:
    if g.every:
        return not any(ws <= p.words for ws in g.excluded)
    for ws in g.words:
        if not ws <= p.words:
            return False
    if g.phrases:
        flat = " ".join(re.findall(r"[a-z0-9]+", fold(text)))
        if not all(ph in flat for ph in g.phrases):
            return False
    for tag in g.tags:
        if tag not in _tags(p):
            return False
    return not any(ws <= p.words for ws in g.excluded)


def _tags(p: BPost) -> set[str]:
    return {
        fold(f["tag"])
        for facet in p.record.get("facets", [])
        for f in facet["features"]
        if f["$type"] == "app.bsky.richtext.facet#tag"
    }


def _links(p: BPost) -> list[str]:
    return [
        f["uri"]
        for facet in p.record.get("facets", [])
        for f in facet["features"]
        if f["$type"] == "app.bsky.richtext.facet#link"
    ]


def _passes(flt: Filters, p: BPost) -> bool:
    if flt.since is not None and p.ts < flt.since:
        return False
    if flt.until is not None and p.ts >= flt.until:
        return False
    if flt.author and p.author not in flt.author:
        return False
    if flt.mentions and not flt.mentions.intersection(p.mentions):
        return False
    if flt.lang is not None and flt.lang not in p.record.get("langs", []):
        return False
    if flt.tags and not all(fold(t) in _tags(p) for t in flt.tags):
        return False
    if flt.domain is not None and not any(_host(u) == flt.domain for u in _links(p)):
        return False
    return flt.url is None or flt.url in _links(p)


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")


def _filters(s: BskyState, q: Params) -> Filters:
    def did_of(ident: str) -> str | None:
        a = s.actor(ident, strict=False)
        return a.did if a is not None else None

    flt = Filters()
    for name in ("author", "mentions"):
        v = q.identifier(name)
        if v is not None:
            getattr(flt, name).add(did_of(v) or "did:plc:none")
    flt.lang = q.one("lang")
    for name in ("since", "until"):
        v = q.one(name)
        if v:
            setattr(flt, name, parse_when(name, v))
    flt.domain = (q.one("domain") or "").lower() or None
    flt.url = q.one("url")
    flt.tags = q.many("tag")
    return flt


def _candidates(s: BskyState, flt: Filters) -> list[BPost]:
    """The posts in the query's time range (up to now), from the mention index when it filters
    by mentions: a day's slice reads a day of posts, not the whole world."""
    hi = s.now_ms if flt.until is None else min(s.now_ms, flt.until - 1)
    lo = flt.since if flt.since is not None else 0
    if len(flt.mentions) == 1:
        (did,) = flt.mentions
        return s.world.in_range(lo, hi, mentioning=did)
    return s.world.in_range(lo, hi)


def hits(s: BskyState, q: Params, query: str, sort: str) -> list[BPost]:
    """Every visible post matching, in the order served (cached per request and now)."""
    key = (
        query,
        sort,
        tuple(sorted((k, tuple(v)) for k, v in q.raw.items() if k not in ("cursor", "limit"))),
        s.now_ms,
        id(s.faults),
    )
    found = s.searches.get(key)
    if found is not None:
        return found
    flt = _filters(s, q)
    groups = parse_query(query, flt, lambda h: a.did if (a := s.actor(h, strict=False)) else None)
    found = [
        p
        for p in _candidates(s, flt)
        if _passes(flt, p)
        and any(_match_group(g, p, p.record["text"]) for g in groups)
        and s.visible(p)
    ]
    if sort == "top":
        found.sort(key=lambda p: (-s.world.counts_at(p, s.now_ms).likes, -p.ts, p.uri))
    else:
        found.reverse()  # newest first
    s.searches[key] = found
    return found


def search_posts(s: BskyState, q: Params, *, authed: bool, cap: int = SEARCH_CAP) -> dict[str, Any]:
    query = q.one("q", required=True)
    assert query is not None
    limit = q.integer("limit", 25, 1, 100)
    sort = q.one("sort") or "latest"
    if sort not in ("top", "latest"):
        raise invalid("Error: sort must be one of top, latest")
    cursor = q.one("cursor")
    if cursor and not authed:
        raise auth_required("Authentication Required: log in to page through search results")
    offset = 0
    if cursor:
        if not cursor.isdigit():
            raise invalid("Malformed cursor")
        offset = int(cursor)
    found = hits(s, q, query, sort)
    end = min(offset + limit, len(found), cap)
    page = found[offset:end] if offset < end else []
    out: dict[str, Any] = {"hitsTotal": len(found), "posts": [post_view(s, p) for p in page]}
    if authed and page and end < min(len(found), cap):
        out["cursor"] = str(end)
    s.count_posts(len(page))
    return out
