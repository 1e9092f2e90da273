"""The eight raw indicator values per brand for one run date, read from the lake.

Everything here is columnar: the lake is read with partition pruning on `dt` and a predicate
on `created_at`, only the columns needed are materialised, and every per-brand figure is a
numpy/pyarrow group-by. No Python loop runs over rows: the score stage must handle ~10M
mentions and ~1M posts for a year-long window in a few seconds and a few GB.

Rules (DESIGN.md, "The index"; docs/contracts.md, "Time conventions"):
- Window W = the `window_days` days ending on the run date D, inclusive; a post belongs to W
  when `created_at` ∈ [W.start 00:00, D+1 00:00) UTC.
- `posts` holds one row per observation: the latest (max `observed_at`, then max `dt`) among
  partitions dt ≤ D wins, per (brand_id, post_id); a post deleted in that observation is out.
  Partitions dt < W.start are pruned: a post is never collected before it is created.
- Missing data is never a zero: see `_availability`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.config import Panel, Scoring
from barometer.definitions import INDICATOR_IDS
from barometer.lake.store import Lake
from barometer.score import arrays as ar
from barometer.score.authors import author_handles
from barometer.score.estimate import row_weights
from barometer.score.heap import retained_heap
from barometer.score.pagerank import pagerank

# How far before the reference end a followers snapshot may be and still count for growth.
REFERENCE_TOLERANCE_DAYS = 7

Values = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Window:
    """The scoring window of a run date, and the end of its growth reference."""

    start: date
    end: date
    reference_end: date

    @classmethod
    def for_run(cls, dt: date, scoring: Scoring) -> Window:
        start = dt - timedelta(days=scoring.window_days - 1)
        # `previous`: the previous window ends the day before this one starts.
        yoy = scoring.growth_reference == "yoy"
        ref = _one_year_before(dt) if yoy else dt - timedelta(days=scoring.window_days)
        return cls(start, dt, ref)

    @property
    def ts_start(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def ts_end(self) -> datetime:
        """Exclusive end: the start of the day after the run date."""
        return datetime.combine(self.end + timedelta(days=1), time())


def _one_year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February → 28 February of the previous year
        return d.replace(year=d.year - 1, day=28)


# Columns of sampled mentions rows telling whether each is its author's first in a window.
LOOKBACK_COLUMNS = ("author_prev_day", "author_lookback_from")


@dataclass
class WindowData:
    """The lake rows of one window, cleaned: what indicators and topic shares are made from."""

    panel: Panel
    window: Window
    brand_ids: list[str]  # sorted; the order of every per-brand array below
    # posts: latest observation per post, not deleted, created in W (reposts included,
    # flagged by `is_repost`); columns brand_idx, post_id, account_id, kind, interactions,
    # mentioned_handles, topics, and text when some topics are null.
    posts: pa.Table
    # mentions: one row per (brand, post) created in W whose author is not the brand.
    mentions: pa.Table
    accounts: pa.Table  # accounts rows of dt ∈ W, one per (brand, account, dt)
    reference_accounts: pa.Table  # accounts rows of dt ∈ [ref − 7 days, ref]
    has_posts_partition: bool
    has_mentions_partition: bool
    has_accounts: bool
    rows_read: dict[str, int] = field(default_factory=dict)
    # Per mentions row: its author id's code (equal ids, equal codes; null as "") and its
    # author's source key, an index into `mention_sources` (lower-case handles; -1: none).
    mention_author: np.ndarray | None = None
    mention_source: np.ndarray | None = None
    mention_sources: pa.Array | None = None
    # True when no post id occurs twice among the mentions rows: one row per post already.
    mentions_distinct_posts: bool = False


def _brand_index(col: pa.ChunkedArray | pa.Array, brand_ids: list[str]) -> np.ndarray:
    """Position of each row's brand in `brand_ids` (-1 when not in the panel)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if chunks and all(pa.types.is_dictionary(c.type) for c in chunks):
        # Read as dictionary: look the few distinct values up, not every row's (one dictionary
        # for all the chunks: a chunk per file makes hundreds).
        u = pa.chunked_array(chunks, chunks[0].type).unify_dictionaries()
        vs = pa.array(brand_ids, pa.string())
        look = np.append(ar.to_numpy(pc.fill_null(pc.index_in(u.chunk(0).dictionary, value_set=vs), -1)), -1)
        indices = pa.chunked_array([c.indices for c in u.chunks], u.type.index_type)
        return look[ar.to_numpy(pc.fill_null(indices, len(look) - 1))]
    idx = pc.index_in(col, value_set=pa.array(brand_ids, pa.string()))
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _has_partitions(lake: Lake, table: str, panel: str, w: Window) -> bool:
    return any(w.start <= d <= w.end for d in lake.partitions(table, panel))


