"""The Bluesky world, derived deterministically from the X world of the same panel.

Bluesky is younger and smaller: each brand gets a Bluesky account (the panel's Bluesky
handles, or `<brand id>.bsky.social` for a panel listing none) whose followers are a growing
share of its X followers; it cross-posts a share of its X posts (reposts included, as
`reasonRepost` items of its feed); a share of the posts mentioning it on X are also written
on Bluesky by the authors' Bluesky counterparts (`<x username>.bsky.social`), where an
`@handle` becomes a mention facet with the DID. Counts are the X post's, scaled down. Every
share is drawn from a hash of (seed, brand or post), so the world is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from barometer.config import Brand
from barometer.sim.bsky.ids import (
    POST_NSID,
    REPOST_NSID,
    at_uri,
    bsky_handle,
    cid_for,
    clock_id,
    did_for,
    hash_unit,
    iso,
    mix_unit,
    tid,
)
from barometer.sim.bsky.model import Actor, BPost, BskyWorld, Repost
from barometer.sim.bsky.text import convert, words
from barometer.sim.model import DAY_MS, Post, User, World, day_ms

ON_BLUESKY = 0.3  # share of X users who also have a Bluesky account
NOISE_SHARE = 0.2  # share of posts naming no brand (by users on Bluesky) written there too


@dataclass(frozen=True)
class BrandShares:
    followers_end: float  # Bluesky followers / X followers at the end of the world
    followers_start: float  # … at its start (the share grows: Bluesky is younger)
    posts: float  # share of the brand's X posts it also posts on Bluesky
    engagement: float  # Bluesky counts / X counts on its posts
    mentions: float  # share of the X posts mentioning it written on Bluesky


def brand_shares(seed: int, brand_id: str) -> BrandShares:
    def u(name: str) -> float:
        return hash_unit(seed, brand_id, name)

    end = 0.06 + 0.22 * u("followers")
    return BrandShares(
        end,
        end * (0.25 + 0.35 * u("growth")),
        0.35 + 0.4 * u("posts"),
        0.15 + 0.35 * u("engagement"),
        0.08 + 0.17 * u("mentions"),
    )


def bsky_handles(brand: Brand, any_bluesky: bool) -> list[str]:
    """The brand's Bluesky handles (a DID in the panel names `<brand id>.bsky.social`)."""
    if not any_bluesky:
        return [f"{brand.id}.bsky.social"]
    return [
        a.handle if not a.handle.startswith("did:") else f"{brand.id}.bsky.social" for a in brand.accounts_on("bluesky")
    ]


