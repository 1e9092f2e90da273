"""The simulated world behind the X API simulator: accounts, followers, posts, deletions.

`build_world(panel, seed)` is deterministic: the same panel, seed and end date give the same
world, byte for byte. For the pharma-fr panel at its demo run date the world is calibrated
to the 2018 barometer (see `calibration`); any other panel gets plausible seeded defaults
from its brands, so `barometer run --panel FILE` works on any panel.

Time is kept as integer epoch milliseconds (UTC) inside the world: it is what snowflake ids
encode, and it keeps generation and index look-ups cheap.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from barometer.config import Panel
from barometer.sim import calibration as cal
from barometer.sim.texts import TextMaker

TWEPOCH_MS = 1288834974657  # X's snowflake epoch
DAY_MS = 86_400_000
YOUNG_MS = 3 * DAY_MS

Kind = str  # "original" | "reply" | "quote" | "repost"


def snowflake(ms: int, seq: int) -> int:
    """An X-style id: milliseconds since X's epoch in the high bits, so ids grow with time."""
    return ((ms - TWEPOCH_MS) << 22) | (seq & 0x3FFFFF)


def snowflake_ms(sid: int) -> int:
    return (sid >> 22) + TWEPOCH_MS


def min_id_at(ms: int) -> int:
    """Smallest id a post created at `ms` can have (for time → id range conversions)."""
    return max(0, (ms - TWEPOCH_MS) << 22)