def _created_in(w: Window) -> ds.Expression:
    return (ds.field("created_at") >= pa.scalar(w.ts_start, pa.timestamp("ms"))) & (
        ds.field("created_at") < pa.scalar(w.ts_end, pa.timestamp("ms")))


# Read as dictionary arrays: few distinct brands and handles per file, each decoded once.
_DICTIONARY = ("brand_id", "mentioned_handles")


def _load_posts(lake: Lake, panel: Panel, w: Window, brand_ids: list[str],
                with_topics: bool) -> tuple[pa.Table, int]:
    """The window's brand posts, one row per (brand, post): its latest observation, deleted
    ones left out; and how many rows were read."""
    post_cols = ["post_id", "brand_id", "account_id", "kind", "likes", "reposts", "replies", "quotes",
                 "mentioned_handles", *(["topics"] if with_topics else []), "deleted", "observed_at", "dt"]
    raw = lake.read("posts", panel.id, w.start, w.end, post_cols, _created_in(w), _DICTIONARY)
    n_read = raw.num_rows
    bidx = _brand_index(raw["brand_id"], brand_ids)
    pcodes = ar.codes(raw["post_id"]) if len(bidx) else bidx
    # (brand, post) keys, compact: the brand index (≥ −1) above the post code.
    latest = ar.last_per_key((bidx + 1) * (int(pcodes.max()) + 2) + pcodes if len(bidx) else bidx,
                           ar.ts_int(raw["observed_at"]), ar.ts_int(raw["dt"]))
    bidx = bidx[latest]
    keep = (bidx >= 0) & ~ar.to_numpy(pc.fill_null(raw["deleted"].take(pa.array(latest, pa.int64())), False))
    kept = ["post_id", "account_id", "kind", "likes", "reposts", "replies", "quotes", "mentioned_handles",
            *(["topics"] if with_topics else [])]
    posts = raw.select(kept).take(pa.array(latest[keep], pa.int64()))
    del raw
    inter = pc.add(pc.add(pc.fill_null(posts["likes"], 0), pc.fill_null(posts["reposts"], 0)),
                   pc.add(pc.fill_null(posts["replies"], 0), pc.fill_null(posts["quotes"], 0)))
    posts = pa.table({
        "brand_idx": pa.array(bidx[keep]),
        "post_id": posts["post_id"],
        "account_id": posts["account_id"],
        "is_repost": pc.fill_null(pc.equal(posts["kind"], "repost"), False),
        "interactions": pc.cast(inter, pa.int64()),
        "mentioned_handles": posts["mentioned_handles"],
        **({"topics": posts["topics"]} if with_topics else {}),
    })
    return posts, n_read


def _keep_latest_mentions(mraw: pa.Table, mb: np.ndarray, pcode: np.ndarray, dup: np.ndarray,
                          keep: np.ndarray) -> None:
    """Of the rows whose post id is seen more than once (`dup`), keep (in place) only the latest
    observation of each (brand, post)."""
    dupv = ar.unique_sorted(dup)
    pos = np.minimum(np.searchsorted(dupv, pcode), len(dupv) - 1)
    rows = np.flatnonzero(dupv[pos] == pcode)
    del pos
    sub = mraw.take(pa.array(rows, pa.int64()))
    dcode = ar.dense_ranks(pcode[rows])
    last = ar.last_per_key((mb[rows] + 1) * (int(dcode.max()) + 1) + dcode,
                         ar.ts_int(sub["observed_at"]), ar.ts_int(sub["dt"]))
    keep[rows] = False
    keep[rows[last]] = mb[rows[last]] >= 0
    del sub, rows, last, dcode


