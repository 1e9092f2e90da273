"""The simulator through the production client stack: tweepy over real HTTP."""

# Fixtures are imported from conftest_sim, so their parameters "redefine" the imports.
# ruff: noqa: F811

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy
from conftest_sim import SIM_NOW, TOKEN, sim_client, sim_server, sim_world, validate  # noqa: F401

from barometer.sim import calibration as cal
from barometer.sim.faults import FaultPlan
from barometer.sim.server import SimServer
from barometer.sim.world import World


@pytest.fixture
def client(sim_server: SimServer) -> tweepy.Client:
    return sim_client(sim_server.url)


@pytest.fixture(autouse=True)
def _reset(sim_server: SimServer):  # type: ignore[no-untyped-def]
    yield
    sim_server.set_faults(None)
    sim_server.set_now(SIM_NOW)


def test_profiles(client: tweepy.Client, sim_world: World) -> None:
    handles = [b.accounts[0].handle for b in sim_world.panel.brands]
    r = client.get_users(usernames=handles, user_fields=["public_metrics", "created_at"])
    got = {u.username: u.public_metrics["followers_count"] for u in r.data}
    want = {t.brand_id: t.followers_end for t in cal.PHARMA}
    for b in sim_world.panel.brands:
        assert got[b.accounts[0].handle] == want[b.id]
    assert isinstance(r.data[0].created_at, datetime)


def test_timeline_paginates_whole_window(client: tweepy.Client, sim_world: World) -> None:
    uid = sim_world.brand_user("msd-france").id
    posts = list(
        tweepy.Paginator(
            client.get_users_tweets,
            uid,
            max_results=100,
            exclude=["retweets"],
            start_time="2017-11-01T00:00:00Z",
            end_time="2018-05-01T00:00:00Z",
            tweet_fields=["created_at", "public_metrics"],
        ).flatten()
    )
    assert len(posts) == 198
    assert len({p.id for p in posts}) == 198
    assert posts == sorted(posts, key=lambda p: -p.id)
    # since_id: only newer posts come back.
    newer = client.get_users_tweets(uid, since_id=posts[5].id, max_results=100)
    assert [t.id for t in newer.data] == [p.id for p in posts[:5]]


def test_interactions_as_last_observed(client: tweepy.Client, sim_world: World) -> None:
    uid = sim_world.brand_user("sanofi").id
    posts = list(
        tweepy.Paginator(
            client.get_users_tweets,
            uid,
            max_results=100,
            exclude=["retweets"],
            start_time="2017-11-01T00:00:00Z",
            end_time="2018-05-01T00:00:00Z",
            tweet_fields=["public_metrics"],
        ).flatten()
    )
    m = [p.public_metrics for p in posts]
    total = sum(x["like_count"] + x["retweet_count"] + x["reply_count"] + x["quote_count"] for x in m)
    assert len(posts) == 429 and total == 8341


def test_search_recent_paginates_and_counts_agree(client: tweepy.Client, sim_world: World) -> None:
    q = sim_world.panel.brand("msd-france").mention_query
    start, end = "2018-04-24T05:00:00Z", "2018-05-01T00:00:00Z"
    found = list(
        tweepy.Paginator(
            client.search_recent_tweets,
            q,
            max_results=100,
            start_time=start,
            end_time=end,
            expansions=["author_id"],
            user_fields=["public_metrics"],
        ).flatten()
    )
    counts = client.get_recent_tweets_count(q, start_time=start, end_time=end, granularity="day")
    assert len(found) == counts.meta["total_tweet_count"] == sum(d["tweet_count"] for d in counts.data)
    assert len(found) > 100
    assert all(not t.text.startswith("RT @") for t in found)


def test_search_all_counts_window(client: tweepy.Client) -> None:
    r = client.get_all_tweets_count(
        '(@GSK_FR OR "GSK France") -is:retweet',
        start_time="2017-11-01T00:00:00Z",
        end_time="2018-05-01T00:00:00Z",
        granularity="day",
    )
    total = r.meta["total_tweet_count"]
    token = r.meta.get("next_token")
    while token:
        r = client.get_all_tweets_count(
            '(@GSK_FR OR "GSK France") -is:retweet',
            start_time="2017-11-01T00:00:00Z",
            end_time="2018-05-01T00:00:00Z",
            granularity="day",
            next_token=token,
        )
        total += r.meta["total_tweet_count"]
        token = r.meta.get("next_token")
    assert total == 2300
    with_rt = client.get_all_tweets_count(
        '@GSK_FR OR "GSK France"',
        start_time="2017-11-01T00:00:00Z",
        end_time="2017-12-01T00:00:00Z",
        granularity="day",
    )
    assert with_rt.meta["total_tweet_count"] > 0


def test_faults_through_tweepy(client: tweepy.Client, sim_server: SimServer) -> None:
    sim_server.set_faults(
        FaultPlan.parse("429@search_recent:1,503@users_tweets:1,malformed@counts_recent:1,reset@users_by:1")
    )
    with pytest.raises(tweepy.TooManyRequests) as e:
        client.search_recent_tweets("sanofi")
    assert e.value.response.headers["x-rate-limit-remaining"] == "0"
    client.search_recent_tweets("sanofi")  # consumed: next one passes
    uid = sim_server.world.brand_user("sanofi").id
    with pytest.raises(tweepy.TwitterServerError):
        client.get_users_tweets(uid)
    with pytest.raises(requests.JSONDecodeError):
        client.get_recent_tweets_count("sanofi")
    with pytest.raises(requests.ConnectionError):
        client.get_users(usernames=["sanofi"])
    assert client.get_users(usernames=["sanofi"]).data[0].username == "sanofi"
    assert sim_server.stats["faults"] == {"429": 1, "503": 1, "malformed": 1, "reset": 1}