def to_ms(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def day_ms(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY_MS


def stable_user_id(handle: str) -> str:
    """A brand account's id: a 19-digit number derived from its handle, stable across seeds."""
    h = int.from_bytes(hashlib.sha256(handle.lower().encode()).digest()[:8], "big")
    return str(10**18 + h % (9 * 10**18 - 1))


@dataclass(slots=True, eq=False)
class User:
    id: str
    username: str
    name: str
    created_ms: int
    description: str
    location: str
    verified: bool
    followers: int
    following: int
    listed: int
    tweets_before: int  # posts before the world's history starts (for tweet_count)
    brand_id: str | None = None
    # End-of-UTC-day follower counts for brand accounts (empty for others).
    followers_on: dict[date, int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Post:
    ts: int  # created_at, epoch ms UTC
    author_id: str
    text: str
    kind: Kind
    family: str
    lang: str = "fr"
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0
    ref: Post | None = None  # replied_to / quoted / retweeted post
    in_reply_to_user_id: str | None = None
    brand_id: str | None = None  # set when the author is a brand account
    target: str | None = None  # the brand this post mentions (ground truth), if any
    deleted_ms: int | None = None
    id: int = 0

    @property
    def created_at(self) -> datetime:
        return from_ms(self.ts)

    @property
    def interactions(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass(frozen=True)
class Metrics:
    likes: int
    reposts: int
    replies: int
    quotes: int
    bookmarks: int
    impressions: int

    @property
    def interactions(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass
class World:
    panel: Panel
    seed: int
    start: date
    end: date
    users: dict[str, User]
    posts: list[Post]  # sorted by id (= by creation time)
    brand_accounts: dict[str, list[str]]  # brand id → account user ids
    by_id: dict[int, Post] = field(default_factory=dict)
    by_author: dict[str, list[Post]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.posts}
        self.by_author = {}
        for p in self.posts:
            self.by_author.setdefault(p.author_id, []).append(p)
        self._handles = {u.username.lower(): u.id for u in self.users.values()}

    # -- look-ups ---------------------------------------------------------------------------
    def user_by_handle(self, handle: str) -> User | None:
        uid = self._handles.get(handle.lower().removeprefix("@"))
        return self.users.get(uid) if uid else None

    def brand_user(self, brand_id: str) -> User:
        return self.users[self.brand_accounts[brand_id][0]]

    def followers_at(self, user_id: str, t: datetime) -> int:
        """Followers as read at `t`: the count at the end of the last complete UTC day."""
        u = self.users[user_id]
        if not u.followers_on:
            return u.followers
        d = (t.astimezone(UTC) - timedelta(days=1)).date()
        d = min(max(d, self.start), self.end)
        return u.followers_on[d]

    def metrics_at(self, post: Post, t_ms: int) -> Metrics:
        """Public metrics seen at `t_ms`: linear growth over 3 days, then final.

        A repost shows the metrics of the post it reposts, as X does.
        """
        src = post.ref if post.kind == "repost" and post.ref is not None else post
        age = t_ms - src.ts
        if age >= YOUNG_MS:
            return Metrics(src.likes, src.reposts, src.replies, src.quotes, src.bookmarks, src.impressions)
        f = max(age, 0) / YOUNG_MS

        def g(x: int) -> int:
            return math.floor(x * f)

        return Metrics(
            g(src.likes), g(src.reposts), g(src.replies), g(src.quotes), g(src.bookmarks), g(src.impressions)
        )

    def visible(self, post: Post, now_ms: int) -> bool:
        return post.ts <= now_ms and (post.deleted_ms is None or post.deleted_ms > now_ms)

    def brand_posts(self, brand_id: str) -> list[Post]:
        out: list[Post] = []
        for uid in self.brand_accounts[brand_id]:
            out.extend(self.by_author.get(uid, []))
        out.sort(key=lambda p: p.id)
        return out

    def mention_posts(self, brand_id: str) -> list[Post]:
        """Ground truth: posts by others naming the brand (retweets included; filter on kind)."""
        return [p for p in self.posts if p.target == brand_id]

    def tweet_count(self, user_id: str, t_ms: int) -> int:
        u = self.users[user_id]
        posts = self.by_author.get(user_id, [])
        ts = [p.ts for p in posts]
        return u.tweets_before + bisect.bisect_right(ts, t_ms)


# -- generation -----------------------------------------------------------------------------

_FIRST = (
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Julie",
    "Camille",
    "Léa",
    "Sophie",
    "Claire",
    "Jean",
    "Pierre",
    "Michel",
    "Philippe",
    "Nicolas",
    "Thomas",
    "Julien",
    "Karim",
    "Mehdi",
    "Antoine",
    "Lucas",
    "Hugo",
    "Emma",
    "Chloé",
    "Inès",
    "Sarah",
    "Yann",
    "Olivier",
    "Fatou",
    "Amina",
    "Louis",
    "Paul",
    "Manon",
    "Élodie",
    "Vincent",
    "Stéphane",
    "Laurent",
)
_LAST = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
)
_BIO = (
    "Infirmière. Avis perso.",
    "Pharmacien d'officine",
    "Journaliste santé",
    "Patient expert",
    "Médecin généraliste",
    "Chercheur en biologie",
    "Syndicaliste",
    "Aidant familial",
    "Étudiante en pharmacie",
    "Consultant e-santé",
    "Militant associatif",
    "Retraité curieux",
    "Économiste de la santé",
    "Juriste",
    "",
)
_CITIES = (
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Lille",
    "Bordeaux",
    "Nantes",
    "Strasbourg",
    "Montpellier",
    "Rennes",
    "France",
    "",
)
# Institutions brand posts tag (fictional accounts of the simulated world).
_INSTITUTIONS = (
    ("ansm_sim", "ANSM (simulé)"),
    ("HAS_sante_sim", "HAS (simulé)"),
    ("Inserm_sim", "Inserm (simulé)"),
    ("LeLeem_sim", "Leem (simulé)"),
    ("APHP_sim", "AP-HP (simulé)"),
    ("LigueCancer_sim", "Ligue contre le cancer (simulé)"),
    ("AidesAsso_sim", "AIDES (simulé)"),
    ("FrAssoSante_sim", "France Assos Santé (simulé)"),
)

HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.3, 0.5, 1.5, 4, 7, 9, 10, 10, 9, 8, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2], dtype=float
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()


@dataclass(frozen=True)
class _Plan:
    brand_id: str
    followers_end: int
    followers_ref: int
    followers_start_ratio: float
    follower_shape: float
    posts: dict[str, int]  # segment name → brand posts (non-repost)
    mentions: dict[str, int]  # segment name → mention posts by others (non-retweet)
    er_target: float | None = None  # percent; set when calibrated


def _segments(start: date, end: date, window_days: int) -> dict[str, tuple[date, date]]:
    """The history's periods: the window W, the same window a year before, and the rest."""
    w0 = end - timedelta(days=window_days - 1)
    ref_end = _year_before(end)
    ref0 = _year_before(w0)
    segs = {
        "pre": (start, ref0 - timedelta(days=1)),
        "ref": (max(start, ref0), ref_end),
        "mid": (max(start, ref_end + timedelta(days=1)), w0 - timedelta(days=1)),
        "w": (max(start, w0), end),
    }
    return {k: v for k, v in segs.items() if v[0] <= v[1]}


def _year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _ndays(seg: tuple[date, date]) -> int:
    return (seg[1] - seg[0]).days + 1


def _plans(
    panel: Panel, segs: dict[str, tuple[date, date]], calibrated: bool, rng: random.Random
) -> list[_Plan]:
    plans = []
    if calibrated:
        for t in cal.PHARMA:
            posts = {
                "ref": t.posts_ref,
                "w": t.posts_w,
                "mid": round((t.posts_ref + t.posts_w) / 2 * _ndays(segs["mid"]) / 181),
            }
            mentions = {
                "ref": round(t.mentions_w * 0.72),
                "w": t.mentions_w,
                "mid": round(t.mentions_w * 0.85 * _ndays(segs["mid"]) / 181),
            }
            plans.append(
                _Plan(
                    t.brand_id,
                    t.followers_end,
                    t.followers_ref,
                    t.followers_start_ratio,
                    t.follower_shape,
                    posts,
                    mentions,
                )
            )
        return plans
    n = len(panel.brands)
    for i, b in enumerate(panel.brands):
        # Earlier brands in the file are the bigger ones, loosely: plausible spreads.
        size = (1.0 - 0.6 * i / max(1, n - 1)) * rng.uniform(0.8, 1.25)
        f_end = int(8000 * size * rng.uniform(0.7, 1.4)) + 200
        growth = rng.uniform(0.03, 0.6)
        per_day_posts = 1.2 * size * rng.uniform(0.7, 1.3)
        per_day_mentions = 60 * size**2 * rng.uniform(0.6, 1.5)
        posts = {
            k: max(1, round(per_day_posts * _ndays(s) * (0.85 if k != "w" else 1.0))) for k, s in segs.items()
        }
        mentions = {
            k: max(1, round(per_day_mentions * _ndays(s) * (0.8 if k != "w" else 1.0)))
            for k, s in segs.items()
        }
        plans.append(
            _Plan(
                b.id,
                f_end,
                max(50, int(f_end / (1 + growth))),
                rng.uniform(0.85, 0.97),
                rng.uniform(0.8, 2.5),
                posts,
                mentions,
            )
        )
    return plans


def _follower_series(plan: _Plan, start: date, end: date, rng: np.random.Generator) -> dict[date, int]:
    """Daily end-of-day followers, exact at the reference day and at the end."""
    ref = _year_before(end)
    days = (end - start).days + 1
    out: dict[date, int] = {}
    f_start = plan.followers_ref * plan.followers_start_ratio
    noise = rng.normal(0, 1, days).cumsum()
    for i in range(days):
        d = start + timedelta(days=i)
        if d <= ref:
            span = max(1, (ref - start).days)
            u = 1 - (ref - d).days / span
            base = f_start + (plan.followers_ref - f_start) * u
            wob = math.sin(math.pi * u)
        else:
            u = (d - ref).days / (end - ref).days
            base = plan.followers_ref + (plan.followers_end - plan.followers_ref) * u**plan.follower_shape
            wob = math.sin(math.pi * u)
        # A small random walk, pinned to zero at the anchors so the targets stay exact.
        out[d] = max(1, round(base + wob * noise[i] * 0.6))
    if ref >= start:
        out[ref] = plan.followers_ref
    out[end] = plan.followers_end
    return out


def _times(nrng: np.random.Generator, d0: date, d1: date, n: int, weekend: float, spikes: int) -> np.ndarray:
    """`n` creation times (epoch ms) spread over days d0..d1 with a daily rhythm and spikes."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    nd = (d1 - d0).days + 1
    dow = np.array([(d0 + timedelta(days=i)).weekday() for i in range(nd)])
    w = np.where(dow >= 5, weekend, 1.0) * nrng.gamma(4.0, 0.25, nd)
    if spikes and nd > 3:
        for j in nrng.choice(nd, size=min(spikes, nd), replace=False):
            w[j] *= nrng.uniform(3, 9)
    counts = nrng.multinomial(n, w / w.sum())
    day_idx = np.repeat(np.arange(nd), counts)
    hours = nrng.choice(24, size=n, p=HOUR_WEIGHTS)
    ms_in_hour = nrng.integers(0, 3_600_000, size=n)
    ts = day_ms(d0) + day_idx.astype(np.int64) * DAY_MS + hours * 3_600_000 + ms_in_hour
    ts.sort()
    return ts


def build_world(panel: Panel, seed: int | None = None, *, end: date | None = None) -> World:
    """Build the deterministic simulated world for `panel`.

    `end` (the last simulated UTC day) defaults to the panel's demo run date; a panel without
    a demo section needs it (or gets today's UTC date, which is then not reproducible).
    """
    if seed is None:
        seed = panel.demo.seed if panel.demo else 2018
    if end is None:
        end = panel.demo.run_date if panel.demo else datetime.now(UTC).date()
    start = panel.first_date or (end - timedelta(days=548))
    start = min(start, end - timedelta(days=panel.scoring.window_days))
    calibrated = cal.applies(panel.id, end, panel.scoring.window_days) and [b.id for b in panel.brands] == [
        t.brand_id for t in cal.PHARMA
    ]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    texts = TextMaker(rng)
    segs = _segments(start, end, panel.scoring.window_days)
    if calibrated:
        segs["ref"] = (cal.REF_START, cal.REF_DAY)
    plans = _plans(panel, segs, calibrated, rng)

    users: dict[str, User] = {}
    brand_accounts: dict[str, list[str]] = {}
    handle_of: dict[str, str] = {}
    brand_names: dict[str, str] = {}
    start_ms = day_ms(start)

    # Brand accounts: the first account carries the brand's followers; extra accounts are smaller.
    for plan, b in zip(plans, panel.brands, strict=True):
        brand_names[b.id] = b.name
        ids = []
        for k, acc in enumerate(b.accounts):
            uid = stable_user_id(acc.handle)
            scale = 1.0 if k == 0 else 0.1
            series = _follower_series(plan, start, end, nrng)
            if k:
                series = {d: max(1, int(v * scale)) for d, v in series.items()}
            users[uid] = User(
                uid,
                acc.handle,
                b.name if k == 0 else f"{b.name} ({acc.handle})",
                start_ms - _ri(rng, 800, 3000) * DAY_MS,
                f"Compte officiel {b.name}. Mentions légales : bit.ly/{acc.handle.lower()}",
                "France",
                True,
                series[end],
                _ri(rng, 300, 1500),
                _ri(rng, 80, 400),
                _ri(rng, 1500, 6000),
                b.id,
                series,
            )
            ids.append(uid)
            handle_of[uid] = acc.handle
        brand_accounts[b.id] = ids

    # Other authors: a heavy-tailed population; ids are snowflake-like for recent accounts,
    # short integers for accounts older than 2014, as on X.
    total_mentions = sum(sum(p.mentions.values()) for p in plans)
    n_pool = int(min(40_000, max(3_000, total_mentions // 5)))
    pool_followers = np.minimum(nrng.lognormal(5.6, 1.7, n_pool).astype(np.int64), 3_000_000)
    created = nrng.integers(day_ms(date(2008, 1, 1)), start_ms, size=n_pool)
    pool_ids: list[str] = []
    used_handles = {h.lower() for h in handle_of.values()}
    for i in range(n_pool):
        c_ms = int(created[i])
        if c_ms < day_ms(date(2014, 1, 1)):
            uid = str(_ri(rng, 10_000_000, 2_999_999_999))
        else:
            uid = str(snowflake(c_ms, rng.getrandbits(22)))
        if uid in users:
            uid = str(int(uid) + 1 + i)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        handle = f"{first}{last}"[:11].replace("é", "e").replace("è", "e").replace("É", "E")
        handle = handle.replace("ï", "i").replace("ç", "c").replace("ë", "e") + str(_ri(rng, 1, 9999))
        if handle.lower() in used_handles:
            handle = handle[:11] + f"_{i % 1000}"
        used_handles.add(handle.lower())
        f = int(pool_followers[i])
        users[uid] = User(
            uid,
            handle,
            f"{first} {last}",
            c_ms,
            rng.choice(_BIO),
            rng.choice(_CITIES),
            f > 50_000 and rng.random() < 0.5,
            f,
            _ri(rng, 20, 2000),
            f // 40,
            _ri(rng, 10, 40_000),
        )
        pool_ids.append(uid)
    inst_ids = []
    for handle, name in _INSTITUTIONS:
        uid = stable_user_id(handle)
        users[uid] = User(
            uid,
            handle,
            name,
            start_ms - 2000 * DAY_MS,
            f"Compte institutionnel ({name})",
            "Paris",
            True,
            _ri(rng, 20_000, 200_000),
            _ri(rng, 100, 900),
            900,
            4000,
        )
        inst_ids.append(uid)
        handle_of[uid] = handle
    activity = nrng.zipf(1.6, n_pool).astype(float)
    activity = np.minimum(activity, 400.0)

    posts: list[Post] = []

    # Brand posts, originals/replies/quotes; reposts and same-night deletions are extras.
    brand_posts: dict[str, list[Post]] = {}
    for plan in plans:
        uid = brand_accounts[plan.brand_id][0]
        followers = users[uid].followers_on
        own: list[Post] = []
        for seg_name, seg in segs.items():
            n = plan.posts.get(seg_name, 0)
            for ts in _times(nrng, seg[0], seg[1], n, 0.25, 2).tolist():
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
                        text = f"{text} @{handle_of[rng.choice(inst_ids)]}"
                    p = Post(ts, uid, text, "original", t.family, brand_id=plan.brand_id)
                own.append(p)
        # Final metrics: a lognormal appeal per post; rescaled later when calibrated.
        appeal = nrng.lognormal(0, 0.9, len(own))
        base = max(2.0, 0.0017 * plan.followers_end)
        for p, a in zip(own, appeal.tolist(), strict=True):
            tot = base * a
            p.likes = int(tot * 0.66)
            p.reposts = int(tot * 0.22)
            p.replies = int(tot * 0.07)
            p.quotes = int(tot * 0.05)
            p.bookmarks = int(tot * 0.03)
            d = min(max(from_ms(p.ts).date(), start), end)
            p.impressions = int(followers[d] * rng.uniform(0.04, 0.25) + tot * 35)
        brand_posts[plan.brand_id] = own
        posts.extend(own)

    # Mentions by others (originals, replies to the brand, quotes of its posts).
    mention_by_brand: dict[str, list[Post]] = {}
    for plan, b in zip(plans, panel.brands, strict=True):
        handle = b.accounts[0].handle
        weights = activity * nrng.lognormal(0, 1.0, n_pool)
        weights /= weights.sum()
        bposts = brand_posts[plan.brand_id]
        bts = [p.ts for p in bposts]
        out: list[Post] = []
        for seg_name, seg in segs.items():
            n = plan.mentions.get(seg_name, 0)
            ts_arr = _times(nrng, seg[0], seg[1], n, 0.6, 6)
            authors = nrng.choice(n_pool, size=n, p=weights)
            for ts, ai in zip(ts_arr.tolist(), authors.tolist(), strict=True):
                author = pool_ids[ai]
                r = rng.random()
                k = bisect.bisect_left(bts, ts) - 1
                if r < 0.10 and k >= 0:
                    src = bposts[max(0, k - _rr(rng, 5))]
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
                        src = bposts[max(0, k - _rr(rng, 5))]
                        p = Post(ts, author, t.text, "quote", t.family, ref=src, target=plan.brand_id)
                    else:
                        p = Post(ts, author, t.text, "original", t.family, target=plan.brand_id)
                out.append(p)
        mention_by_brand[plan.brand_id] = out
        posts.extend(out)
        # Brand replies answer the latest mention before them (a question from the community).
        mts = [p.ts for p in out]
        for p in bposts:
            if p.kind != "reply":
                continue
            k = bisect.bisect_left(mts, p.ts) - 1
            if k < 0:
                p.kind = "original"
                continue
            src = out[k]
            t = texts.brand_reply(users[src.author_id].username)
            p.text, p.family, p.ref, p.in_reply_to_user_id = t.text, t.family, src, src.author_id
    n_all_mentions = sum(len(v) for v in mention_by_brand.values())
    if n_all_mentions:
        likes = nrng.negative_binomial(0.6, 0.25, n_all_mentions)
        i = 0
        for out in mention_by_brand.values():
            for p in out:
                lk = int(likes[i])
                i += 1
                p.likes = lk
                p.reposts = lk // 3
                p.replies = lk // 5
                p.quotes = lk // 12
                p.impressions = lk * 40 + _ri(rng, 5, 400)

    # Noise: health posts naming no panel brand; brands repost some of them.
    noise: list[Post] = []
    n_noise = max(200, n_all_mentions // 30)
    for ts, ai in zip(
        _times(nrng, start, end, n_noise, 0.6, 0).tolist(),
        nrng.integers(0, n_pool, n_noise).tolist(),
        strict=True,
    ):
        t = texts.noise()
        noise.append(
            Post(
                ts,
                pool_ids[ai],
                t.text,
                "original",
                t.family,
                likes=_ri(rng, 0, 30),
                reposts=_ri(rng, 0, 8),
                impressions=_ri(rng, 50, 5000),
            )
        )
    posts.extend(noise)
    noise_ts = [p.ts for p in noise]
    for plan in plans:
        uid = brand_accounts[plan.brand_id][0]
        for seg_name, seg in segs.items():
            n = max(1, plan.posts.get(seg_name, 0) // 40)
            for ts in _times(nrng, seg[0], seg[1], n, 0.3, 0).tolist():
                k = bisect.bisect_left(noise_ts, ts) - 1
                if k < 0:
                    continue
                src = noise[k - _rr(rng, min(k + 1, 20))]
                author = users[src.author_id].username
                posts.append(
                    Post(
                        ts,
                        uid,
                        texts.retweet(author, src.text),
                        "repost",
                        src.family,
                        ref=src,
                        brand_id=plan.brand_id,
                    )
                )

    # Retweets by others of brand posts and of mentions (excluded by `-is:retweet`).
    for plan in plans:
        handle = handle_of[brand_accounts[plan.brand_id][0]]
        sources = brand_posts[plan.brand_id]
        for src in sources:
            for _ in range(min(src.reposts, 2)):
                ts = src.ts + _ri(rng, 60_000, 2 * DAY_MS)
                ai = pool_ids[_rr(rng, n_pool)]
                posts.append(
                    Post(
                        ts,
                        ai,
                        texts.retweet(handle, src.text),
                        "repost",
                        src.family,
                        ref=src,
                        target=plan.brand_id,
                    )
                )
        for src in mention_by_brand[plan.brand_id][::25]:
            ts = src.ts + _ri(rng, 60_000, DAY_MS)
            ai = pool_ids[_rr(rng, n_pool)]
            posts.append(
                Post(
                    ts,
                    ai,
                    texts.retweet(users[src.author_id].username, src.text),
                    "repost",
                    src.family,
                    ref=src,
                    target=plan.brand_id,
                )
            )

    # Deletions: extra posts removed the same night, before any daily collector run (05:00Z)
    # sees them, so the calibrated counts hold whether the world is read daily or at the end.
    for plan, b in zip(plans, panel.brands, strict=True):
        uid = brand_accounts[plan.brand_id][0]
        n_del = max(2, sum(plan.mentions.values()) // 250)
        for ts in _times(nrng, start, end, n_del, 0.6, 0).tolist():
            t = texts.mention(b.name if rng.random() < 0.5 else f"@{b.accounts[0].handle}")
            p = Post(ts, pool_ids[_rr(rng, n_pool)], t.text, "original", t.family, target=plan.brand_id)
            p.deleted_ms = _same_night(ts, rng)
            posts.append(p)
        for ts in _times(nrng, start, end, 2, 0.3, 0).tolist():
            t = texts.brand_post()
            p = Post(ts, uid, t.text, "original", t.family, brand_id=plan.brand_id, likes=3)
            p.deleted_ms = _same_night(ts, rng)
            posts.append(p)

    # Drop anything a retweet pushed past the end of the world.
    end_ms = day_ms(end) + DAY_MS
    posts = [p for p in posts if p.ts < end_ms]
    posts.sort(key=lambda p: p.ts)
    for i, p in enumerate(posts):
        p.id = snowflake(p.ts, i)

    if calibrated:
        _calibrate_interactions(plans, brand_posts, users, brand_accounts)

    return World(panel, seed, start, end, users, posts, brand_accounts)


def _rr(rng: random.Random, n: int) -> int:
    # random() is several times faster than randrange() and as deterministic.
    return int(rng.random() * n)


def _ri(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def _same_night(ts: int, rng: random.Random) -> int:
    next_run = (ts // DAY_MS + 1) * DAY_MS + 5 * 3_600_000
    return ts + _ri(rng, 60_000, max(120_000, next_run - ts - 3_600_000))


def _calibrate_interactions(
    plans: list[_Plan],
    brand_posts: dict[str, list[Post]],
    users: dict[str, User],
    brand_accounts: dict[str, list[str]],
) -> None:
    """Set brand interactions so the study's ER, leader interactions and score hold exactly."""
    w0 = day_ms(cal.WINDOW_START)
    w1 = day_ms(cal.RUN_DATE) + DAY_MS
    at = to_ms(cal.LAST_OBSERVATION)
    mean_f: dict[str, float] = {}
    for plan in plans:
        series = users[brand_accounts[plan.brand_id][0]].followers_on
        days = [cal.WINDOW_START + timedelta(days=i) for i in range(cal.WINDOW_DAYS)]
        mean_f[plan.brand_id] = sum(series[d] for d in days) / len(days)
    leader = cal.target(cal.LEADER)
    leader_er = cal.LEADER_INTERACTIONS / (leader.posts_w * mean_f[cal.LEADER]) * 100
    rates = cal.solve_engagement_rates(leader_er)
    for plan in plans:
        in_w = [p for p in brand_posts[plan.brand_id] if w0 <= p.ts < w1 and p.kind != "repost"]
        if plan.brand_id == cal.LEADER:
            goal = cal.LEADER_INTERACTIONS
        else:
            goal = round(rates[plan.brand_id] / 100 * len(in_w) * mean_f[plan.brand_id])
        _scale_to(in_w, goal, at)
        # Posts outside W keep a similar per-post level (plausible history, no target).
        per_post = goal / max(1, len(in_w))
        others = [p for p in brand_posts[plan.brand_id] if not (w0 <= p.ts < w1)]
        cur = sum(p.interactions for p in others) / max(1, len(others))
        if cur > 0:
            f = 0.8 * per_post / cur
            for p in others:
                p.likes, p.reposts = int(p.likes * f), int(p.reposts * f)
                p.replies, p.quotes = int(p.replies * f), int(p.quotes * f)


def _observed(p: Post, at: int) -> int:
    age = at - p.ts
    if age >= YOUNG_MS:
        return p.interactions
    f = max(0, age) / YOUNG_MS
    return sum(math.floor(x * f) for x in (p.likes, p.reposts, p.replies, p.quotes))


def _scale_to(posts: list[Post], goal: int, at: int) -> None:
    """Rescale posts' metrics so their interactions, as last observed at `at`, sum to `goal`."""
    cur = sum(p.interactions for p in posts)
    f = goal / cur if cur else 0.0
    for p in posts:
        p.likes, p.reposts = int(p.likes * f), int(p.reposts * f)
        p.replies, p.quotes = int(p.replies * f), int(p.quotes * f)
        p.bookmarks = int(p.bookmarks * f)
    gap = goal - sum(_observed(p, at) for p in posts)
    # Close the gap on the most-liked post that is already final (1:1 effect on the sum).
    final = [p for p in posts if at - p.ts >= YOUNG_MS]
    top = max(final, key=lambda p: p.likes)
    if top.likes + gap < 0:
        raise ValueError("cannot calibrate interactions: gap larger than the top post")
    top.likes += gap