def load_window(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None,
                with_topics: bool = True) -> WindowData:
    """Read and clean the lake rows the indicators of (panel, dt) are computed from.

    `with_topics=False` leaves the `topics` columns out (the indicators never read them).
    """
    scoring = scoring or panel.scoring
    w = Window.for_run(dt, scoring)
    brand_ids = sorted(b.id for b in panel.brands)
    rows_read: dict[str, int] = {}

    # -- accounts ------------------------------------------------------------------------
    acc_cols = ["brand_id", "account_id", "handle", "status", "followers", "collected_at", "dt"]
    accounts = _latest_accounts(lake.read("accounts", panel.id, w.start, w.end, columns=acc_cols), brand_ids)
    ref_start = w.reference_end - timedelta(days=REFERENCE_TOLERANCE_DAYS)
    reference = _latest_accounts(
        lake.read("accounts", panel.id, ref_start, w.reference_end, columns=acc_cols), brand_ids)
    rows_read["accounts"] = accounts.num_rows + reference.num_rows

    # -- posts -----------------------------------------------------------------------------
    posts, rows_read["posts"] = _load_posts(lake, panel, w, brand_ids, with_topics)

    # -- mentions --------------------------------------------------------------------------
    men_cols = ["post_id", "brand_id", "author_id", "author_handle", "mentioned_handles", "mentioned_ids",
                *(["topics"] if with_topics else []), "observed_at", "dt", "created_at", "sample_weight",
                *LOOKBACK_COLUMNS]
    mraw = lake.read("mentions", panel.id, w.start, w.end, men_cols, _created_in(w), _DICTIONARY)
    nm = mraw.num_rows
    rows_read["mentions"] = nm
    mb = _brand_index(mraw["brand_id"], brand_ids) if nm else np.zeros(0, np.int64)
    ints = ar.canonical_ints(mraw["post_id"]) if nm else None
    pcode = ints if ints is not None else (ar.codes(mraw["post_id"]) if nm else mb)
    # One row per (brand, post): the latest observation (its topics are the freshest). Only
    # the rows of a post id seen more than once need ordering.
    sp = np.sort(pcode)
    dup = sp[1:][sp[1:] == sp[:-1]]
    del sp
    distinct_posts = len(dup) == 0
    keep = mb >= 0
    if not distinct_posts:
        _keep_latest_mentions(mraw, mb, pcode, dup, keep)
    # Authors: codes of their ids, and one source handle per distinct (id, handle).
    aid = mraw["author_id"]
    aid = pc.fill_null(aid, "") if aid.null_count else aid
    aints = ar.canonical_ints(aid) if nm else None
    acode = (ar.dense_ranks(aints) if aints is not None else ar.codes(aid)) if nm else mb
    k = int(acode.max()) + 1 if nm else 0
    first = ar.first_rows(acode, k)
    # Authors not expanded (issue 13): their handle from the entities and accounts (authors.py).
    handle = author_handles(mraw, [reference, accounts]) if nm else ar.combined(mraw["author_handle"])
    rep = handle.take(pa.array(first, pa.int64()))
    same = pc.fill_null(pc.equal(handle, rep.take(pa.array(acode, pa.int64()))), False) if nm else None
    source = acode.copy()
    other = pa.array([], pa.string())
    if same is not None and not pc.all(same).as_py():
        # An id seen with several handles (a rename): those rows get their own source keys.
        odd = np.flatnonzero(~ar.to_numpy(same))
        enc = pc.dictionary_encode(handle.take(pa.array(odd, pa.int64())))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        other = enc.dictionary
        source[odd] = ar.to_numpy(pc.fill_null(enc.indices, -k - 1)) + k
    del same
    sources = pc.utf8_lower(pa.concat_arrays([rep, other]))
    # The id of each code: canonical integers print back to the very strings they came from.
    rep_ids = pc.cast(pa.array(aints[first]), pa.string()) if aints is not None else \
        ar.combined(aid).take(pa.array(first, pa.int64()))
    del aints
    # A brand's own accounts mentioning it are not "others": drop by account id or handle.
    own = _own_mask(panel, mb, acode, rep_ids, source, sources, accounts, reference)
    keep &= ~own
    del own, first, rep, rep_ids, handle
    mraw = mraw.select(["post_id", "author_id", "author_handle", "mentioned_handles", "created_at",
                        "sample_weight", *LOOKBACK_COLUMNS, *(["topics"] if with_topics else [])])
    if not keep.all():
        mraw = mraw.filter(pa.array(keep))
    mentions = pa.table({
        "brand_idx": pa.array(mb[keep]),
        "post_id": mraw["post_id"],
        "post_code": pa.array(pcode[keep]),
        "author_id": mraw["author_id"],
        "author_handle": mraw["author_handle"],
        "mentioned_handles": mraw["mentioned_handles"],
        # Issue 13: 1/p of a budgeted sample (null, from rows written before it: 1).
        "created_at": mraw["created_at"],
        "sample_weight": pc.fill_null(mraw["sample_weight"], 1.0),
        # The sampled rows' look-backs (collect/lookback.py): what the window's reach needs.
        **{c: mraw[c] for c in LOOKBACK_COLUMNS},
        **({"topics": mraw["topics"]} if with_topics else {}),
    })
    acode, source = acode[keep], source[keep]
    del mraw, mb, pcode, keep

    return WindowData(
        panel=panel, window=w, brand_ids=brand_ids, posts=posts, mentions=mentions,
        accounts=accounts, reference_accounts=reference,
        has_posts_partition=_has_partitions(lake, "posts", panel.id, w),
        has_mentions_partition=_has_partitions(lake, "mentions", panel.id, w),
        has_accounts=accounts.num_rows > 0, rows_read=rows_read,
        mention_author=acode, mention_source=source, mention_sources=sources,
        mentions_distinct_posts=distinct_posts,
    )


