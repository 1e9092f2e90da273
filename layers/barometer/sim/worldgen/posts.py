"""Generation phases for the posts the barometer measures: the brands' own, and mentions of
the brands by others (with the brands' replies to them)."""

from __future__ import annotations

import bisect
from datetime import date

from barometer.config import Brand
from barometer.sim.model import Post, from_ms
from barometer.sim.worldgen.draft import Draft
from barometer.sim.worldgen.draws import ri, rr, times
from barometer.sim.worldgen.plans import Plan


def add_brand_posts(d: Draft) -> None:
    """Brand posts, originals/replies/quotes; reposts and same-night deletions are extras."""
    rng, texts = d.rng, d.texts
    for plan in d.plans:
        uid = d.brand_accounts[plan.brand_id][0]
        own: list[Post] = []
        for seg_name, seg in d.segs.items():
            n = plan.posts.get(seg_name, 0)
            for ts in times(d.nrng, seg[0], seg[1], n, 0.25, 2).tolist():
                r = rng.random()
                if r < 0.10:
                    # Text and target are set once mentions exist (a reply answers one).
                    t = texts.brand_quote()
                    p = Post(ts, uid, t.text, "reply", t.family, brand_id=plan.brand_id)
                elif r < 0.17:
                    t = texts.brand_quote()
                    p = Post(ts, uid, t.text, "quote", t.family, brand_id=plan.brand_id)
                else:
                    t = texts.brand_post()
                    text = t.text
                    if rng.random() < 0.25:
                        text = f"{text} @{d.handle_of[rng.choice(d.inst_ids)]}"
                    p = Post(ts, uid, text, "original", t.family, brand_id=plan.brand_id)
                own.append(p)
        _set_brand_metrics(d, plan, own, d.users[uid].followers_on)
        d.brand_posts[plan.brand_id] = own
        d.posts.extend(own)


def _set_brand_metrics(d: Draft, plan: Plan, own: list[Post], followers: dict[date, int]) -> None:
    # Final metrics: a lognormal appeal per post; rescaled later when calibrated.
    appeal = d.nrng.lognormal(0, 0.9, len(own))
    base = max(2.0, 0.0017 * plan.followers_end)
    for p, a in zip(own, appeal.tolist(), strict=True):
        tot = base * a
        p.likes = int(tot * 0.66)
        p.reposts = int(tot * 0.22)
        p.replies = int(tot * 0.07)
        p.quotes = int(tot * 0.05)
        p.bookmarks = int(tot * 0.03)
        day = min(max(from_ms(p.ts).date(), d.start), d.end)
        p.impressions = int(followers[day] * d.rng.uniform(0.04, 0.25) + tot * 35)


def add_mentions(d: Draft) -> None:
    """Mentions by others (originals, replies to the brand, quotes of its posts), then the
    brand's replies, brand by brand."""
    for plan, b in zip(d.plans, d.panel.brands, strict=True):
        out = _brand_mentions(d, plan, b)
        d.mentions[plan.brand_id] = out
        d.posts.extend(out)
        _answer_mentions(d, d.brand_posts[plan.brand_id], out)


def _brand_mentions(d: Draft, plan: Plan, b: Brand) -> list[Post]:
    rng, nrng, texts = d.rng, d.nrng, d.texts
    handle = b.accounts[0].handle
    weights = d.activity * nrng.lognormal(0, 1.0, len(d.pool_ids))
    weights /= weights.sum()
    bposts = d.brand_posts[plan.brand_id]
    bts = [p.ts for p in bposts]
    out: list[Post] = []
    for seg_name, seg in d.segs.items():
        n = plan.mentions.get(seg_name, 0)
        ts_arr = times(nrng, seg[0], seg[1], n, 0.6, 6)
        authors = nrng.choice(len(d.pool_ids), size=n, p=weights)
        for ts, ai in zip(ts_arr.tolist(), authors.tolist(), strict=True):
            author = d.pool_ids[ai]
            r = rng.random()
            k = bisect.bisect_left(bts, ts) - 1
            if r < 0.10 and k >= 0:
                src = bposts[max(0, k - rr(rng, 5))]
                t = texts.mention_reply(handle)
                p = Post(
                    ts,
                    author,
                    t.text,
                    "reply",
                    t.family,
                    ref=src,
                    in_reply_to_user_id=src.author_id,
                    target=plan.brand_id,
                )
            else:
                ref = f"@{handle}" if rng.random() < 0.55 else b.name
                t = texts.mention(ref)
                if r < 0.16 and k >= 0:
                    src = bposts[max(0, k - rr(rng, 5))]
                    p = Post(ts, author, t.text, "quote", t.family, ref=src, target=plan.brand_id)
                else:
                    p = Post(ts, author, t.text, "original", t.family, target=plan.brand_id)
            out.append(p)
    return out


def _answer_mentions(d: Draft, bposts: list[Post], mentions: list[Post]) -> None:
    # Brand replies answer the latest mention before them (a question from the community).
    mts = [p.ts for p in mentions]
    for p in bposts:
        if p.kind != "reply":
            continue
        k = bisect.bisect_left(mts, p.ts) - 1
        if k < 0:
            p.kind = "original"
            continue
        src = mentions[k]
        t = d.texts.brand_reply(d.users[src.author_id].username)
        p.text, p.family, p.ref, p.in_reply_to_user_id = t.text, t.family, src, src.author_id


def set_mention_metrics(d: Draft) -> None:
    """Mentions' metrics: a few popular, most barely seen (negative binomial likes)."""
    n_all_mentions = sum(len(v) for v in d.mentions.values())
    if not n_all_mentions:
        return
    likes = d.nrng.negative_binomial(0.6, 0.25, n_all_mentions)
    i = 0
    for out in d.mentions.values():
        for p in out:
            lk = int(likes[i])
            i += 1
            p.likes = lk
            p.reposts = lk // 3
            p.replies = lk // 5
            p.quotes = lk // 12
            p.impressions = lk * 40 + ri(d.rng, 5, 400)
