"""The pharma-fr world reproduces the 2018 barometer, recomputed from its ground truth.

Independent of the HTTP layer: counts come straight from the world's posts and follower
series, the scoring (min–max, arithmetic means, PageRank) is re-implemented here.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from barometer.config import resolve_panel
from barometer.sim import calibration as cal
from barometer.sim.query import SearchIndex
from barometer.sim.world import DAY_MS, Post, World, build_world, day_ms, to_ms

W0, W1 = day_ms(cal.WINDOW_START), day_ms(cal.RUN_DATE) + DAY_MS
R0, R1 = day_ms(cal.REF_START), day_ms(cal.REF_DAY) + DAY_MS
AT = to_ms(cal.LAST_OBSERVATION)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(resolve_panel("pharma-fr"))


def served(p: Post) -> bool:
    # What the API serves at the last run: not deleted by then (deletions happen overnight).
    return p.deleted_ms is None or p.deleted_ms > AT


def brand_posts(world: World, b: str, lo: int, hi: int) -> list[Post]:
    return [p for p in world.brand_posts(b) if lo <= p.ts < hi and p.kind != "repost" and served(p)]


def observed(p: Post) -> int:
    f = min(1.0, max(0, AT - p.ts) / (3 * DAY_MS))
    return sum(math.floor(x * f) for x in (p.likes, p.reposts, p.replies, p.quotes))


def pagerank(edges: list[tuple[str, str]], d: float = 0.85, iters: int = 100) -> dict[str, float]:
    nodes = sorted({n for e in edges for n in e})
    ix = {n: i for i, n in enumerate(nodes)}
    n = len(nodes)
    out = np.zeros(n)
    src = np.array([ix[a] for a, _ in edges])
    dst = np.array([ix[b] for _, b in edges])
    np.add.at(out, src, 1)
    r = np.full(n, 1 / n)
    for _ in range(iters):
        contrib = np.zeros(n)
        np.add.at(contrib, dst, r[src] / out[src])
        dangling = r[out == 0].sum()
        r = (1 - d) / n + d * (contrib + dangling / n)
    return {k: float(r[i]) for k, i in ix.items()}


@pytest.fixture(scope="module")
def figures(world: World) -> dict[str, dict[str, float]]:
    panel = world.panel
    index = SearchIndex(world.posts, {u.id: u.username for u in world.users.values()})
    brand_uids = {u for ids in world.brand_accounts.values() for u in ids}
    handle_to_brand = {world.brand_user(b.id).username.lower(): b.id for b in panel.brands}
    days = [cal.WINDOW_START + timedelta(days=i) for i in range(cal.WINDOW_DAYS)]
    out: dict[str, dict[str, float]] = {}
    edges: list[tuple[str, str]] = []
    for b in panel.brands:
        u = world.brand_user(b.id)
        posts_w = brand_posts(world, b.id, W0, W1)
        posts_ref = brand_posts(world, b.id, R0, R1)
        matched = [world.posts[i] for i in index.positions(b.mention_query)]
        mentions = [p for p in matched if W0 <= p.ts < W1 and served(p) and p.author_id not in brand_uids]
        assert all(p.kind != "repost" for p in mentions)
        for p in mentions:
            edges.append((p.author_id, b.id))
        for p in posts_w:
            for h in (w[1:].rstrip(".,:;!?") for w in p.text.split() if w.startswith("@")):
                edges.append((b.id, handle_to_brand.get(h.lower(), h.lower())))
        mean_f = sum(u.followers_on[d] for d in days) / len(days)
        inter = sum(observed(p) for p in posts_w)
        out[b.id] = {
            "posts_w": len(posts_w),
            "posts_ref": len(posts_ref),
            "followers_end": u.followers_on[cal.RUN_DATE],
            "followers_ref": u.followers_on[cal.REF_DAY],
            "mentions": len(mentions),
            "reach": len({p.author_id for p in mentions}),
            "interactions": inter,
            "er": inter / (len(posts_w) * mean_f) * 100,
        }
    pr = pagerank(edges)
    for b in panel.brands:
        out[b.id]["centrality"] = pr.get(b.id, 0.0)
    return out


def scores(fig: dict[str, dict[str, float]]) -> dict[str, float]:
    ind = {
        "community": lambda f: math.log1p(f["followers_end"]),
        "community_growth": lambda f: math.log1p(f["followers_end"] / f["followers_ref"] - 1),
        "centrality": lambda f: f["centrality"],
        "content_volume": lambda f: math.log1p(f["posts_w"]),
        "mentions": lambda f: math.log1p(f["mentions"]),
        "mention_reach": lambda f: math.log1p(f["reach"]),
        "interactions": lambda f: math.log1p(f["interactions"]),
        "engagement_rate": lambda f: f["er"],
    }
    s: dict[str, dict[str, float]] = {b: {} for b in fig}
    for name, fn in ind.items():
        vals = {b: fn(f) for b, f in fig.items()}
        lo, hi = min(vals.values()), max(vals.values())
        for b, v in vals.items():
            s[b][name] = 50.0 if hi == lo else (v - lo) / (hi - lo) * 100
    attrs = {
        "relational": ("community", "community_growth", "centrality"),
        "expression": ("content_volume", "mentions", "mention_reach"),
        "engagement": ("interactions", "engagement_rate"),
    }
    return {b: sum(sum(s[b][i] for i in ids) / len(ids) for ids in attrs.values()) / 3 for b in fig}


def test_targets_exact(figures: dict[str, dict[str, float]]) -> None:
    for t in cal.PHARMA:
        f = figures[t.brand_id]
        assert f["posts_w"] == t.posts_w, t.brand_id
        assert f["posts_ref"] == t.posts_ref, t.brand_id
        assert f["followers_end"] == t.followers_end, t.brand_id
        assert f["followers_ref"] == t.followers_ref, t.brand_id
        assert f["mentions"] == t.mentions_w, t.brand_id
    assert figures["sanofi"]["interactions"] == 8341


def test_published_figures(figures: dict[str, dict[str, float]]) -> None:
    n = len(figures)
    mean_followers = sum(f["followers_end"] for f in figures.values()) / n
    assert round(mean_followers) == 6146
    assert figures["sanofi"]["followers_end"] / mean_followers == pytest.approx(2, abs=0.05)
    growth = [f["followers_end"] / f["followers_ref"] - 1 for f in figures.values()]
    assert round(sum(growth) / n * 100) == 62
    msd = figures["msd-france"]
    assert round((msd["followers_end"] / msd["followers_ref"] - 1) * 100) == 313
    assert round((msd["posts_w"] / msd["posts_ref"] - 1) * 100) == 98
    assert round(sum(f["posts_w"] for f in figures.values()) / n) == 207
    mean_mentions = sum(f["mentions"] for f in figures.values()) / n
    assert figures["sanofi"]["mentions"] / mean_mentions == pytest.approx(2.8, abs=0.25)
    assert round(sum(f["er"] for f in figures.values()) / n, 3) == 0.199


def test_leadership(figures: dict[str, dict[str, float]]) -> None:
    for key in ("followers_end", "centrality", "posts_w", "mentions", "reach", "interactions"):
        top = max(figures, key=lambda b, k=key: figures[b][k])  # type: ignore[misc]
        assert top == "sanofi", key
    by_mentions = sorted(figures, key=lambda b: -figures[b]["mentions"])
    assert by_mentions[1] == "msd-france"
    lead = scores(figures)
    ranking = sorted(lead, key=lambda b: (-lead[b], b))
    assert ranking[:2] == ["sanofi", "msd-france"]
    assert round(lead["sanofi"]) == 84
    assert min(figures, key=lambda b: figures[b]["er"]) == "gsk-france"
    assert max(figures, key=lambda b: figures[b]["er"]) == "msd-france"


def test_deterministic(world: World) -> None:
    a, b = world, build_world(resolve_panel("pharma-fr"), world.seed)
    assert [(p.id, p.author_id, p.text, p.likes, p.deleted_ms) for p in a.posts] == [
        (p.id, p.author_id, p.text, p.likes, p.deleted_ms) for p in b.posts
    ]
    assert {u: x.followers_on for u, x in a.users.items()} == {u: x.followers_on for u, x in b.users.items()}


def test_ids_grow_with_time(world: World) -> None:
    ids = [p.id for p in world.posts]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(str(i)) >= 18 for i in ids[:10])
    assert all(p.ts < W1 for p in world.posts)
    assert world.start == date(2016, 11, 1) and world.end == cal.RUN_DATE
    assert datetime(2018, 4, 30, tzinfo=UTC) <= world.posts[-1].created_at


def test_texts_carry_topic_keywords(world: World) -> None:
    from barometer.sim.texts import FAMILIES

    sample = world.posts[::97]
    for p in sample:
        if p.kind == "repost":
            continue
        kws = FAMILIES[p.family][1]
        assert any(k.lower() in p.text.lower() for k in kws), p.text
    sanofi = [p for p in world.brand_posts("sanofi") if p.kind != "repost"]
    share = sum(p.family in ("pathologies", "innovation", "causes") for p in sanofi) / len(sanofi)
    assert share > 0.8
    ments = world.mention_posts("sanofi")[:3000]
    share = sum(p.family in ("industrie", "scandales") for p in ments) / len(ments)
    assert share > 0.6


def test_other_panel_builds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from barometer.config import parse_panel

    panel = parse_panel(
        {
            "id": "tiny",
            "name": "Tiny",
            "brands": [
                {
                    "id": "acme",
                    "name": "Acme",
                    "accounts": [{"handle": "acme"}],
                    "mention_query": "(@acme OR acme) -is:retweet",
                },
                {
                    "id": "globex",
                    "name": "Globex Santé",
                    "accounts": [{"handle": "globex"}, {"handle": "globex_fr"}],
                    "mention_query": '(@globex OR "Globex Santé") -is:retweet',
                },
            ],
        }
    )
    w = build_world(panel, 1, end=date(2024, 6, 30))
    assert w.brand_posts("acme") and w.mention_posts("globex")
    index = SearchIndex(w.posts, {u.id: u.username for u in w.users.values()})
    assert index.positions(panel.brands[1].mention_query)
    assert build_world(panel, 1, end=date(2024, 6, 30)).posts[100].text == w.posts[100].text