def _latest_accounts(t: pa.Table, brand_ids: list[str]) -> pa.Table:
    """One accounts row per (brand, account, dt): the latest collection of that day."""
    bidx = _brand_index(t["brand_id"], brand_ids)
    acc = ar.codes(t["account_id"]) if t.num_rows else bidx
    day = ar.ts_int(t["dt"])
    key = (bidx * (1 << 20) + acc) * (1 << 24) + (day - day.min() if len(day) else day)
    idx = ar.last_per_key(key, ar.ts_int(t["collected_at"]))
    out = t.take(pa.array(idx, pa.int64()))
    bidx = bidx[idx]
    return out.append_column("brand_idx", pa.array(bidx)).filter(pa.array(bidx >= 0))


def _own_mask(panel: Panel, mb: np.ndarray, acode: np.ndarray, ids_by_code: pa.Array | pa.ChunkedArray,
              source: np.ndarray, sources: pa.Array, *accounts: pa.Table) -> np.ndarray:
    """Rows whose author is one of the mentioned brand's own accounts (by account id or handle).

    A row's author id is `ids_by_code[acode]`, its lower-cased handle `sources[source]`
    (-1: none); both are matched against the (brand, id) and (brand, lower-case handle) pairs
    of the panel and of the accounts tables, one lookup per distinct value.
    """
    ids: set[tuple[int, str]] = set()
    brand_of = {b: i for i, b in enumerate(sorted(b.id for b in panel.brands))}
    handles = {(brand_of[b.id], a.handle.lower()) for b in panel.brands for a in b.accounts}
    for t in accounts:
        if t.num_rows == 0:
            continue
        g = t.group_by(["brand_idx", "account_id", "handle"], use_threads=False).aggregate([])
        for bi, aid, h in zip(g["brand_idx"].to_pylist(), g["account_id"].to_pylist(),
                              g["handle"].to_pylist(), strict=True):
            if aid:
                ids.add((bi, aid))
            if h:
                handles.add((bi, h.lower()))
    own = np.zeros(len(mb), dtype=bool)
    for pairs, values_of, code in ((ids, ids_by_code, acode), (handles, sources, source)):
        if not pairs or len(mb) == 0:
            continue
        values = sorted({v for _, v in pairs})
        nv = len(values)
        slot_of = np.append(ar.to_numpy(pc.fill_null(pc.index_in(values_of, value_set=pa.array(values, pa.string())),
                                             -1)), -1)
        pos = slot_of[code]  # code -1 (no value) → the appended -1
        hit = np.flatnonzero(pos >= 0)
        if len(hit) == 0:
            continue
        slot = {v: i for i, v in enumerate(values)}
        own_keys = np.array(sorted(b * nv + slot[v] for b, v in pairs), dtype=np.int64)
        own[hit[np.isin(mb[hit] * nv + pos[hit], own_keys)]] = True
    return own


