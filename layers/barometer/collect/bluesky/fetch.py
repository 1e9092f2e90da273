"""The XRPC reads, through an atproto `Client`; every page is archived before it is parsed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from barometer.lake.store import Lake

PROFILES_PER_CALL = 25
POSTS_PER_CALL = 25
PAGE = 100
# The first page of an incremental feed read (the account was read before): a day brings a few
# items, and every item of a page is parsed, archived and validated by the SDK, used or not.
FIRST_INCREMENTAL_PAGE = 25
SEARCH_CAP = 10_000  # deep pagination of searchPosts stops near here: slice the period


class Stop(Exception):
    """The run must stop now (deadline, rate limit); what was read is kept."""


@dataclass
class Reader:
    client: Any
    lake: Lake
    raw_prefix: str  # raw/bluesky/panel=<p>/dt=<D>
    deadline: float | None = None  # time.monotonic() value
    requests: int = 0
    pages: list[str] = field(default_factory=list)

    def call(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Stop("deadline")
        ns, _, method = endpoint.rpartition(".")
        obj: Any = self.client
        for part in ns.split("."):
            obj = getattr(obj, part)
        fn = getattr(obj, "".join(f"_{c.lower()}" if c.isupper() else c for c in method))
        try:
            resp = fn(params=params)
        except Exception as e:
            status = getattr(getattr(e, "response", None), "status_code", None)
            if status == 429:
                raise Stop("rate limited (429)") from None
            raise
        finally:
            self.requests += 1
        page = resp.model_dump(mode="json", by_alias=True, exclude_none=True)
        # Archived before it is parsed: `barometer reparse` can rebuild rows without the API.
        key = f"{self.raw_prefix}/{len(self.pages):05d}-{endpoint}.json.gz"
        self.lake.put_json_gz(key, {"endpoint": endpoint, "params": params, "page": page})
        self.pages.append(key)
        return page

    def profiles(self, actors: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(actors), PROFILES_PER_CALL):
            out += self.call("app.bsky.actor.getProfiles", {"actors": actors[i:i + PROFILES_PER_CALL]})["profiles"]
        return out

    def author_feed(self, did: str, known: set[str], since: datetime) -> Iterator[dict[str, Any]]:
        """Feed items, newest first, until a known post or one created before `since`. With
        known posts, the first page is a small one (`FIRST_INCREMENTAL_PAGE`), the next ones full."""
        cursor = None
        limit = FIRST_INCREMENTAL_PAGE if known else PAGE
        while True:
            params = {"actor": did, "limit": limit, **({"cursor": cursor} if cursor else {})}
            limit = PAGE
            page = self.call("app.bsky.feed.getAuthorFeed", params)
            for item in page.get("feed", []):
                uri = item["post"]["uri"]
                created = (item["post"].get("record") or {}).get("createdAt") or item["post"].get("indexedAt", "")
                if uri in known and not item.get("reason"):
                    return
                if created and created[:19] < since.isoformat()[:19] and not item.get("reason"):
                    return
                yield item
            cursor = page.get("cursor")
            if not cursor or not page.get("feed"):
                return

    def posts(self, uris: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(uris), POSTS_PER_CALL):
            out += self.call("app.bsky.feed.getPosts", {"uris": uris[i:i + POSTS_PER_CALL]})["posts"]
        return out

    def search(self, params: dict[str, Any], since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Every post of searchPosts(params) in [since, until): the slice is halved while it
        meets the ~10,000-hit cap."""
        hits: list[dict[str, Any]] = []
        cursor = None
        while True:
            p = {**params, "since": _z(since), "until": _z(until), "sort": "latest", "limit": PAGE,
                 **({"cursor": cursor} if cursor else {})}
            page = self.call("app.bsky.feed.searchPosts", p)
            hits += page.get("posts", [])
            cursor = page.get("cursor")
            if not cursor or not page.get("posts"):
                return hits
            if len(hits) >= SEARCH_CAP - PAGE and until - since > timedelta(minutes=1):
                mid = since + (until - since) / 2
                return self.search(params, mid, until) + self.search(params, since, mid)


def _z(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.000Z")
