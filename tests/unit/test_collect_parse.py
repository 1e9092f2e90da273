"""The collector's parser on the REAL recorded X API v2 responses (tweepy's vcrpy cassettes).

The recordings carry default fields only (no public_metrics), so they test shapes, ids,
pagination meta and headers, not metric values.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from barometer.collect.fetch import RATE_HEADERS
from barometer.collect.parse import (
    billed,
    build_tables,
    count_rows,
    data_list,
    mentioned_handles,
    page_ids,
    ts,
    tweet_kind,
    user_error_status,
)
from barometer.config import parse_panel

FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "x-api"
CASSETTES = sorted(FIXTURES.glob("*.yaml"))
pytestmark = pytest.mark.skipif(not CASSETTES, reason="shared X API fixtures not present")

SEEN = "2021-01-01T00:00:00"


def recorded(name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(uri, JSON body, headers) of each interaction of a cassette."""
    out = []
    for it in yaml.safe_load((FIXTURES / name).read_text())["interactions"]:
        raw = it["response"]["body"]["string"]
        if isinstance(raw, str):
            raw = raw.encode()
        enc = it["response"]["headers"].get("content-encoding", [""])[0]
        if enc == "gzip" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        headers = {k.lower(): v[0] for k, v in it["response"]["headers"].items()}
        out.append((it["request"]["uri"], json.loads(raw), headers))
    return out


PANEL = parse_panel({
    "id": "fixtures", "name": "Fixtures",
    "brands": [{"id": "twitter", "name": "Twitter", "mention_query": "Tweepy",
                "accounts": [{"handle": "Twitter"}, {"handle": "TwitterDev"}]}],
})


def page(endpoint: str, body: dict[str, Any], **ctx: Any) -> dict[str, Any]:
    return {"endpoint": endpoint, "context": ctx, "observed_at": SEEN, "body": body}


def test_every_cassette_decodes_and_parses() -> None:
    assert len(CASSETTES) >= 12
    for path in CASSETTES:
        for uri, body, headers in recorded(path.name):
            assert isinstance(body, dict), uri
            for item in data_list(body):
                assert isinstance(item, dict)
                if "tweet_count" in item:
                    assert ts(item["start"]) is not None
                elif "text" in item:
                    assert int(item["id"]) > 0
                    assert tweet_kind(item) in ("original", "reply", "quote", "repost")
                    assert isinstance(mentioned_handles(item), list)
            posts, users = billed("users_by_username" if "/users" in uri else "user_tweets", body)
            assert posts + users == len(data_list(body))
            assert all(h in headers for h in RATE_HEADERS), uri


def test_users_fixture_builds_account_rows() -> None:
    (_, body, _), = recorded("get_users.yaml")
    tables, errors = build_tables(PANEL, [page("users_by_username", body, handles=["Twitter", "TwitterDev"])],
                                  {}, lambda _: [])
    acc = tables["accounts"].to_pylist()
    assert errors == []
    assert [(r["handle"], r["account_id"], r["status"]) for r in acc] == [
        ("Twitter", "783214", "ok"), ("TwitterDev", "2244994945", "ok")]
    assert acc[0]["collected_at"] == datetime(2021, 1, 1)
    assert acc[0]["followers"] is None  # default fields only in the recording


def test_timeline_and_lookup_fixtures_build_post_rows() -> None:
    (_, timeline, _), = recorded("get_users_tweets.yaml")
    assert timeline["meta"]["next_token"]
    tables, _ = build_tables(PANEL, [page("user_tweets", timeline, brand_id="twitter", account_id="783214")],
                             {}, lambda text: ["t"] if text else [])
    posts = tables["posts"].to_pylist()
    assert sorted(p["post_id"] for p in posts) == sorted(str(i) for i in page_ids(timeline))
    assert all(p["account_id"] == "783214" and p["kind"] == "original" and p["topics"] == ["t"]
               and p["deleted"] is False for p in posts)

    (_, lookup, _), = recorded("get_tweets.yaml")
    prior = {t["id"]: {"post_id": t["id"], "brand_id": "twitter", "account_id": "783214"}
             for t in lookup["data"]}
    tables, _ = build_tables(PANEL, [page("tweets_lookup", lookup)], prior, lambda _: [])
    assert tables["posts"].num_rows == 2


def test_search_fixtures_build_mention_rows() -> None:
    for name, ep in (("search_recent_tweets.yaml", "search_recent"),
                     ("search_all_tweets.yaml", "search_all")):
        (_, body, _), = recorded(name)
        tables, _ = build_tables(PANEL, [page(ep, body, brand_id="twitter", own_ids=[])], {}, lambda _: [])
        assert tables["mentions"].num_rows == body["meta"]["result_count"] == 10


def test_counts_fixtures_build_count_rows() -> None:
    for name, ep in (("get_recent_tweets_count.yaml", "counts_recent"),
                     ("get_all_tweets_count.yaml", "counts_all")):
        for _, body, _ in recorded(name):
            rows = count_rows(body)
            assert len(rows) == len(body["data"])
            # Hourly buckets in the recordings: same-day buckets add up into one row per day.
            tables, _ = build_tables(PANEL, [page(ep, body, brand_id="twitter")], {}, lambda _: [])
            days = {d for d, _ in rows}
            assert tables["mention_counts"].num_rows == len(days)
            assert sum(tables["mention_counts"]["mentions"].to_pylist()) == sum(n for _, n in rows)


def test_kinds_mentions_and_errors_from_documented_shapes() -> None:
    assert tweet_kind({"referenced_tweets": [{"type": "retweeted", "id": "1"}]}) == "repost"
    assert tweet_kind({"referenced_tweets": [{"type": "replied_to", "id": "1"},
                                             {"type": "quoted", "id": "2"}]}) == "quote"
    assert tweet_kind({"referenced_tweets": [{"type": "replied_to", "id": "1"}]}) == "reply"
    tweet = {"entities": {"mentions": [{"start": 0, "end": 7, "username": "Sanofi"}]}}
    assert mentioned_handles(tweet) == ["sanofi"]
    assert user_error_status({"title": "Forbidden", "detail": "User has been suspended: [x]."}) == "suspended"
    assert user_error_status({"title": "Not Found Error", "detail": "Could not find user"}) == "not_found"
    assert ts("2018-04-30T23:59:59.000Z") == datetime(2018, 4, 30, 23, 59, 59)
    assert count_rows({"data": [{"start": "2018-01-02T00:00:00.000Z", "end": "2018-01-03T00:00:00.000Z",
                                 "tweet_count": 4}]}) == [(date(2018, 1, 2), 4)]


def test_snowflake_time_matches_x_ids() -> None:
    from barometer.collect import X_EPOCH_MS, snowflake_time

    # X ids carry their creation time: ms since X's epoch, shifted left 22 bits.
    ms = 1_524_000_000_123
    assert snowflake_time(str(((ms - X_EPOCH_MS) << 22) | 4095)) == datetime(2018, 4, 17, 21, 20, 0, 123000)
    # The recorded "new Twitter API" announcement (get_tweet.yaml) was posted on 2020-08-12.
    (_, body, _), = recorded("get_tweet.yaml")
    assert snowflake_time(body["data"]["id"]).date() == date(2020, 8, 12)