# -- indicators ---------------------------------------------------------------------------

def _current(latest: pa.Table, panel: Panel, brand_ids: list[str]) -> np.ndarray:
    """Per account (its latest row): still one of the panel's accounts of its brand, i.e. its
    handle is one of the brand's panel handles, or the collector found the panel handle renamed
    to it. An account the panel replaced (another handle) no longer counts."""
    pairs = pa.array(sorted({f"{i}\x1f{a.handle.lower()}" for i, b in enumerate(brand_ids)
                             for a in panel.brand(b).accounts}), pa.string())
    key = pc.binary_join_element_wise(pc.cast(latest["brand_idx"], pa.string()),
                                      pc.utf8_lower(pc.fill_null(latest["handle"], "")), "\x1f")
    ok = pc.is_in(key, value_set=pairs)
    if "status" in latest.column_names:
        ok = pc.or_(ok, pc.fill_null(pc.equal(latest["status"], "renamed"), False))
    return np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def _followers_end(acc: pa.Table, n: int, panel: Panel | None = None,
                   brand_ids: list[str] | None = None) -> np.ndarray:
    """Followers per brand: each account's latest snapshot in the table, summed (NaN: none);
    with `panel`, only the panel's current accounts (see `_current`)."""
    out = np.full(n, np.nan)
    if acc.num_rows == 0:
        return out
    f = acc.filter(pc.is_valid(acc["followers"]))
    if f.num_rows == 0:
        return out
    bidx = np.asarray(f["brand_idx"].to_numpy(), dtype=np.int64)
    key = bidx * (1 << 32) + ar.codes(f["account_id"])
    idx = ar.last_per_key(key, ar.ts_int(f["dt"]), ar.ts_int(f["collected_at"]))
    if panel is not None and brand_ids is not None and len(idx):
        idx = idx[_current(f.take(pa.array(idx, pa.int64())), panel, brand_ids)]
    fol = np.asarray(f["followers"].to_numpy(zero_copy_only=False), dtype=np.float64)[idx]
    sums = np.bincount(bidx[idx], weights=fol, minlength=n)
    seen = np.bincount(bidx[idx], minlength=n) > 0
    out[seen] = sums[seen]
    return out


def _followers_mean(acc: pa.Table, n: int) -> np.ndarray:
    """Mean over the snapshot dates in W of the brand's followers (summed over its accounts)."""
    out = np.full(n, np.nan)
    f = acc.filter(pc.is_valid(acc["followers"])) if acc.num_rows else acc
    if f.num_rows == 0:
        return out
    bidx = np.asarray(f["brand_idx"].to_numpy(), dtype=np.int64)
    day = ar.ts_int(f["dt"])
    fol = np.asarray(f["followers"].to_numpy(zero_copy_only=False), dtype=np.float64)
    # Sum per (brand, date), then mean of those sums per brand.
    bd = bidx * (1 << 24) + (day - day.min())
    uniq, inv = np.unique(bd, return_inverse=True)
    per_day = np.bincount(inv, weights=fol)
    day_brand = uniq // (1 << 24)
    sums = np.bincount(day_brand, weights=per_day, minlength=n)
    counts = np.bincount(day_brand, minlength=n)
    ok = counts > 0
    out[ok] = sums[ok] / counts[ok]
    return out


def _targets(names: pa.Array) -> pa.Array:
    return pc.utf8_lower(pc.utf8_ltrim(names, characters="@"))


