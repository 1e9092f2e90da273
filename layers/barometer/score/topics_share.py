"""The `topics` table: per brand, topic and source (its posts, or mentions of it) in the window.

`items` counts the window's posts of that source tagged with the topic; `share` divides it by
all the posts of that source in the window for the brand. Tagging is multi-label, so a brand's
shares may sum to more than 1. The posts counted are exactly those of the indicators: brand
posts of `content_volume` (reposts excluded: their text is someone else's) and mention posts
of `mentions`.

Topics come from the `topics` column the collector filled at collection time; rows where it is
null (collected before tagging existed, or by an older collector) are tagged here from their
text with the panel's taxonomy, so history can be rescored without recollecting.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.lake.schemas import TOPICS
from barometer.lake.store import Lake
from barometer.score import arrays as ar
from barometer.score.estimate import row_weights
from barometer.score.indicators import WindowData, _created_in
from barometer.topics import Taxonomy, taxonomy_for

SOURCES = ("posts", "mentions")


def _fill_topics(rows: pa.Table, table: str, data: WindowData, lake: Lake | None,
                 taxonomy: Taxonomy) -> pa.ChunkedArray | pa.Array:
    """The rows' topics, tagging from the text where the stored column is null, or names a
    topic the panel's taxonomy does not know (collected under another taxonomy)."""
    topics = rows["topics"]
    missing = pc.is_null(topics)
    flat = pc.list_flatten(topics)
    if len(flat):
        unknown = pc.invert(pc.is_in(flat, value_set=pa.array(taxonomy.topic_ids, pa.string())))
        if pc.any(unknown).as_py():
            parents = pc.filter(pc.list_parent_indices(topics), unknown)
            stale = np.zeros(len(topics), dtype=bool)
            stale[np.asarray(parents.to_numpy(zero_copy_only=False), dtype=np.int64)] = True
            missing = pc.or_(pc.fill_null(missing, False), pa.array(stale))
    n_missing = pc.sum(missing).as_py() or 0
    if n_missing == 0 or lake is None:
        return topics
    ids = pc.unique(pc.filter(rows["post_id"], missing))
    w = data.window
    t = lake.read(table, data.panel.id, w.start, w.end,
                  columns=["brand_id", "post_id", "text", "observed_at", "dt"],
                  filter=_created_in(w) & ds.field("post_id").isin(ids))
    # Latest observation's text per (brand, post), as for the metrics.
    key_all = pc.binary_join_element_wise(t["brand_id"], t["post_id"], "\x00")
    last = ar.last_per_key(ar.codes(key_all), ar.ts_int(t["observed_at"]), ar.ts_int(t["dt"]))
    keys = key_all.take(pa.array(last, pa.int64()))
    texts = t["text"].take(pa.array(last, pa.int64())).to_pylist()
    tagged = pa.array(taxonomy.tag_many(texts), pa.list_(pa.string()))
    brand = pa.array(data.brand_ids, pa.string()).take(rows["brand_idx"])
    row_keys = pc.binary_join_element_wise(brand, rows["post_id"], "\x00")
    pos = pc.index_in(row_keys, value_set=keys)
    return pc.if_else(missing, tagged.take(pos), topics)


def topic_rows(data: WindowData, lake: Lake | None = None, taxonomy: Taxonomy | None = None) -> pa.Table:
    """Rows of the `topics` table for the window (only topics with at least one item)."""
    taxonomy = taxonomy or taxonomy_for(data.panel)  # the panel's own (`topics:`)
    n = len(data.brand_ids)
    p = data.posts.filter(pc.invert(data.posts["is_repost"])) if data.posts.num_rows else data.posts
    parts = []
    for source, rows, table in (("posts", p, "posts"), ("mentions", data.mentions, "mentions")):
        if rows.num_rows == 0:
            continue
        topics = _fill_topics(rows, table, data, lake, taxonomy)
        if isinstance(topics, pa.ChunkedArray):
            topics = topics.combine_chunks()
        bidx = np.asarray(rows["brand_idx"].to_numpy(), dtype=np.int64)
        # Issue 13: a budgeted sample's mentions count 1/p each (estimated items, shares).
        rw = row_weights(rows) if source == "mentions" else None
        total = np.bincount(bidx, weights=rw, minlength=n)
        flat = pc.list_flatten(topics)
        if len(flat) == 0:
            continue
        parent = np.asarray(pc.list_parent_indices(topics).to_numpy(zero_copy_only=False), dtype=np.int64)
        enc = pc.dictionary_encode(flat)
        names = enc.dictionary
        code = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        nt = len(names)
        # A topic listed twice on one post counts once: dedupe (row, topic) first.
        pairs = np.unique(parent * nt + code)
        bt = bidx[pairs // nt] * nt + pairs % nt
        keys, inv, items = np.unique(bt, return_inverse=True, return_counts=True)
        if rw is not None:
            items = np.rint(np.bincount(inv, weights=rw[pairs // nt])).astype(np.int64)
        b, tcode = keys // nt, keys % nt
        topic_names = names.take(pa.array(tcode, pa.int64()))
        fams = [_family(taxonomy, t) for t in topic_names.to_pylist()]
        parts.append(pa.table({
            "brand_id": pa.array(data.brand_ids, pa.string()).take(pa.array(b, pa.int64())),
            "source": pa.array([source] * len(b), pa.string()),
            "topic": topic_names,
            "family": pa.array(fams, pa.string()),
            "items": pa.array(items, pa.int64()),
            "share": pa.array(items / total[b] if rw is None else
                              np.bincount(inv, weights=rw[pairs // nt]) / total[b], pa.float64()),
        }))
    w = data.window
    if not parts:
        return TOPICS.empty_table()
    out = pa.concat_tables(parts)
    out = out.append_column("window_start", pa.array([w.start] * out.num_rows, pa.date32()))
    out = out.append_column("window_end", pa.array([w.end] * out.num_rows, pa.date32()))
    out = out.sort_by([("brand_id", "ascending"), ("source", "ascending"), ("topic", "ascending")])
    if "network" not in out.column_names:  # set by the caller (barometer.score.networks)
        out = out.append_column("network", pa.array(["x"] * out.num_rows, pa.string()))
    return out.select(TOPICS.names).cast(TOPICS)


def _family(taxonomy: Taxonomy, topic: str | None) -> str | None:
    # A topic id the current taxonomy no longer knows (renamed since collection) keeps its
    # rows, with no family, rather than failing the whole run.
    if topic is None or topic not in taxonomy.topics:
        return None
    return taxonomy.family(topic)