class _Builder:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.actors: dict[str, Actor] = {}
        self.brand_accounts: dict[str, list[str]] = {}
        self.did_of_user: dict[str, str] = {}  # X user id → DID (users on Bluesky)
        self.handle_of_user: dict[str, str] = {}
        self.shares: dict[str, BrandShares] = {}
        self.brand_of_user: dict[str, str] = {}
        self.bposts: dict[int, BPost] = {}  # X post id → its Bluesky post
        self._refs: dict[int, tuple[str, str]] = {}
        self._taken: set[str] = set()  # handles in use
        self._on: dict[str, bool] = {}

    # -- accounts ------------------------------------------------------------------------------
    def add_brands(self) -> None:
        panel = self.world.panel
        any_bluesky = any("bluesky" in b.networks for b in panel.brands)
        for b in panel.brands:
            handles = bsky_handles(b, any_bluesky)
            if not handles:
                continue
            x_ids = [
                uid
                for acc, uid in zip(b.accounts, self.world.brand_accounts.get(b.id, []), strict=False)
                if acc.network == "x"
            ] or list(self.world.brand_accounts.get(b.id, []))[:1]
            sh = self.shares[b.id] = brand_shares(self.seed, b.id)
            dids = []
            for k, handle in enumerate(handles):
                src = self.world.users.get(x_ids[k]) if k < len(x_ids) else None
                did = did_for(handle)
                configured = [a.handle for a in b.accounts_on("bluesky")]
                if k < len(configured) and configured[k].startswith("did:"):
                    did = configured[k]
                self.actors[did] = self._brand_actor(b, k, handle, did, src, sh)
                self._taken.add(handle)
                dids.append(did)
                if src is not None:
                    self.did_of_user[src.id] = did
                    self.handle_of_user[src.id] = handle
                    self.brand_of_user[src.id] = b.id
            self.brand_accounts[b.id] = dids

    def _brand_actor(self, b: Brand, k: int, handle: str, did: str, src: User | None, sh: BrandShares) -> Actor:
        w = self.world
        span = max(1, (w.end - w.start).days)
        scale = 1.0 if k == 0 else 0.1
        series: dict[date, int] = {}
        if src is not None:
            for d, v in src.followers_on.items():
                f = (d - w.start).days / span
                share = sh.followers_start + (sh.followers_end - sh.followers_start) * f
                series[d] = max(1, round(v * share * scale))
        followers = series.get(w.end, 100 + int(900 * hash_unit(self.seed, did, "f")))
        return Actor(
            did,
            handle,
            b.name if k == 0 else f"{b.name} ({handle})",
            f"Compte officiel {b.name} sur Bluesky.",
            (src.created_ms if src else day_ms(w.start)) + 400 * DAY_MS,
            followers,
            int((src.following if src else 300) * 0.3),
            int((src.tweets_before if src else 500) * sh.posts * 0.2),
            b.id,
            series,
        )

    def user_did(self, u: User) -> str:
        """The DID of an X user's Bluesky counterpart (created on first use)."""
        did = self.did_of_user.get(u.id)
        if did is not None:
            return did
        handle = bsky_handle(u.username)
        n = 2
        while handle in self._taken:
            handle = bsky_handle(f"{u.username}{n}")
            n += 1
        self._taken.add(handle)
        did = did_for(handle)
        self.did_of_user[u.id] = did
        self.handle_of_user[u.id] = handle
        f = 0.05 + 0.3 * hash_unit(self.seed, u.id, "followers")
        self.actors[did] = Actor(
            did,
            handle,
            u.name,
            u.description,
            u.created_ms,
            int(u.followers * f),
            int(u.following * f) + 1,
            int(u.tweets_before * 0.05),
            None,
        )
        return did

    def on_bluesky(self, u: User) -> bool:
        """Whether an X user has a Bluesky account (a brand's: only those the panel lists)."""
        if u.id in self.did_of_user:
            return True
        on = self._on.get(u.id)
        if on is None:
            on = self._on[u.id] = u.brand_id is None and hash_unit(self.seed, u.id, "on") < ON_BLUESKY
        return on

    # -- posts ---------------------------------------------------------------------------------
    def chosen(self) -> list[Post]:
        """The X posts written on Bluesky too (reposts: those of brand accounts)."""
        keep: dict[int, Post] = {}
        for p in self.world.posts:
            brand = self.brand_of_user.get(p.author_id)
            u = mix_unit(self.seed, p.id, 1)
            if brand is not None:
                if u < self.shares[brand].posts:
                    keep[p.id] = p
                    if p.kind == "repost" and p.ref is not None:
                        keep.setdefault(p.ref.id, p.ref)  # the subject must exist
            elif p.kind == "repost" or p.brand_id is not None or p.author_id not in self.world.users:
                continue  # others' reposts; a brand's X-only accounts
            elif p.target is not None and p.target in self.shares:
                if u < self.shares[p.target].mentions:
                    keep[p.id] = p
            elif u < NOISE_SHARE and self.on_bluesky(self.world.users[p.author_id]):
                keep[p.id] = p
        return sorted(keep.values(), key=lambda p: p.id)

    def ref(self, p: Post) -> tuple[str, str]:
        """(uri, cid) of the Bluesky post an X post is (or would be)."""
        hit = self._refs.get(p.id)
        if hit is None:
            u = self.world.users[p.author_id]
            # The author of a post outside the Bluesky world (replied to, quoted) need not be on
            # Bluesky: the reference then names a record that does not exist.
            did = self.user_did(u) if self.on_bluesky(u) else did_for(bsky_handle(u.username))
            rkey = tid(p.ts * 1000 + p.id % 1000, clock_id(did))
            uri = at_uri(did, POST_NSID, rkey)
            hit = self._refs[p.id] = (uri, cid_for(f"{uri}\n{p.text}"))
        return hit

    def resolve(self, username: str) -> tuple[str, str] | None:
        u = self.world.user_by_handle(username)
        if u is None or not self.on_bluesky(u):
            return None
        did = self.user_did(u)
        return self.handle_of_user[u.id], did

    def make_post(self, p: Post) -> BPost:
        did = self.user_did(self.world.users[p.author_id])
        uri, cid = self.ref(p)
        text, facets, mentions = convert(p.text, self.resolve)
        record: dict[str, object] = {"$type": POST_NSID, "text": text, "createdAt": iso(p.ts), "langs": [p.lang]}
        if facets:
            record["facets"] = facets
        kind = p.kind
        quoted = parent = None
        if p.kind == "reply" and p.ref is not None:
            root = p.ref
            while root.kind == "reply" and root.ref is not None:
                root = root.ref
            pu, pc = self.ref(p.ref)
            ru, rc = self.ref(root)
            record["reply"] = {"root": {"uri": ru, "cid": rc}, "parent": {"uri": pu, "cid": pc}}
            parent = self.bposts.get(p.ref.id)
        elif p.kind == "quote":
            qu, qc = self.ref(p.ref) if p.ref is not None else self._orphan(p)
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": qu, "cid": qc}}
            quoted = self.bposts.get(p.ref.id) if p.ref is not None else None
        elif p.kind != "original":
            kind = "original"
        brand = self.brand_of_user.get(p.author_id)
        scale = self.shares[brand].engagement if brand else 0.1 + 0.3 * mix_unit(self.seed, p.id, 2)
        target = p.target if p.target in self.shares else None
        return BPost(
            p.ts,
            did,
            uri.rsplit("/", 1)[1],
            uri,
            cid,
            record,
            kind,
            p,
            scale,
            mentions,
            quoted,
            parent,
            p.deleted_ms,
            brand,
            target,
            words(text),
        )

    def _orphan(self, p: Post) -> tuple[str, str]:
        """A quoted post outside the world: a reference that does not resolve."""
        did = did_for(f"gone-{p.id % 997}.bsky.social")
        uri = at_uri(did, POST_NSID, tid(p.ts * 1000 - 86_400_000_000, clock_id(did)))
        return uri, cid_for(uri)

    def repost(self, p: Post) -> Repost:
        by = self.did_of_user[p.author_id]
        assert p.ref is not None
        rkey = tid(p.ts * 1000 + p.id % 1000, clock_id(by))
        uri = at_uri(by, REPOST_NSID, rkey)
        return Repost(p.ts, by, self.bposts[p.ref.id], uri, cid_for(uri))


def build_bsky_world(world: World, seed: int | None = None) -> BskyWorld:
    """The Bluesky world of `world`'s panel (deterministic from the X world and the seed)."""
    seed = world.seed if seed is None else seed
    b = _Builder(world, seed)
    b.add_brands()
    posts: list[BPost] = []
    reposts: list[Repost] = []
    for p in b.chosen():
        if p.kind == "repost":
            if p.ref is not None and p.ref.id in b.bposts:
                reposts.append(b.repost(p))
            continue
        bp = b.make_post(p)
        b.bposts[p.id] = bp
        posts.append(bp)
    posts.sort(key=lambda q: (q.ts, q.uri))
    reposts.sort(key=lambda r: (r.ts, r.uri))
    return BskyWorld(seed, world.start, world.end, b.actors, posts, reposts, b.brand_accounts)
