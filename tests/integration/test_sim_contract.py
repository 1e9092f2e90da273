"""Simulator responses validate against X's official OpenAPI spec, endpoint by endpoint."""

# Fixtures are imported from conftest_sim, so their parameters "redefine" the imports.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest_sim import SIM_NOW, TOKEN, sim_server, sim_world, validate  # noqa: F401

from barometer.sim.server import SimServer

TF = (
    "tweet.fields=author_id,created_at,lang,public_metrics,entities,referenced_tweets,conversation_id,"
    "in_reply_to_user_id"
)
UF = "user.fields=created_at,description,location,public_metrics,verified,protected,profile_image_url"


def get(srv: SimServer, path: str, token: str = TOKEN) -> requests.Response:
    return requests.get(srv.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture(scope="module")
def ids(sim_server: SimServer) -> dict[str, str]:
    r = get(sim_server, "/2/users/by?usernames=sanofi,MSDFrance")
    users = {u["username"]: u["id"] for u in r.json()["data"]}
    tl = get(sim_server, f"/2/users/{users['sanofi']}/tweets?max_results=5").json()
    return {"sanofi": users["sanofi"], "msd": users["MSDFrance"], "post": tl["data"][0]["id"]}


CASES: list[tuple[str, str]] = [
    ("/2/users/by?usernames=sanofi,GSK_FR,nobody_here&" + UF, "Get2UsersByResponse"),
    ("/2/users?ids={sanofi},{msd},1&" + UF, "Get2UsersResponse"),
    (
        "/2/users/{sanofi}/tweets?max_results=100&" + TF + "&expansions=author_id&" + UF,
        "Get2UsersIdTweetsResponse",
    ),
    (
        "/2/users/{sanofi}/tweets?exclude=retweets,replies&start_time=2018-04-01T00:00:00Z"
        "&end_time=2018-05-01T00:00:00Z",
        "Get2UsersIdTweetsResponse",
    ),
    (
        "/2/tweets?ids={post},1,{post}&" + TF + "&expansions=author_id,referenced_tweets.id",
        "Get2TweetsResponse",
    ),
    (
        "/2/tweets/search/recent?query=(@sanofi OR sanofi) -is:retweet&max_results=100&"
        + TF
        + "&expansions=author_id&user.fields=public_metrics",
        "Get2TweetsSearchRecentResponse",
    ),
    ("/2/tweets/search/recent?query=zzzunmatched", "Get2TweetsSearchRecentResponse"),
    ("/2/tweets/counts/recent?query=@MSDFrance&granularity=day", "Get2TweetsCountsRecentResponse"),
    ("/2/tweets/counts/recent?query=@MSDFrance", "Get2TweetsCountsRecentResponse"),
    (
        '/2/tweets/search/all?query="GSK France"&start_time=2017-11-01T00:00:00Z'
        "&end_time=2018-05-01T00:00:00Z&max_results=500&" + TF,
        "Get2TweetsSearchAllResponse",
    ),
    (
        "/2/tweets/counts/all?query=sanofi&start_time=2017-11-01T00:00:00Z&end_time=2018-05-01T00:00:00Z"
        "&granularity=day",
        "Get2TweetsCountsAllResponse",
    ),
    (
        "/2/usage/tweets?usage.fields=daily_project_usage,daily_client_app_usage,project_usage,project_cap",
        "Get2UsageTweetsResponse",
    ),
    ("/2/usage/tweets", "Get2UsageTweetsResponse"),
]


@pytest.mark.parametrize(("path", "schema"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)])
def test_ok_responses_validate(sim_server: SimServer, ids: dict[str, str], path: str, schema: str) -> None:
    r = get(sim_server, path.format(**ids))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["content-length"]) == len(r.content)
    body: dict[str, Any] = r.json()
    validate(body, schema)
    for t in body.get("data", []) if isinstance(body.get("data"), list) else []:
        if "text" in t:
            assert t["edit_history_tweet_ids"] == [t["id"]]


ERRORS = [
    ("/2/users/by?usernames=sanofi", "bad-token", 401),
    ("/2/tweets/search/recent?query=sanofi&start_time=2018-04-01T00:00:00Z", TOKEN, 400),
    ("/2/tweets/search/recent?query=sanofi&max_results=500", TOKEN, 400),
    ("/2/tweets/search/recent?query=(sanofi", TOKEN, 400),
    ("/2/users/{sanofi}/tweets?max_results=2", TOKEN, 400),
    ("/2/users/by?usernames=sanofi&colour=blue", TOKEN, 400),
    ("/2/tweets?ids=abc", TOKEN, 400),
    ("/2/tweets/search/recent?query=sanofi&tweet.fields=bogus", TOKEN, 400),
    ("/2/nope", TOKEN, 404),
]


@pytest.mark.parametrize(("path", "token", "status"), ERRORS)
def test_error_responses_are_x_problems(
    sim_server: SimServer, ids: dict[str, str], path: str, token: str, status: int
) -> None:
    r = get(sim_server, path.format(**ids), token=token)
    assert r.status_code == status, r.text
    # X sends RFC 7807 problem documents for errors (the spec's `default: Error` is not
    # what the API actually returns).
    validate(r.json(), "Problem")


def test_rate_limit_headers(sim_server: SimServer) -> None:
    a = get(sim_server, "/2/tweets/counts/recent?query=sanofi")
    b = get(sim_server, "/2/tweets/counts/recent?query=sanofi")
    assert a.headers["x-rate-limit-limit"] == "300"
    assert int(b.headers["x-rate-limit-remaining"]) == int(a.headers["x-rate-limit-remaining"]) - 1
    assert int(a.headers["x-rate-limit-reset"]) % 900 == 0


def test_resource_errors(sim_server: SimServer, ids: dict[str, str]) -> None:
    body = get(sim_server, "/2/users/by?usernames=nobody_here").json()
    assert "data" not in body
    assert body["errors"][0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"
    assert body["errors"][0]["detail"] == "Could not find user with usernames: [nobody_here]."
    body = get(sim_server, f"/2/tweets?ids=1,{ids['post']}").json()
    assert [t["id"] for t in body["data"]] == [ids["post"]]
    assert body["errors"][0]["resource_id"] == "1"