def test_timeout_fault(sim_server: SimServer) -> None:
    sim_server.set_faults(FaultPlan.parse("timeout@usage", timeout_seconds=5.0))
    t0 = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(
            sim_server.url + "/2/usage/tweets", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=0.2
        )
    assert time.monotonic() - t0 < 4.0  # the client gave up, long before the server's 5 s stall


def test_cap_exhausted(client: tweepy.Client, sim_server: SimServer) -> None:
    sim_server.set_faults(FaultPlan.parse("cap"))
    r = requests.get(
        sim_server.url + "/2/tweets/search/recent?query=sanofi",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert r.status_code == 429 and r.json()["title"] == "UsageCapExceeded"
    validate(r.json(), "Problem")
    assert int(r.headers["x-rate-limit-reset"]) > time.time() + 86400 - 5
    u = requests.get(
        sim_server.url + "/2/usage/tweets", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    data = u.json()["data"]
    assert data["project_usage"] == data["project_cap"]


def test_handles_suspended_unknown_renamed(client: tweepy.Client, sim_server: SimServer) -> None:
    sim_server.set_faults(FaultPlan.parse("suspended=GSK_FR,unknown=RocheFrance,rename=MSDFrance>MSD_FR"))
    r = client.get_users(usernames=["GSK_FR", "RocheFrance", "MSDFrance", "MSD_FR", "sanofi"])
    assert [u.username for u in r.data] == ["MSD_FR", "sanofi"]
    details = [e["detail"] for e in r.errors]
    assert details == [
        "User has been suspended: [GSK_FR].",
        "Could not find user with usernames: [RocheFrance].",
        "Could not find user with usernames: [MSDFrance].",
    ]
    assert str(r.data[0].id) == sim_server.world.brand_user("msd-france").id


def test_deleted_posts_disappear(client: tweepy.Client, sim_server: SimServer) -> None:
    uid = sim_server.world.brand_user("sanofi").id
    before = client.get_users_tweets(uid, max_results=100).data
    sim_server.set_faults(FaultPlan.parse("delete=3"))
    deleted = sorted(sim_server.api.deleted)
    assert len(deleted) == 3
    after = client.get_users_tweets(uid, max_results=100).data
    assert len({t.id for t in before} - {t.id for t in after}) >= 1
    r = client.get_tweets(deleted)
    assert r.data is None and [e["resource_id"] for e in r.errors] == [str(i) for i in deleted]
    # Travelling back before the deletion shows them again.
    sim_server.set_now(SIM_NOW - timedelta(hours=1))
    sim_server.set_now(SIM_NOW)


def test_clock_controls_existence_and_metrics(client: tweepy.Client, sim_server: SimServer) -> None:
    uid = sim_server.world.brand_user("pfizer-france").id
    sim_server.set_now(datetime(2018, 1, 10, 5, tzinfo=UTC))
    r = client.get_users_tweets(uid, max_results=5, tweet_fields=["created_at", "public_metrics"])
    assert all(t.created_at < datetime(2018, 1, 10, 5, tzinfo=UTC) for t in r.data)
    young = client.get_tweets([r.data[0].id], tweet_fields=["public_metrics"]).data[0].public_metrics
    sim_server.set_now(datetime(2018, 2, 10, 5, tzinfo=UTC))
    old = client.get_tweets([r.data[0].id], tweet_fields=["public_metrics"]).data[0].public_metrics
    assert young["like_count"] <= old["like_count"]
    with pytest.raises(tweepy.BadRequest):
        client.search_recent_tweets("sanofi", start_time=datetime(2018, 1, 1, tzinfo=UTC))


def test_rate_limit_exhaustion(sim_world: World) -> None:
    from barometer.sim.api import XApi

    clock = [1_000_000.0]
    api = XApi(sim_world, TOKEN, SIM_NOW, clock=lambda: clock[0])
    auth = {"authorization": f"Bearer {TOKEN}"}
    q = "start_time=2018-04-01T00:00:00Z&end_time=2018-04-02T00:00:00Z&query=sanofi"
    assert api.handle("/2/tweets/search/all", q, auth).status == 200
    assert api.handle("/2/tweets/search/all", q, auth).status == 429  # one request a second
    clock[0] += 2
    for _ in range(300):
        assert api.handle("/2/tweets/counts/recent", "query=sanofi", auth).status == 200
    r = api.handle("/2/tweets/counts/recent", "query=sanofi", auth)
    assert r.status == 429
    assert r.headers["x-rate-limit-reset"] == str(int(clock[0] // 900 + 1) * 900)
    validate(json.loads(r.body or b""), "Problem")
    clock[0] += 900
    assert api.handle("/2/tweets/counts/recent", "query=sanofi", auth).status == 200


def test_keep_alive_and_speed(sim_server: SimServer, sim_world: World) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    uid = sim_world.brand_user("sanofi").id
    s.get(sim_server.url + "/2/tweets/search/recent?query=sanofi", timeout=5)  # warm the query cache
    t0 = time.perf_counter()
    n = 50
    for _ in range(n):
        assert (
            s.get(
                sim_server.url + f"/2/users/{uid}/tweets?max_results=100&tweet.fields=public_metrics",
                timeout=5,
            ).status_code
            == 200
        )
    per = (time.perf_counter() - t0) / n
    assert per < 0.2  # generous: CI machines are shared; typically a few ms
    assert sim_server.stats["requests"]["users_tweets"] >= n
