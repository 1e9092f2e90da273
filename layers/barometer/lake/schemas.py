"""Arrow schemas of the lake tables: the one source for the Parquet files and the Glue tables.

Partition keys (`panel`, `dt`) are never file columns: readers get them from the path.
Types are restricted to what Athena engine v3 reads: string, bigint, double, boolean, date,
timestamp (UTC, naive, millisecond) and array<string>. Partition keys (`panel`, `dt`) live
in the paths, not in the files.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms")  # UTC
STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
LIST_STR = pa.list_(pa.string())

NET_DOC = "social network: x or bluesky (a file written before the column existed reads as x)"
# Index rows (indicators, scores, topics): a panel on several networks has rows per network and
# combined rows (`all`); a panel on one network has that network's rows only.
INDEX_NET_DOC = "x, bluesky, or all for the combined index (a file without the column reads as x)"


def _s(*fields: tuple[str, pa.DataType, str]) -> pa.Schema:
    return pa.schema(
        [pa.field(name, typ, nullable=True, metadata={"comment": doc}) for name, typ, doc in fields]
    )


POST_METRICS = (
    ("likes", I64, "like count at observed_at"),
    ("reposts", I64, "repost (retweet) count at observed_at"),
    ("replies", I64, "reply count at observed_at"),
    ("quotes", I64, "quote count at observed_at"),
)

ACCOUNTS = _s(
    ("brand_id", STR, "brand id from the panel"),
    ("network", STR, NET_DOC),
    ("account_id", STR, "stable account id on the network"),
    ("handle", STR, "handle at collection time, without @"),
    ("name", STR, "display name"),
    ("status", STR, "ok, renamed, suspended or not_found"),
    ("followers", I64, "followers at collected_at"),
    ("following", I64, "accounts followed at collected_at"),
    ("posts_count", I64, "lifetime posts at collected_at"),
    ("listed", I64, "lists the account is on"),
    ("collected_at", TS, "UTC time of the profile read"),
)

POSTS = _s(
    ("post_id", STR, "post id"),
    ("brand_id", STR, "brand id"),
    ("network", STR, NET_DOC),
    ("account_id", STR, "author account id (the brand's)"),
    ("created_at", TS, "UTC creation time"),
    ("kind", STR, "original, reply, quote or repost"),
    ("text", STR, "post text"),
    ("lang", STR, "BCP47 language detected by the network"),
    *POST_METRICS,
    ("impressions", I64, "impressions at observed_at, when available"),
    ("mentioned_handles", LIST_STR, "handles mentioned, lower-case"),
    ("topics", LIST_STR, "topic ids from the taxonomy"),
    ("deleted", pa.bool_(), "true when the post was found deleted at observed_at"),
    ("observed_at", TS, "UTC time of this observation"),
)

MENTIONS = _s(
    ("post_id", STR, "post id"),
    ("brand_id", STR, "brand mentioned"),
    ("network", STR, NET_DOC),
    ("author_id", STR, "author account id"),
    ("author_handle", STR, "author handle"),
    ("author_followers", I64, "author followers at observed_at"),
    ("created_at", TS, "UTC creation time"),
    ("kind", STR, "original, reply, quote or repost"),
    ("text", STR, "post text"),
    ("lang", STR, "BCP47 language"),
    *POST_METRICS,
    ("mentioned_handles", LIST_STR, "handles mentioned, lower-case"),
    ("topics", LIST_STR, "topic ids from the taxonomy"),
    ("observed_at", TS, "UTC time of this observation"),
    ("mentioned_ids", LIST_STR, "account ids of mentioned_handles (from the post's entities; null if unknown)"),
    ("sample_weight", F64, "1/p, p the post's inclusion probability in a budgeted sample; 1 when all were read"),
    ("author_prev_day", pa.date32(), "sampled posts: the author's last earlier mention of the brand (this day if "
                                     "earlier that day), null when none since author_lookback_from"),
    ("author_lookback_from", pa.date32(), "sampled posts: first day the look-back for author_prev_day covered; "
                                          "null when not looked back"),
)

MENTION_COUNTS = _s(
    ("brand_id", STR, "brand"),
    ("network", STR, NET_DOC),
    ("day", pa.date32(), "UTC day counted"),
    ("mentions", I64, "posts matching the brand's mention query that day"),
)

INDICATORS = _s(
    ("brand_id", STR, "brand"),
    ("network", STR, INDEX_NET_DOC),
    ("indicator", STR, "indicator id"),
    ("attribute", STR, "relational, expression or engagement"),
    ("value", F64, "raw value; null when the brand has no data for it"),
    ("transformed", F64, "value after the indicator's transform"),
    ("score", F64, "normalised score 0-100"),
    ("weight", F64, "effective weight of the indicator in the leadership score"),
    ("contribution", F64, "points of the leadership score this indicator contributes"),
    ("missing", pa.bool_(), "true when value is missing (excluded from bounds)"),
    ("window_start", pa.date32(), "first day of the window"),
    ("window_end", pa.date32(), "last day of the window"),
    ("estimated", pa.bool_(), "true when value is estimated from a budgeted sample of mentions"),
    ("std_error", F64, "standard error of an estimated value; null when exact"),
)

SCORES = _s(
    ("brand_id", STR, "brand"),
    ("network", STR, INDEX_NET_DOC),
    ("brand_name", STR, "brand display name"),
    ("leadership", F64, "opinion leadership index 0-100"),
    ("relational", F64, "relational power 0-100"),
    ("expression", F64, "expression power 0-100"),
    ("engagement", F64, "engagement power 0-100"),
    ("rank", I64, "rank by leadership, 1 = leader"),
    ("rank_low", I64, "best rank in the sensitivity analysis (5th percentile)"),
    ("rank_high", I64, "worst rank in the sensitivity analysis (95th percentile)"),
    ("rank_prev", I64, "rank in the previous run, null when none"),
    ("coverage", F64, "share of the indicators with data"),
    ("window_start", pa.date32(), "first day of the window"),
    ("window_end", pa.date32(), "last day of the window"),
    ("computed_at", TS, "UTC time of scoring"),
    ("days_incomplete", I64, "days of the window whose brand posts or mentions were not read completely"),
    ("incomplete", pa.bool_(), "true when a source (profiles, posts, mentions) misses more of the window "
                               "than the tolerance: the indicators made from it are missing"),
    ("days_collected", I64, "days of the window from the first day with collected data to its end"),
    ("provisional", pa.bool_(), "true when days_collected < scoring.min_window_days: a window not yet full"),
)

TOPICS = _s(
    ("brand_id", STR, "brand"),
    ("network", STR, INDEX_NET_DOC),
    ("source", STR, "posts or mentions"),
    ("topic", STR, "topic id"),
    ("family", STR, "topic family id"),
    ("items", I64, "posts tagged with the topic in the window"),
    ("share", F64, "items / posts of that source in the window"),
    ("window_start", pa.date32(), "first day of the window"),
    ("window_end", pa.date32(), "last day of the window"),
)

RUNS = _s(
    ("run_id", STR, "run id"),
    ("stage", STR, "collect, score or publish"),
    ("started_at", TS, "UTC start"),
    ("finished_at", TS, "UTC end"),
    ("status", STR, "ok, partial, failed or skipped"),
    ("brands_ok", I64, "brands fully processed"),
    ("brands_failed", I64, "brands that failed"),
    ("api_requests", I64, "API requests made"),
    ("posts_read", I64, "posts read (billed)"),
    ("users_read", I64, "users read (billed)"),
    ("cost_usd", F64, "estimated API cost"),
    ("errors", LIST_STR, "one line per error or fault met"),
    ("budget_usd", F64, "the run's budget in dollars of X reads (collection.daily_budget_usd); null: none"),
    ("sampled_brands", LIST_STR, "brands whose mentions were sampled (not all read) to fit the budget"),
)

# One row per brand × network × source × day a collect run was responsible for: how completely
# the lake holds that day's data (the best of the runs of that partition; see
# barometer.collect.tables). `profiles` rows are the run date's followers snapshot.
COMPLETENESS = _s(
    ("brand_id", STR, "brand"),
    ("network", STR, NET_DOC),
    ("source", STR, "profiles, posts, mentions or counts"),
    ("day", pa.date32(), "UTC day the read covers (profiles: the run date's snapshot)"),
    ("status", STR, "complete, partial or none: how completely that day was read"),
    ("run_id", STR, "the collect run whose read gave the status"),
    ("reason", STR, "why it is not complete (the fault, the budget, the API's reach); null when complete"),
    ("recorded_at", TS, "UTC time the run recorded it"),
)

SCHEMAS: dict[str, pa.Schema] = {
    "accounts": ACCOUNTS,
    "posts": POSTS,
    "mentions": MENTIONS,
    "mention_counts": MENTION_COUNTS,
    "indicators": INDICATORS,
    "scores": SCORES,
    "topics": TOPICS,
    "runs": RUNS,
    "completeness": COMPLETENESS,
}
TABLES = tuple(SCHEMAS)
# Tables whose rows belong to a network (the `network` column; null in older files = x).
NETWORK_TABLES = tuple(t for t, s in SCHEMAS.items() if "network" in s.names)

# Hive partition keys, in path order; Glue partition keys are generated from these too.
PARTITION_KEYS = pa.schema([pa.field("panel", pa.string()), pa.field("dt", pa.date32())])

# Glue/Athena type names for the Arrow types above.
_GLUE = {pa.string(): "string", pa.int64(): "bigint", pa.float64(): "double", pa.bool_(): "boolean",
         pa.date32(): "date", TS: "timestamp", LIST_STR: "array<string>"}


def glue_type(t: pa.DataType) -> str:
    try:
        return _GLUE[t]
    except KeyError:
        raise TypeError(f"no Athena type for Arrow {t}") from None


def glue_columns(table: str) -> list[dict[str, str]]:
    """Glue column definitions for a lake table, generated from its Arrow schema."""
    return [
        {"name": f.name, "type": glue_type(f.type), "comment": (f.metadata or {}).get(b"comment", b"").decode()}
        for f in SCHEMAS[table]
    ]


def glue_partition_keys() -> list[dict[str, str]]:
    return [{"name": f.name, "type": glue_type(f.type)} for f in PARTITION_KEYS]


def empty(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()
