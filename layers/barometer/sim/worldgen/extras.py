"""Generation phases for the posts around the measured ones: health posts naming no brand
(which brands repost), retweets by others, and posts deleted the same night."""

from __future__ import annotations

import bisect

from barometer.sim.model import DAY_MS, Post
from barometer.sim.worldgen.draft import Draft
from barometer.sim.worldgen.draws import ri, rr, same_night, times


def add_noise(d: Draft) -> list[Post]:
    """Health posts naming no panel brand (what a brand-name query must not count)."""
    rng, nrng = d.rng, d.nrng
    noise: list[Post] = []
    n_all_mentions = sum(len(v) for v in d.mentions.values())
    n_noise = max(200, n_all_mentions // 30)
    for ts, ai in zip(
        times(nrng, d.start, d.end, n_noise, 0.6, 0).tolist(),
        nrng.integers(0, len(d.pool_ids), n_noise).tolist(),
        strict=True,
    ):
        t = d.texts.noise()
        noise.append(
            Post(
                ts,
                d.pool_ids[ai],
                t.text,
                "original",
                t.family,
                likes=ri(rng, 0, 30),
                reposts=ri(rng, 0, 8),
                impressions=ri(rng, 50, 5000),
            )
        )
    d.posts.extend(noise)
    return noise


def add_brand_reposts(d: Draft, noise: list[Post]) -> None:
    """Brands repost some recent noise posts (about 1 repost per 40 own posts)."""
    noise_ts = [p.ts for p in noise]
    for plan in d.plans:
        uid = d.brand_accounts[plan.brand_id][0]
        for seg_name, seg in d.segs.items():
            n = max(1, plan.posts.get(seg_name, 0) // 40)
            for ts in times(d.nrng, seg[0], seg[1], n, 0.3, 0).tolist():
                k = bisect.bisect_left(noise_ts, ts) - 1
                if k < 0:
                    continue
                src = noise[k - rr(d.rng, min(k + 1, 20))]
                author = d.users[src.author_id].username
                d.posts.append(
                    Post(
                        ts,
                        uid,
                        d.texts.retweet(author, src.text),
                        "repost",
                        src.family,
                        ref=src,
                        brand_id=plan.brand_id,
                    )
                )


def add_retweets(d: Draft) -> None:
    """Retweets by others of brand posts and of mentions (excluded by `-is:retweet`)."""
    rng, pool_ids = d.rng, d.pool_ids
    for plan in d.plans:
        handle = d.handle_of[d.brand_accounts[plan.brand_id][0]]
        for src in d.brand_posts[plan.brand_id]:
            for _ in range(min(src.reposts, 2)):
                ts = src.ts + ri(rng, 60_000, 2 * DAY_MS)
                ai = pool_ids[rr(rng, len(pool_ids))]
                d.posts.append(
                    Post(
                        ts,
                        ai,
                        d.texts.retweet(handle, src.text),
                        "repost",
                        src.family,
                        ref=src,
                        target=plan.brand_id,
                    )
                )
        for src in d.mentions[plan.brand_id][::25]:
            ts = src.ts + ri(rng, 60_000, DAY_MS)
            ai = pool_ids[rr(rng, len(pool_ids))]
            d.posts.append(
                Post(
                    ts,
                    ai,
                    d.texts.retweet(d.users[src.author_id].username, src.text),
                    "repost",
                    src.family,
                    ref=src,
                    target=plan.brand_id,
                )
            )


def add_deletions(d: Draft) -> None:
    """Extra posts removed the same night, before any daily collector run (05:00Z) sees them,
    so the calibrated counts hold whether the world is read daily or at the end."""
    rng, nrng, texts = d.rng, d.nrng, d.texts
    for plan, b in zip(d.plans, d.panel.brands, strict=True):
        uid = d.brand_accounts[plan.brand_id][0]
        n_del = max(2, sum(plan.mentions.values()) // 250)
        for ts in times(nrng, d.start, d.end, n_del, 0.6, 0).tolist():
            t = texts.mention(b.name if rng.random() < 0.5 else f"@{b.accounts[0].handle}")
            p = Post(ts, d.pool_ids[rr(rng, len(d.pool_ids))], t.text, "original", t.family, target=plan.brand_id)
            p.deleted_ms = same_night(ts, rng)
            d.posts.append(p)
        for ts in times(nrng, d.start, d.end, 2, 0.3, 0).tolist():
            t = texts.brand_post()
            p = Post(ts, uid, t.text, "original", t.family, brand_id=plan.brand_id, likes=3)
            p.deleted_ms = same_night(ts, rng)
            d.posts.append(p)