def _centrality(data: WindowData, weights: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """PageRank of each brand (sum over its handles) in the window's interaction graph; a mention's
    edges weigh `weights` (default its sample_weight 1/p; unweighted when every row was read)."""
    n = len(data.brand_ids)
    brand_of = {b: i for i, b in enumerate(data.brand_ids)}
    brand_handles: dict[str, int] = {}
    for b in data.panel.brands:
        for a in b.accounts:
            brand_handles[a.handle.lower()] = brand_of[b.id]
    # The handle of a post's author account: from the accounts table, else the brand's first.
    # The last row per account id wins (window rows last); empty ids and handles are skipped.
    ah = pa.concat_tables([t.select(["account_id", "handle"])
                           for t in (data.reference_accounts, data.accounts)])
    ah = ah.filter(pc.fill_null(pc.and_(pc.not_equal(ah["account_id"], ""), pc.not_equal(ah["handle"], "")),
                                False))
    last_acc = pa.array(ar.last_per_key(ar.codes(ah["account_id"])) if ah.num_rows else [], pa.int64())
    acc_ids = ah["account_id"].take(last_acc)
    acc_handles = pc.utf8_lower(ah["handle"].take(last_acc))
    first_handle = [data.panel.brand(b).accounts[0].handle.lower() for b in data.brand_ids]

    # Mentions: one edge set per distinct post (a post mentioning two brands is two rows).
    # Each edge is (row's source key → element's target code); the names of both are merged
    # into one node space below.
    m = data.mentions
    msrc = data.mention_source
    msources = data.mention_sources
    if msrc is None or msources is None:
        a_codes, a_names = ar.encode(pc.utf8_lower(m["author_handle"]).combine_chunks()
                                   if m.num_rows else pa.array([], pa.string()))
        msrc, msources = a_codes, a_names
    m_lists = m["mentioned_handles"]
    mw = row_weights(m) if weights is None else weights
    if m.num_rows and not data.mentions_distinct_posts:
        last = ar.last_per_key(np.asarray(m["post_code"].to_numpy(), dtype=np.int64))
        if len(last) < m.num_rows:
            m_lists = m_lists.take(pa.array(last, pa.int64()))
            msrc, mw = msrc[last], (None if mw is None else mw[last])
    m_par, m_flat = ar.flatten(m_lists) if m.num_rows else (np.zeros(0, np.int64), pa.array([], pa.string()))
    del m_lists
    m_src, m_w = msrc[m_par], (None if mw is None else mw[m_par])
    del m_par
    m_tcode, m_tnames = ar.encode(m_flat)
    del m_flat

    p = data.posts
    if p.num_rows:
        # The author handle of each brand post, by a vectorised lookup of its account id.
        pos = pc.index_in(p["account_id"], value_set=acc_ids)
        by_account = acc_handles.take(pos)
        fallback = pa.array(first_handle, pa.string()).take(p["brand_idx"])
        post_author = pc.coalesce(by_account, fallback)
        if isinstance(post_author, pa.ChunkedArray):
            post_author = post_author.combine_chunks()
        p_acode, p_anames = ar.encode(post_author)
        p_par, p_flat = ar.flatten(p["mentioned_handles"])
        p_src = p_acode[p_par]
        p_tcode, p_tnames = ar.encode(p_flat)
        del post_author, p_par, p_flat
    else:
        p_src = p_tcode = np.zeros(0, np.int64)
        p_anames = p_tnames = pa.array([], pa.string())

    # One node id space over every brand handle, the sources and the targets.
    bh = pa.array(sorted(brand_handles), pa.string())
    pieces = [bh, msources, _targets(m_tnames), pc.utf8_lower(p_anames), _targets(p_tnames)]
    merged, _ = ar.encode(pa.concat_arrays(pieces))
    offs = np.cumsum([0] + [len(x) for x in pieces])
    nb = len(bh)
    hcode = merged[:nb]

    def lookup(codes: np.ndarray, piece: int) -> np.ndarray:
        table = np.append(merged[offs[piece]:offs[piece + 1]], -1)
        return table[codes]  # code -1 (null) → the appended -1

    src = np.concatenate([lookup(m_src, 1), lookup(p_src, 3)])
    dst = np.concatenate([lookup(m_tcode, 2), lookup(p_tcode, 4)])
    wts = None if m_w is None else np.concatenate([m_w, np.ones(len(p_src))])
    del m_src, m_tcode, p_src, p_tcode
    ok = (src >= 0) & (dst >= 0) & (src != dst)
    if wts is not None:
        ok &= wts > 0
        wts = wts[ok]
    src, dst = src[ok], dst[ok]
    if len(src) == 0:
        return np.full(n, np.nan), 0
    # Nodes: the handles on a kept edge, plus every brand handle (a brand nobody mentions
    # still is a node, with the teleport share only). Renumbered densely, in code order.
    present = np.zeros(int(merged.max()) + 1, dtype=bool)
    present[hcode] = True
    present[src] = True
    present[dst] = True
    renum = np.cumsum(present, dtype=np.int64) - 1
    n_nodes = int(renum[-1]) + 1
    hnode, src, dst = renum[hcode], renum[src], renum[dst]
    del renum, present
    pr = pagerank(src, dst, n_nodes, wts)
    out = np.zeros(n)
    owner = np.array([brand_handles[h] for h in bh.to_pylist()], dtype=np.int64)
    np.add.at(out, owner, pr[hnode])
    return out, len(src)


def compute_values(data: WindowData) -> tuple[Values, dict[str, object]]:
    """Raw indicator values per brand (None = missing) and a few figures for the run summary."""
    n = len(data.brand_ids)
    p = data.posts
    pb = np.asarray(p["brand_idx"].to_numpy(), dtype=np.int64) if p.num_rows else np.zeros(0, np.int64)
    orig = ~np.asarray(p["is_repost"].to_numpy(zero_copy_only=False), dtype=bool) if p.num_rows else \
        np.zeros(0, bool)
    inter = np.asarray(p["interactions"].to_numpy(zero_copy_only=False), dtype=np.float64) if p.num_rows \
        else np.zeros(0)
    volume = np.bincount(pb[orig], minlength=n).astype(np.float64)
    interactions = np.bincount(pb[orig], weights=inter[orig], minlength=n)

    m = data.mentions
    mb = np.asarray(m["brand_idx"].to_numpy(), dtype=np.int64) if m.num_rows else np.zeros(0, np.int64)
    # Rows are already one per (brand, post): mentions = rows; reach = distinct (brand, author).
    mentions = np.bincount(mb, minlength=n).astype(np.float64)
    reach = np.zeros(n)
    if m.num_rows:
        acode = data.mention_author
        if acode is None:
            aid = m["author_id"]
            acode = ar.codes(pc.fill_null(aid, "") if aid.null_count else aid)
        ak = mb * (1 << 40) + acode
        reach = np.bincount(ar.unique_sorted(ak) >> 40, minlength=n).astype(np.float64)

    end = _followers_end(data.accounts, n, data.panel, data.brand_ids)
    ref = _followers_end(data.reference_accounts, n)
    mean_f = _followers_mean(data.accounts, n)
    central, edges = _centrality(data)

    observed = np.zeros(n, dtype=bool)
    if data.accounts.num_rows:
        observed[ar.unique_sorted(np.asarray(data.accounts["brand_idx"].to_numpy(), dtype=np.int64))] = True
    has_posts = observed & data.has_posts_partition
    has_posts |= np.bincount(pb, minlength=n) > 0
    has_mentions = observed & data.has_mentions_partition
    has_mentions |= mentions > 0

    values: Values = {}
    for i, b in enumerate(data.brand_ids):
        v: dict[str, float | None] = dict.fromkeys(INDICATOR_IDS)
        if not np.isnan(end[i]):
            v["community"] = float(end[i])
        if not np.isnan(end[i]) and not np.isnan(ref[i]) and ref[i] > 0:
            v["community_growth"] = float(end[i] / ref[i] - 1.0)
        if has_posts[i]:
            v["content_volume"] = float(volume[i])
            v["interactions"] = float(interactions[i])
            # No post or no audience: the rate is undefined, not zero.
            if volume[i] > 0 and not np.isnan(mean_f[i]) and mean_f[i] > 0:
                v["engagement_rate"] = float(interactions[i] / (volume[i] * mean_f[i]) * 100.0)
        if has_mentions[i]:
            v["mentions"] = float(mentions[i])
            v["mention_reach"] = float(reach[i])
        if (has_posts[i] or has_mentions[i]) and not np.isnan(central[i]):
            v["centrality"] = float(central[i])
        values[b] = v
    details: dict[str, object] = {
        "graph_edges": edges,
        "posts_in_window": int(orig.sum()),
        "mentions_in_window": int(m.num_rows),
        **{f"rows_read_{k}": v for k, v in data.rows_read.items()},
    }
    return values, details


def compute_indicators(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None) -> Values:
    """The raw indicator values of every panel brand for run date `dt` (None = missing)."""
    with retained_heap():
        return compute_values(load_window(panel, dt, lake, scoring, with_topics=False))[0]
