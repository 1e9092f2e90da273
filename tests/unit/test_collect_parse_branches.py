"""Every branch of the parser by value, on documented X API v2 shapes: the id bounds of
gap-filling pages, the brand's own posts left out of its mentions, lookups and deletions,
profiles (renamed, suspended, not found, not read), counts, and what X bills per endpoint."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from barometer.collect.parse import (
    COUNT_ENDPOINTS,
    LOOKUP,
    NOT_FOUND,
    SEARCH_ENDPOINTS,
    TIMELINE,
    USER_ENDPOINTS,
    billed,
    billed_ids,
    build_tables,
    count_rows,
    data_list,
    id_int,
    mentioned_handles,
    mentioned_ids,
    page_ids,
    ts,
    tweet_kind,
    user_error_status,
)
from barometer.config import parse_panel

SEEN = "2018-04-30T06:00:00"
AT = datetime(2018, 4, 30, 6)

PANEL = parse_panel({
    "id": "p", "name": "P",
    "brands": [
        {"id": "alpha", "name": "Alpha", "mention_query": "alpha",
         "accounts": [{"handle": "AlphaFR"}, {"handle": "AlphaUS"}]},
        {"id": "beta", "name": "Beta", "mention_query": "beta",
         "accounts": [{"handle": "BetaCo"}, {"handle": "BetaGone"}, {"handle": "BetaMissing"},
                      {"handle": "BetaUnread"}, {"handle": "BetaOld"}]},
    ],
})


def pg(endpoint: str, body: Any, observed_at: str | None = SEEN, **ctx: Any) -> dict[str, Any]:
    return {"endpoint": endpoint, "context": ctx, "observed_at": observed_at, "body": body}


def tweet(i: str, author: str = "1", **kw: Any) -> dict[str, Any]:
    return {"id": i, "text": f"text {i}", "author_id": author, **kw}


def build(*pages: dict[str, Any], prior: dict[str, dict[str, Any]] | None = None) -> tuple[dict[str, Any], list[str]]:
    tables, errors = build_tables(PANEL, pages, prior or {}, lambda text: ["topic"] if text else [])
    return {k: t.to_pylist() for k, t in tables.items()}, errors


def test_endpoint_names() -> None:
    assert USER_ENDPOINTS == ("users_by_username", "users_by_id")
    assert (TIMELINE, LOOKUP) == ("user_tweets", "tweets_lookup")
    assert SEARCH_ENDPOINTS == ("search_recent", "search_all")
    assert COUNT_ENDPOINTS == ("counts_recent", "counts_all")
    assert NOT_FOUND == "https://api.twitter.com/2/problems/resource-not-found"


# -- gap filling: since_id / until_id are exclusive bounds ----------------------------------
@pytest.mark.parametrize(("bounds", "kept"), [
    ({}, ["5", "9", "10", "15", "20", "21"]),
    ({"since_id": "9"}, ["10", "15", "20", "21"]),
    ({"until_id": "20"}, ["5", "9", "10", "15"]),
    ({"since_id": "9", "until_id": "20"}, ["10", "15"]),
    ({"since_id": 10, "until_id": 21}, ["15", "20"]),  # numbers, not strings: "9" < "10"
])
def test_timeline_and_search_pages_keep_ids_strictly_inside_their_bounds(bounds: dict[str, Any],
                                                                         kept: list[str]) -> None:
    ids = ["21", "20", "15", "10", "9", "5"]
    body = {"data": [tweet(i, author="42") for i in ids]}
    t, _ = build(pg("user_tweets", body, brand_id="alpha", account_id="100", **bounds),
                 pg("search_recent", body, brand_id="beta", own_ids=[], **bounds))
    assert [r["post_id"] for r in t["posts"]] == sorted(kept, key=str)
    assert [r["post_id"] for r in t["mentions"]] == sorted(kept, key=str)


# -- mentions --------------------------------------------------------------------------------
def test_the_brands_own_posts_are_not_its_mentions() -> None:
    body = {"data": [tweet("1", "100"), tweet("2", "7"), tweet("3", "101"), tweet("4", None)],
            "includes": {"users": [{"id": "7", "username": "fan", "public_metrics": {"followers_count": 12}},
                                   {"id": "100", "username": "AlphaFR"}]}}
    t, _ = build(pg("search_all", body, brand_id="alpha", own_ids=["100", "101"]))
    rows = t["mentions"]
    assert [(r["post_id"], r["author_id"]) for r in rows] == [("2", "7"), ("4", None)]
    fan, anon = rows
    assert (fan["brand_id"], fan["network"], fan["author_handle"], fan["author_followers"]) == ("alpha", "x", "fan", 12)
    assert (anon["author_handle"], anon["author_followers"]) == (None, None)
    assert fan["observed_at"] == AT and fan["topics"] == ["topic"] and fan["text"] == "text 2"
    # Without own ids, the same page counts every post.
    t, _ = build(pg("search_recent", body, brand_id="alpha"))
    assert [r["post_id"] for r in t["mentions"]] == ["1", "2", "3", "4"]


def test_a_post_mentioning_two_brands_is_a_mention_of_each_once() -> None:
    body = {"data": [tweet("5", "7")]}
    t, _ = build(pg("search_recent", body, brand_id="beta"), pg("search_recent", body, brand_id="alpha"),
                 pg("search_recent", body, brand_id="alpha"))
    assert [(r["brand_id"], r["post_id"]) for r in t["mentions"]] == [("alpha", "5"), ("beta", "5")]


# -- posts -----------------------------------------------------------------------------------
def test_timeline_rows() -> None:
    t1 = tweet("12", "100", created_at="2018-04-29T10:00:00.000Z", lang="fr",
               public_metrics={"like_count": 1, "retweet_count": 2, "reply_count": 3, "quote_count": 4,
                               "impression_count": 50},
               entities={"mentions": [{"username": "Beta"}, {"start": 0}]},
               referenced_tweets=[{"type": "quoted", "id": "1"}])
    t2 = {"id": "13", "text": None}  # no author_id: the account asked for
    t, _ = build(pg("user_tweets", {"data": [t1, t2]}, brand_id="alpha", account_id="999"))
    a, b = t["posts"]
    assert a == {"post_id": "12", "brand_id": "alpha", "network": "x", "account_id": "100",
                 "created_at": datetime(2018, 4, 29, 10), "kind": "quote", "text": "text 12", "lang": "fr",
                 "likes": 1, "reposts": 2, "replies": 3, "quotes": 4, "impressions": 50,
                 "mentioned_handles": ["beta"], "topics": ["topic"], "deleted": False, "observed_at": AT}
    assert (b["account_id"], b["kind"], b["likes"], b["topics"], b["created_at"]) == ("999", "original", None, [], None)


def test_lookup_refreshes_known_posts_and_records_deletions() -> None:
    prior = {
        "1": {"post_id": "1", "brand_id": "alpha", "account_id": "100", "likes": 3},
        "2": {"post_id": "2", "brand_id": "alpha", "account_id": "100", "likes": 9,
              "observed_at": datetime(2018, 4, 1)},
        "3": {"post_id": "3", "brand_id": "beta", "account_id": "200"},
        "4": {"post_id": "4", "brand_id": "beta", "account_id": "200"},
        "6": {"post_id": "6", "brand_id": "beta", "account_id": "200"},
    }
    prior["7"] = {"post_id": "7", "brand_id": "beta", "account_id": "200"}
    body = {
        "data": [tweet("1", "100", public_metrics={"like_count": 8}), tweet("5", "100"), tweet("6", "200")],
        "errors": [
            {"resource_id": "5", "type": NOT_FOUND},  # not a post we know: skipped, the rest read on
            {"resource_id": "", "type": NOT_FOUND},
            {"resource_id": "2", "resource_type": "tweet", "type": NOT_FOUND, "title": "Not Found Error"},
            {"value": "3", "type": NOT_FOUND, "title": "Not Found Error"},  # no resource_type: a tweet
            {"resource_id": "4", "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
             "title": "Authorization Error", "detail": "Sorry, you are not authorized to see the Tweet."},
            {"resource_id": "5", "type": NOT_FOUND},  # not a post we know: nothing
            {"resource_id": "6", "type": NOT_FOUND},  # also returned as data: kept, not deleted
            {"resource_id": "2", "resource_type": "user", "type": NOT_FOUND},  # 2 already has its row
            {"resource_id": "7", "resource_type": "user", "type": NOT_FOUND, "title": "Not Found Error",
             "detail": "the author is gone"},  # a user, not the post: an error line, not a deletion
        ],
    }
    t, errors = build(pg("tweets_lookup", body), prior=prior)
    rows = {r["post_id"]: r for r in t["posts"]}
    assert sorted(rows) == ["1", "2", "3", "6"]
    assert (rows["1"]["likes"], rows["1"]["deleted"], rows["1"]["brand_id"], rows["1"]["account_id"]) == \
        (8, False, "alpha", "100")
    assert (rows["2"]["deleted"], rows["2"]["likes"], rows["2"]["observed_at"]) == (True, 9, AT)
    assert rows["3"]["deleted"] is True and rows["6"]["deleted"] is False
    assert errors == [
        "post 2 of alpha deleted since last observed",
        "post 3 of beta deleted since last observed",
        "post 4 of beta: Authorization Error: Sorry, you are not authorized to see the Tweet.",
        "post 7 of beta: Not Found Error: the author is gone",
    ]
    assert "7" not in rows


def test_a_lookup_does_not_overwrite_the_timelines_observation() -> None:
    prior = {"12": {"post_id": "12", "brand_id": "alpha", "account_id": "100"}}
    t, _ = build(pg("user_tweets", {"data": [tweet("12", "100", public_metrics={"like_count": 1})]},
                    brand_id="alpha", account_id="100"),
                 pg("tweets_lookup", {"data": [tweet("12", "100", public_metrics={"like_count": 2})]}),
                 prior=prior)
    assert [r["likes"] for r in t["posts"]] == [1]


def test_tables_are_sorted_and_malformed_pages_skipped() -> None:
    bad = {"endpoint": "user_tweets", "context": {"brand_id": "alpha", "account_id": "100"},
           "body_text": "{oops"}
    t, errors = build(bad, pg("user_tweets", {"data": [tweet("9"), tweet("10")]}, brand_id="beta", account_id="2"),
                      pg("user_tweets", {"data": [tweet("11")]}, brand_id="alpha", account_id="1"))
    assert [(r["brand_id"], r["post_id"]) for r in t["posts"]] == [("alpha", "11"), ("beta", "10"), ("beta", "9")]
    assert errors == []


def test_a_page_without_observed_at_is_dated_1970() -> None:
    t, _ = build(pg("user_tweets", {"data": [tweet("1")]}, observed_at=None, brand_id="a", account_id="1"))
    assert t["posts"][0]["observed_at"] == datetime(1970, 1, 1)


# -- counts ----------------------------------------------------------------------------------
def test_counts_sum_buckets_per_brand_and_day() -> None:
    b1 = {"data": [{"start": "2018-04-28T00:00:00.000Z", "tweet_count": 3},
                   {"start": "2018-04-29T00:00:00.000Z", "tweet_count": 5},
                   {"start": "2018-04-29T13:00:00.000Z", "tweet_count": 2},
                   {"end": "2018-04-30T00:00:00.000Z", "tweet_count": 99},  # no start: skipped
                   {"start": "2018-04-30T00:00:00.000Z"}]}  # no count: 0
    t, _ = build(pg("counts_recent", b1, brand_id="beta"), pg("counts_all", b1, brand_id="alpha"))
    days = [date(2018, 4, 28), date(2018, 4, 29), date(2018, 4, 30)]
    assert [(r["brand_id"], r["network"], r["day"], r["mentions"]) for r in t["mention_counts"]] == [
        ("alpha", "x", days[0], 3), ("alpha", "x", days[1], 7), ("alpha", "x", days[2], 0),
        ("beta", "x", days[0], 3), ("beta", "x", days[1], 7), ("beta", "x", days[2], 0)]
    assert count_rows({}) == []


# -- profiles --------------------------------------------------------------------------------
def test_profiles_ok_renamed_suspended_and_not_found_by_handle_or_id() -> None:
    by_name = {
        "data": [{"id": "100", "username": "alphafr", "name": "Alpha France",
                  "public_metrics": {"followers_count": 10, "following_count": 2, "tweet_count": 30,
                                     "listed_count": 4}},
                 {"id": "300", "username": "BetaCo"}],
        "errors": [
            {"value": "BetaGone", "detail": "User has been suspended: [BetaGone].", "title": "Forbidden"},
            {"resource_id": "BETAMISSING", "detail": "Could not find user with usernames: [BetaMissing].",
             "title": "Not Found Error"},
            {"title": "no value nor resource id"},
        ],
    }
    by_id = {
        "data": [{"id": "200", "username": "AlphaUSA", "public_metrics": {"followers_count": 7}}],
        "errors": [{"resource_id": "500", "title": "Not Found Error", "detail": "Could not find user with id 500"},
                   {"title": "neither"}],
    }
    by_id["errors"].append({"value": "501", "title": "Forbidden", "detail": "User has been suspended"})
    t, errors = build(pg("users_by_id", by_id, observed_at="2018-04-30T06:00:05",
                         ids={"200": "alphaus", "500": "betaold", "501": "betaunread"}),
                      pg("users_by_username", by_name, observed_at="2018-04-30T06:00:09"))
    rows = {r["handle"]: r for r in t["accounts"]}
    later, last = datetime(2018, 4, 30, 6, 0, 5), datetime(2018, 4, 30, 6, 0, 9)
    assert rows["alphafr"] == {"brand_id": "alpha", "network": "x", "account_id": "100", "handle": "alphafr",
                               "name": "Alpha France", "status": "ok", "followers": 10, "following": 2,
                               "posts_count": 30, "listed": 4, "collected_at": last}
    assert (rows["AlphaUSA"]["account_id"], rows["AlphaUSA"]["status"], rows["AlphaUSA"]["followers"],
            rows["AlphaUSA"]["collected_at"]) == ("200", "renamed", 7, later)
    assert (rows["BetaCo"]["status"], rows["BetaCo"]["account_id"]) == ("ok", "300")
    assert (rows["BetaGone"]["status"], rows["BetaGone"]["account_id"], rows["BetaGone"]["collected_at"]) == \
        ("suspended", None, last)  # the run's last profile read
    assert rows["BetaMissing"]["status"] == "not_found"
    assert (rows["BetaOld"]["status"], rows["BetaOld"]["account_id"]) == ("not_found", "500")
    assert (rows["BetaUnread"]["status"], rows["BetaUnread"]["account_id"]) == ("suspended", "501")
    assert "AlphaFR" not in rows and len(rows) == 7  # AlphaFR's row is under its new case, alphafr
    assert errors == [
        "@AlphaUS (alpha) renamed to @AlphaUSA: history kept on account 200; update the panel",
        "@BetaGone (beta): suspended (User has been suspended: [BetaGone].)",
        "@BetaMissing (beta): not_found (Could not find user with usernames: [BetaMissing].)",
        "@BetaUnread (beta): suspended (User has been suspended)",
        "@BetaOld (beta): not_found (Could not find user with id 500)",
    ]


def test_a_known_id_that_still_has_its_handle_is_ok_and_an_unanswered_id_has_no_row() -> None:
    by_id = {"data": [{"id": "200", "username": "ALPHAUS"}]}
    by_name = {"data": [{"id": "301", "username": "BetaGone"}]}
    t, errors = build(pg("users_by_id", by_id, ids={"200": "alphaus", "900": "betaco"}),
                      pg("users_by_username", by_name))
    # BetaCo (id 900) got no answer: no row, and the brand's next accounts are still read.
    assert [(r["handle"], r["status"], r["account_id"]) for r in t["accounts"]] == [
        ("ALPHAUS", "ok", "200"), ("BetaGone", "ok", "301")]
    assert errors == []


def test_no_profile_page_no_account_rows() -> None:
    t, errors = build(pg("user_tweets", {"data": []}, brand_id="alpha", account_id="1"))
    assert t["accounts"] == [] and errors == []


# -- helpers ---------------------------------------------------------------------------------
def test_small_helpers() -> None:
    assert ts(None) is None and ts("") is None
    assert ts("2018-04-30T23:59:59.123Z") == datetime(2018, 4, 30, 23, 59, 59, 123000)
    assert id_int("10") == 10 and id_int(9) == 9 and id_int(None) == 0
    assert data_list({}) == [] and data_list({"data": {"id": "1"}}) == [{"id": "1"}]
    assert data_list({"data": [{"id": "1"}, {"id": "2"}]}) == [{"id": "1"}, {"id": "2"}]
    assert page_ids({"data": [{"id": "10"}, {"id": "9"}]}) == [10, 9]
    assert tweet_kind({}) == "original" and tweet_kind({"referenced_tweets": None}) == "original"
    assert tweet_kind({"referenced_tweets": [{"type": "quoted"}, {"type": "retweeted"}]}) == "repost"
    assert mentioned_handles({"entities": {"mentions": [{"username": "A"}, {"username": ""}, {}]}}) == ["a"]
    assert mentioned_handles({"entities": None}) == [] and mentioned_handles({}) == []
    assert user_error_status({"title": "Suspended"}) == "suspended"
    assert user_error_status({"detail": "account SUSPENDED"}) == "suspended"
    assert user_error_status({}) == "not_found"


@pytest.mark.parametrize(("endpoint", "posts", "users"), [
    ("users_by_username", [], ["1", "2", "9"]), ("users_by_id", [], ["1", "2", "9"]),
    ("user_tweets", ["1", "2", "50"], ["9"]), ("tweets_lookup", ["1", "2", "50"], ["9"]),
    ("search_recent", ["1", "2", "50"], ["9"]), ("search_all", ["1", "2", "50"], ["9"]),
    ("counts_recent", [], []), ("counts_all", [], []),
])
def test_what_x_bills_per_endpoint(endpoint: str, posts: list[str], users: list[str]) -> None:
    body = {"data": [{"id": "1"}, {"id": "2"}, "junk"],
            "includes": {"users": [{"id": "9"}, "junk"], "tweets": [{"id": "50"}, 7]}}
    assert billed_ids(endpoint, body) == (posts, users)
    assert billed(endpoint, body) == (len(posts), len(users))
    assert billed_ids(endpoint, {}) == ([], [])


def test_mentions_keep_mentioned_ids_and_their_sample_weight() -> None:
    t1 = tweet("8", "7", entities={"mentions": [{"username": "Alpha", "id": "100"}, {"username": "Beta"},
                                                {"id": "5"}, {"username": "Gamma", "id": 12}]})
    assert mentioned_ids(t1) == ["100", None, "12"] and mentioned_handles(t1) == ["alpha", "beta", "gamma"]
    assert mentioned_ids({}) == [] and mentioned_ids({"entities": {"mentions": None}}) == []
    t, _ = build(pg("search_recent", {"data": [t1]}, brand_id="alpha", sample_weight=2.5),
                 pg("search_recent", {"data": [t1]}, brand_id="beta"))
    (a, b) = t["mentions"]
    assert (a["brand_id"], a["sample_weight"], a["mentioned_ids"]) == ("alpha", 2.5, ["100", None, "12"])
    assert (b["brand_id"], b["sample_weight"]) == ("beta", 1.0)  # read whole: weight 1


def test_an_account_is_dated_by_the_profile_page_that_answered_for_it() -> None:
    by_name = {"data": [{"id": "100", "username": "AlphaFR"}]}
    by_id = {"data": [{"id": "200", "username": "AlphaUS"}]}
    t, _ = build(pg("users_by_username", by_name, observed_at="2018-04-30T06:00:01"),
                 pg("users_by_id", by_id, observed_at="2018-04-30T06:00:02", ids={"200": "alphaus"}),
                 pg("users_by_username", {"data": []}, observed_at="2018-04-30T06:00:03"))
    assert {r["handle"]: r["collected_at"].second for r in t["accounts"]} == {"AlphaFR": 1, "AlphaUS": 2}
