"""`barometer sim generate`: a synthetic lake written directly (no HTTP), fast and deterministic.

For benchmarks and scale tests: N brands over D days, with the same tables, schemas and layout
the collector writes (`Lake.write_partition`, one partition per table per day):

- `accounts`: one snapshot per brand per day (one account per brand); by default the snapshots
  also cover the year before the first day, so the year-on-year growth reference exists.
- `posts`: brand posts (about `posts_per_brand_day` a day, skewed across brands), each observed
  in a few runs (the day it was created, the next day and six days later, as the collector's
  refresh of young posts does), with metrics growing between observations.
- `mentions`: `mentions_per_day` posts by others a day in total, skewed across brands (Zipf),
  by authors drawn (skewed) from a large author pool, each mentioning its brand and sometimes
  another brand or another author; one observation each.
- `mention_counts`: brand × day, equal to the mention rows of that day (no sampling).

Everything is vectorised (numpy → Arrow, string columns by `take` from small pools or by casting
integer ids), so 1,000 brands × 365 days × 28k mentions a day (≈ 10 M mentions, ≈ 1 M posts)
generate in well under two minutes. A day's rows depend only on (seed, table, day), never on
the order of generation, so the output is deterministic.

The synthetic panel (`build_panel`) is written next to the tables as `panels/<panel_id>.yaml`
inside the lake, and returned, so the scorer can run on it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from barometer.config import Panel, parse_panel
from barometer.lake.store import Lake
from barometer.sim.world import TWEPOCH_MS

NETWORK = "x"
RUN_HOUR_UTC = 5  # a run for D reads at D+1 05:00 UTC (see docs/contracts.md)
MS_PER_DAY = 86_400_000
EPOCH = date(1970, 1, 1)
# Days after creation on which a brand post is observed (created day, next day, end of refresh).
OBSERVATION_OFFSETS = (0, 1, 6)
# Share of the final metrics a post has reached at each observation.
OBSERVATION_SHARE = (0.45, 0.8, 1.0)
POST_KINDS = ("original", "reply", "quote", "repost")
POST_KIND_P = (0.72, 0.13, 0.05, 0.10)
MENTION_KINDS = ("original", "reply", "quote")
MENTION_KIND_P = (0.6, 0.3, 0.1)
LANGS = ("fr", "en", "es", "de")
LANG_P = (0.7, 0.2, 0.05, 0.05)
_FALLBACK_TOPICS = ("cancer", "diabete", "recherche", "reglementation", "prix_medicaments", "scandale")
_WORDS = (
    "santé", "patients", "recherche", "innovation", "essai", "clinique", "cancer", "diabète", "asthme",
    "vaccin", "traitement", "médicament", "prix", "marché", "accès", "hôpital", "médecins", "soins",
    "prévention", "dépistage", "données", "numérique", "laboratoire", "emploi", "usine", "France",
    "Europe", "étude", "résultats", "annonce", "partenariat", "engagement", "maladie", "rare",
    "thérapie", "génique", "biotech", "startup", "régulation", "pénurie", "rappel", "lots", "scandale",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SynthSpec:
    """What to generate. `days` counts the days of posts and mentions, ending on `end_date`."""

    brands: int = 1000
    days: int = 365
    mentions_per_day: int = 28_000
    posts_per_brand_day: float = 3.0
    end_date: date = date(2025, 6, 30)
    panel_id: str = "synth"
    seed: int = 42
    authors: int | None = None  # author pool size; default scales with the mention volume
    reference_year: bool = True  # account snapshots for the 366 days before the first day too
    window_days: int | None = None  # the synthetic panel's scoring window (default min(days, 365))

    @property
    def first_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def author_pool(self) -> int:
        if self.authors is not None:
            return self.authors
        return int(max(1_000, min(5_000_000, self.mentions_per_day * self.days // 10)))

    def key(self) -> str:
        """A short string naming these parameters (cache keys)."""
        return (f"b{self.brands}-d{self.days}-m{self.mentions_per_day}-p{self.posts_per_brand_day:g}"
                f"-e{self.end_date.isoformat()}-s{self.seed}-a{self.author_pool}"
                f"-r{int(self.reference_year)}-w{self.window_days or 0}-{self.panel_id}-{ID_SCHEME}")


@dataclass
class SynthResult:
    panel: Panel
    panel_path: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    seconds: float = 0.0


# -- the panel -------------------------------------------------------------------------------
def brand_id(i: int) -> str:
    return f"b{i:05d}"


def brand_handle(i: int) -> str:
    return f"synth{i:05d}"


def build_panel(n_brands: int, panel_id: str = "synth", window_days: int = 182,
                growth_reference: str = "yoy", sensitivity_draws: int = 200,
                first_date: date | None = None) -> Panel:
    """A synthetic panel of `n_brands` brands, one X account each (ids b00000…, @synth00000…)."""
    data: dict[str, Any] = {
        "id": panel_id,
        "name": f"Synthetic panel ({n_brands} brands)",
        "description": "Generated by `barometer sim generate` for benchmarks and scale tests.",
        "language": "fr",
        # The synthetic rows carry topic ids of the pharma taxonomy (`_topic_ids`): the panel
        # names it, so the scorer never re-tags them from the texts.
        "topics": "pharma",
        "scoring": {"window_days": window_days, "growth_reference": growth_reference,
                    "sensitivity_draws": sensitivity_draws},
        "brands": [
            {"id": brand_id(i), "name": f"Marque {i:05d}", "accounts": [{"handle": brand_handle(i)}],
             "mention_query": f"(@{brand_handle(i)} OR \"Marque {i:05d}\") -is:retweet"}
            for i in range(n_brands)
        ],
    }
    if first_date is not None:
        data["first_date"] = first_date.isoformat()
    return parse_panel(data, f"<synthetic panel {panel_id}>")


def panel_yaml(panel: Panel) -> str:
    return yaml.safe_dump(panel.model_dump(mode="json", exclude_defaults=False), sort_keys=False,
                          allow_unicode=True)


# -- vectorised helpers ----------------------------------------------------------------------
def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def _day_ms(d: date) -> int:
    return (d - EPOCH).days * MS_PER_DAY


# Ids as X makes them (snowflakes: creation time in ms since X's epoch, then 22 low bits), so
# the lake's ids spread like the real ones do (the scorer's id handling is measured on those,
# not on a compact counter). The low bits keep ids unique: brand posts use 0..2^21 (their
# index), mentions 2^21 and up (their index within the day), authors their index.
ID_SCHEME = "i2"  # part of the cache key: lakes written with other ids are not reused
_LOW = (1 << 21) - 1


def _snowflakes(ms: np.ndarray, low: np.ndarray) -> np.ndarray:
    return ((ms.astype(np.int64) - TWEPOCH_MS) << 22) | low.astype(np.int64)


def _ids(prefix: str, ints: np.ndarray) -> pa.Array:
    """Strings `prefix + str(i)`, vectorised."""
    digits = pc.cast(pa.array(ints, pa.int64()), pa.string())
    if not prefix:
        return digits
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _list_column(idx: np.ndarray, pool: pa.Array) -> pa.Array:
    """A list<string> column from a (rows, k) index matrix into `pool` (-1 = no element)."""
    lengths = (idx >= 0).sum(axis=1)
    offsets = np.zeros(len(idx) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = idx[idx >= 0]  # row-major: keeps each row's order
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pool.take(pa.array(flat)))


def _ts(ms: np.ndarray) -> pa.Array:
    return pa.array(ms.astype(np.int64), pa.int64()).cast(pa.timestamp("ms"))


def _const_ts(d: date, n: int, hour: int = RUN_HOUR_UTC) -> pa.Array:
    return _ts(np.full(n, _day_ms(d + timedelta(days=1)) + hour * 3_600_000, dtype=np.int64))


def _topic_ids() -> tuple[str, ...]:
    try:
        from barometer.topics import DATA_PATH

        data = yaml.safe_load(Path(DATA_PATH).read_text(encoding="utf-8"))
        ids = tuple(t for fam in data["families"].values() for t in fam["topics"])
        return ids or _FALLBACK_TOPICS
    except Exception:  # the taxonomy is optional for synthetic data
        return _FALLBACK_TOPICS


def _topics_idx(rng: np.random.Generator, n: int, n_topics: int, p_one: float, p_two: float) -> np.ndarray:
    """(n, 2) topic indices: none, one or two distinct topics per row."""
    u = rng.random(n)
    first = rng.integers(0, n_topics, n)
    second = (first + 1 + rng.integers(0, n_topics - 1, n)) % n_topics if n_topics > 1 else first
    out = np.full((n, 2), -1, dtype=np.int64)
    has1 = u < p_one + p_two
    has2 = u < p_two
    out[has1, 0] = first[has1]
    out[has2, 1] = second[has2]
    return out


class _Pools:
    """Per-lake constants: brand shares, follower curves, string pools."""

    def __init__(self, spec: SynthSpec) -> None:
        n = spec.brands
        rng = _rng(spec.seed, 0)
        self.n = n
        self.brand_ids = pa.array([brand_id(i) for i in range(n)])
        self.handles = pa.array([brand_handle(i) for i in range(n)])
        self.names = pa.array([f"Marque {i:05d}" for i in range(n)])
        self.account_ids = _ids("", 10_000_000_000 + np.arange(n))
        # Mention share: Zipf over a random order of the brands.
        order = rng.permutation(n)
        zipf = 1.0 / np.power(np.arange(1, n + 1), 0.9)
        self.mention_p = np.empty(n)
        self.mention_p[order] = zipf / zipf.sum()
        # Posting rate: log-normal around the mean, mean preserved.
        rate = rng.lognormal(0.0, 0.6, n)
        self.post_rate = rate / rate.mean() * spec.posts_per_brand_day
        # Followers: base (log-normal) and a yearly growth rate (-10 % .. +120 %).
        self.followers0 = np.round(rng.lognormal(8.5, 1.3, n)) + 50
        self.growth = rng.uniform(-0.1, 1.2, n)
        self.engagement = rng.lognormal(0.0, 0.5, n)  # per-brand interaction multiplier
        # Authors: ids, handles, followers.
        a = spec.author_pool
        self.n_authors = a
        # accounts created 2011-2024, in their own random stream (the others stay as they were)
        created = np.sort(_rng(spec.seed, 9).integers(_day_ms(date(2011, 1, 1)), _day_ms(date(2024, 1, 1)), a))
        self.author_ids = _ids("", _snowflakes(created, np.arange(a) & ((1 << 22) - 1)))
        self.author_handles = _ids("u", np.arange(a))
        self.author_followers = np.round(rng.lognormal(4.5, 1.6, a)).astype(np.int64)
        # Handles a post can mention: the brands first, then the authors.
        self.mentionable = pa.concat_arrays([self.handles, self.author_handles])
        self.mentionable_ids = pa.concat_arrays([self.account_ids, self.author_ids])  # same order
        self.topics = pa.array(_topic_ids())
        texts = []
        for i in range(512):
            k = 6 + i % 14
            words = rng.choice(len(_WORDS), k)
            texts.append(" ".join(_WORDS[w] for w in words) + f" #{_WORDS[i % len(_WORDS)]}")
        self.texts = pa.array(texts)
        self.kinds = pa.array(POST_KINDS)
        self.langs = pa.array(LANGS)
        self.network = pa.array([NETWORK])

    def followers(self, day_index: np.ndarray | int, spec: SynthSpec) -> np.ndarray:
        """Followers of every brand on a day (index from the first day; may be negative)."""
        t = (np.asarray(day_index, dtype=np.float64) + 400.0) / 365.0
        base = self.followers0 * np.power(1.0 + self.growth, t)
        rng = _rng(spec.seed, 1, int(np.asarray(day_index).item()) + 10_000)
        noise = rng.normal(0.0, 0.002, self.n)
        return np.maximum(1, np.round(base * (1.0 + noise))).astype(np.int64)

    def pick_authors(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """Skewed author draw: a few prolific authors, a long tail."""
        return np.minimum(self.n_authors - 1, (self.n_authors * rng.random(k) ** 2.2).astype(np.int64))


# -- tables ----------------------------------------------------------------------------------
def _accounts(pools: _Pools, spec: SynthSpec, d: date) -> pa.Table:
    n = pools.n
    idx = (d - spec.first_date).days
    followers = pools.followers(idx, spec)
    rng = _rng(spec.seed, 2, idx + 10_000)
    return pa.table({
        "brand_id": pools.brand_ids,
        "network": pa.array([NETWORK] * n),
        "account_id": pools.account_ids,
        "handle": pools.handles,
        "name": pools.names,
        "status": pa.array(["ok"] * n),
        "followers": followers,
        "following": (pools.followers0 // 20 + 100).astype(np.int64),
        "posts_count": np.round(pools.post_rate * (idx + 2000) + rng.integers(0, 3, n)).astype(np.int64),
        "listed": (followers // 150).astype(np.int64),
        "collected_at": _const_ts(d, n),
    })


@dataclass
class _Posts:
    """Every brand post of the range, sorted by creation day; `start[k]` = first row of day k."""

    brand: np.ndarray
    created_ms: np.ndarray
    kind: np.ndarray
    final: np.ndarray  # (P, 4) final likes, reposts, replies, quotes
    impressions: np.ndarray
    text: np.ndarray
    lang: np.ndarray
    handles: np.ndarray  # (P, 2) into pools.mentionable
    topics: np.ndarray  # (P, 2) into pools.topics
    start: np.ndarray
    ids: np.ndarray


def _all_posts(pools: _Pools, spec: SynthSpec) -> _Posts:
    rng = _rng(spec.seed, 3)
    counts = rng.poisson(np.tile(pools.post_rate, (spec.days, 1)))  # (days, brands)
    per_day = counts.sum(axis=1)
    start = np.zeros(spec.days + 1, dtype=np.int64)
    np.cumsum(per_day, out=start[1:])
    brand = np.concatenate([np.repeat(np.arange(pools.n), counts[k]) for k in range(spec.days)])
    p = len(brand)
    day = np.repeat(np.arange(spec.days), per_day)
    created = _day_ms(spec.first_date) + day * MS_PER_DAY + rng.integers(0, MS_PER_DAY, p)
    kind = rng.choice(len(POST_KINDS), p, p=POST_KIND_P)
    scale = pools.engagement[brand] * np.sqrt(pools.followers0[brand]) * 0.4
    final = np.stack([rng.poisson(scale * m) for m in (1.0, 0.25, 0.08, 0.03)], axis=1).astype(np.int64)
    impressions = (final.sum(axis=1) * rng.uniform(30, 90, p)).astype(np.int64)
    handles = np.full((p, 2), -1, dtype=np.int64)
    u = rng.random(p)
    other_brand = rng.choice(pools.n, p, p=pools.mention_p)
    handles[u < 0.25, 0] = other_brand[u < 0.25]  # a brand post mentions another brand
    ext = u > 0.75
    handles[ext, 1] = pools.n + pools.pick_authors(rng, int(ext.sum()))  # ... or an author
    return _Posts(
        brand=brand, created_ms=created, kind=kind, final=final, impressions=impressions,
        text=rng.integers(0, len(pools.texts), p), lang=rng.choice(len(LANGS), p, p=LANG_P),
        handles=handles, topics=_topics_idx(rng, p, len(pools.topics), 0.4, 0.15), start=start,
        ids=_snowflakes(created, np.arange(p) & _LOW),
    )


def _posts(pools: _Pools, spec: SynthSpec, posts: _Posts, d: date) -> pa.Table:
    k = (d - spec.first_date).days
    parts = []
    for off, frac in zip(OBSERVATION_OFFSETS, OBSERVATION_SHARE, strict=True):
        c = k - off
        if 0 <= c < spec.days:
            parts.append((np.arange(posts.start[c], posts.start[c + 1]), frac))
    rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
    share = np.concatenate([np.full(len(r), f) for r, f in parts]) if parts else np.zeros(0)
    n = len(rows)
    metrics = np.floor(posts.final[rows] * share[:, None]).astype(np.int64)
    brand = posts.brand[rows]
    brand_arr = pa.array(brand)
    return pa.table({
        "post_id": _ids("", posts.ids[rows]),
        "brand_id": pools.brand_ids.take(brand_arr),
        "network": pa.array([NETWORK] * n),
        "account_id": pools.account_ids.take(brand_arr),
        "created_at": _ts(posts.created_ms[rows]),
        "kind": pools.kinds.take(pa.array(posts.kind[rows])),
        "text": pools.texts.take(pa.array(posts.text[rows])),
        "lang": pools.langs.take(pa.array(posts.lang[rows])),
        "likes": metrics[:, 0],
        "reposts": metrics[:, 1],
        "replies": metrics[:, 2],
        "quotes": metrics[:, 3],
        "impressions": np.floor(posts.impressions[rows] * share).astype(np.int64),
        "mentioned_handles": _list_column(posts.handles[rows], pools.mentionable),
        "topics": _list_column(posts.topics[rows], pools.topics),
        "deleted": pa.array(np.zeros(n, dtype=bool)),
        "observed_at": _const_ts(d, n),
    })


def _mentions(pools: _Pools, spec: SynthSpec, d: date) -> tuple[pa.Table, np.ndarray]:
    k = (d - spec.first_date).days
    rng = _rng(spec.seed, 4, k)
    # A brand's daily volume wobbles around its share (±30 %), the day's total stays exact.
    p = pools.mention_p * rng.uniform(0.7, 1.3, pools.n)
    counts = rng.multinomial(spec.mentions_per_day, p / p.sum())
    m = int(counts.sum())
    brand = np.repeat(np.arange(pools.n), counts)
    authors = pools.pick_authors(rng, m)
    created = _day_ms(d) + np.sort(rng.integers(0, MS_PER_DAY, m))
    kind = rng.choice(len(MENTION_KINDS), m, p=MENTION_KIND_P)
    handles = np.full((m, 3), -1, dtype=np.int64)
    handles[:, 0] = brand
    u = rng.random(m)
    two = u < 0.15  # also mentions another brand
    handles[two, 1] = rng.choice(pools.n, int(two.sum()), p=pools.mention_p)
    three = u > 0.9  # also mentions another author
    handles[three, 2] = pools.n + pools.pick_authors(rng, int(three.sum()))
    likes = rng.poisson(pools.author_followers[authors] ** 0.5 * 0.1 + 0.2)
    authors_arr = pa.array(authors)
    table = pa.table({
        "post_id": _ids("", _snowflakes(created, (1 << 21) | (np.arange(m) & _LOW))),
        "brand_id": pools.brand_ids.take(pa.array(brand)),
        "network": pa.array([NETWORK] * m),
        "author_id": pools.author_ids.take(authors_arr),
        "author_handle": pools.author_handles.take(authors_arr),
        "author_followers": pools.author_followers[authors],
        "created_at": _ts(created),
        "kind": pools.kinds.take(pa.array(kind)),
        "text": pools.texts.take(pa.array(rng.integers(0, len(pools.texts), m))),
        "lang": pools.langs.take(pa.array(rng.choice(len(LANGS), m, p=LANG_P))),
        "likes": likes.astype(np.int64),
        "reposts": (likes // 4).astype(np.int64),
        "replies": (likes // 10).astype(np.int64),
        "quotes": (likes // 30).astype(np.int64),
        "mentioned_handles": _list_column(handles, pools.mentionable),
        "topics": _list_column(_topics_idx(rng, m, len(pools.topics), 0.35, 0.1), pools.topics),
        "observed_at": _const_ts(d, m),
        "mentioned_ids": _list_column(handles, pools.mentionable_ids),
        "sample_weight": np.ones(m),  # everything read
    })
    return table, counts


def _mention_counts(pools: _Pools, d: date, counts: np.ndarray) -> pa.Table:
    n = pools.n
    return pa.table({
        "brand_id": pools.brand_ids,
        "network": pa.array([NETWORK] * n),
        "day": pa.array([d] * n, pa.date32()),
        "mentions": counts.astype(np.int64),
    })


# -- entry points ----------------------------------------------------------------------------
def generate(spec: SynthSpec, lake: Lake, progress: Progress | None = None) -> SynthResult:
    """Write the synthetic lake for `spec` into `lake`; returns the panel and row counts."""
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    if spec.brands < 1 or spec.days < 1 or spec.mentions_per_day < 0:
        raise ValueError("brands and days must be ≥ 1, mentions per day ≥ 0")
    window = spec.window_days or max(7, min(spec.days, 365))
    panel = build_panel(spec.brands, spec.panel_id, window_days=window,
                        first_date=spec.first_date - timedelta(days=366 if spec.reference_year else 0))
    panel_path = lake.put_bytes(f"panels/{spec.panel_id}.yaml", panel_yaml(panel).encode())
    pools = _Pools(spec)
    posts = _all_posts(pools, spec)
    rows = {"accounts": 0, "posts": 0, "mentions": 0, "mention_counts": 0}
    files = 0
    pid = spec.panel_id
    if spec.reference_year:
        for k in range(366, 0, -1):
            d = spec.first_date - timedelta(days=k)
            t = _accounts(pools, spec, d)
            lake.write_partition("accounts", pid, d, t)
            rows["accounts"] += t.num_rows
            files += 1
    for k in range(spec.days):
        d = spec.first_date + timedelta(days=k)
        mentions, counts = _mentions(pools, spec, d)
        for table, t in (("accounts", _accounts(pools, spec, d)), ("posts", _posts(pools, spec, posts, d)),
                         ("mentions", mentions), ("mention_counts", _mention_counts(pools, d, counts))):
            lake.write_partition(table, pid, d, t)
            rows[table] += t.num_rows
            files += 1
        if k % 10 == 9 or k == spec.days - 1:
            say(f"generate {d} [{k + 1}/{spec.days}] {rows['mentions']:,} mentions, "
                f"{rows['posts']:,} post observations")
    rows["distinct_posts"] = len(posts.brand)
    return SynthResult(panel=panel, panel_path=panel_path, rows=rows, files=files,
                       seconds=time.perf_counter() - t0)


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def _positive(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1: {s!r}")
    return v


def cmd_generate(args: argparse.Namespace) -> int:
    from barometer.progress import stderr_progress

    spec = SynthSpec(brands=args.brands, days=args.days, mentions_per_day=args.mentions_per_day,
                     posts_per_brand_day=args.posts_per_day, end_date=args.end_date,
                     panel_id=args.panel_id, seed=args.seed, authors=args.authors,
                     window_days=args.window_days)
    from barometer.config import ID_RE
    from barometer.errors import ConfigError

    if not ID_RE.match(spec.panel_id):
        raise ConfigError(f"--panel-id: bad panel id {spec.panel_id!r} (lower-case letters, digits and -)")
    res = generate(spec, Lake(args.out), stderr_progress)
    r = res.rows
    print(f"Synthetic lake {args.out}: {spec.brands} brands × {spec.days} days, "
          f"{r['mentions']:,} mentions, {r['distinct_posts']:,} posts ({r['posts']:,} observations), "
          f"{r['accounts']:,} account snapshots, {res.files} files in {res.seconds:.1f} s.")
    print(f"Panel: {res.panel_path}")
    return 0


def register_generate(subparsers: Any) -> None:
    """Add `generate` to the `barometer sim` subcommands."""
    g = subparsers.add_parser("generate", help="write a synthetic lake directly (benchmarks, scale tests)",
                              description="Write a deterministic synthetic lake (no HTTP) and its panel "
                                          "(<out>/panels/<panel-id>.yaml).")
    g.add_argument("--brands", type=_positive, default=1000, help="brands (default: %(default)s)")
    g.add_argument("--days", type=_positive, default=365, help="days of history (default: %(default)s)")
    g.add_argument("--mentions-per-day", type=_positive, default=28_000,
                   help="mentions a day, all brands together (default: %(default)s)")
    g.add_argument("--posts-per-day", type=float, default=3.0,
                   help="mean brand posts a day per brand (default: %(default)s)")
    g.add_argument("--out", required=True, help="lake URI: a folder, file://… or s3://bucket/prefix")
    g.add_argument("--panel-id", default="synth", help="panel id (default: %(default)s)")
    g.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    g.add_argument("--end-date", type=_date, default=SynthSpec.end_date,
                   help="last day YYYY-MM-DD (default: %(default)s)")
    g.add_argument("--authors", type=_positive, help="author pool size (default: mentions/10, max 5M)")
    g.add_argument("--window-days", type=int, help="the synthetic panel's scoring window "
                                                   "(default: min(days, 365))")
    g.set_defaults(func=cmd_generate)


def main(argv: list[str] | None = None) -> int:
    """`python -m barometer.sim.generate …` (the same as `barometer sim generate …`)."""
    p = argparse.ArgumentParser(prog="barometer sim")
    register_generate(p.add_subparsers(dest="sim_command", required=True))
    args = p.parse_args(["generate", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SynthResult", "SynthSpec", "build_panel", "generate", "register_generate"]
