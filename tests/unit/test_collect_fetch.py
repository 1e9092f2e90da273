"""Every branch of the fetcher pinned exactly: the usage cap by each marker alone, the read
budgets and page-size floors, rate-limit waits (count, margins, the server's Date clock), the
deadline, retries, the clock learnt from X's 400s, archiving and pagination."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine
import tweepy

from barometer.collect import fetch as fetch_mod
from barometer.collect.client import make_client
from barometer.collect.fetch import (
    CAP_RESET_SECONDS,
    RATE_HEADERS,
    Counters,
    Fatal,
    Fetcher,
    Limits,
    Stop,
    StreamFailed,
)
from barometer.lake.store import Lake

# A server clock far from the machine's (a simulator's): 2018-04-30T12:00:00Z.
SERVER = 1_525_089_600.0


def response(status: int, body: bytes = b"{}", reset: float | None = None, date: float | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code, r._content, r.reason = status, body, "Reason"
    if reset is not None:
        r.headers["x-rate-limit-reset"] = str(int(reset))
    if date is not None:
        r.headers["date"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(date))
    r.headers.update(headers or {})
    return r


def limited(reset_in: float, body: bytes = b"{}") -> requests.Response:
    """A 429 whose window resets `reset_in` s after the server's Date."""
    return response(429, body, reset=SERVER + reset_in, date=SERVER)


def scripted(*outcomes: requests.Response | BaseException, calls: list[dict[str, Any]] | None = None) -> Any:
    queue = list(outcomes)

    def method(**kw: Any) -> requests.Response:
        if calls is not None:
            calls.append(dict(kw))
        out = queue.pop(0)
        if isinstance(out, BaseException):
            raise out
        errors = {400: tweepy.BadRequest, 401: tweepy.Unauthorized, 403: tweepy.Forbidden,
                  404: tweepy.NotFound, 429: tweepy.TooManyRequests}
        if out.status_code in errors:
            raise errors[out.status_code](out)
        if out.status_code >= 500:
            raise tweepy.TwitterServerError(out)
        return out

    return method


def page(ids: list[str], users: list[str] = (), **extra: Any) -> requests.Response:  # type: ignore[assignment]
    body: dict[str, Any] = {"data": [{"id": i, "text": "t", "author_id": "1"} for i in ids], **extra}
    if users:
        body["includes"] = {"users": [{"id": u, "username": f"u{u}"} for u in users]}
    return response(200, json.dumps(body).encode(), headers={"x-rate-limit-remaining": "9",
                                                             "x-rate-limit-reset": "5", "other": "x"})


OK = page(["1"])


def fetcher(tmp_path: Path, time_left: float | None = None, posts: int = 1000, users: int = 1000,
            **kw: Any) -> tuple[Fetcher, list[float]]:
    sleeps: list[float] = []
    f = Fetcher(make_client("t"), Lake(str(tmp_path)), "raw/p", datetime(2018, 1, 1, 6),
                Limits(deadline=None, max_post_reads=posts, max_user_reads=users, **kw), sleep=sleeps.append)
    if time_left is not None:
        f.time_left = lambda: time_left  # type: ignore[method-assign]
    return f, sleeps


def test_limits_defaults() -> None:
    lim = Limits(deadline=None, max_post_reads=1, max_user_reads=2)
    assert (lim.max_wait, lim.retries, lim.backoff, lim.search_all_interval) == (900.0, 3, 0.5, 1.05)
    assert CAP_RESET_SECONDS == 3600
    assert RATE_HEADERS == ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
    c = Counters()
    assert (c.requests, c.posts, c.users, c.waits, c.errors) == (0, 0, 0, {}, [])


# -- the monthly usage cap ------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    b'{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap"}',
    b'{"type":"https://api.twitter.com/2/problems/usage-capped","title":"Too Many Requests"}',
])
def test_usage_cap_is_recognised_by_each_marker_alone(tmp_path: Path, body: bytes) -> None:
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match=r"^search_recent: 429 monthly usage cap exceeded: stopped \(no retry this run\)$"):
        f.get("search_recent", scripted(limited(5, body)), {})
    assert sleeps == [] and f.count.requests == 1 and f.count.waits == {}


def test_only_the_first_2000_characters_are_searched_for_the_cap(tmp_path: Path) -> None:
    pad = b'{"title":"Too Many Requests","detail":"' + b"x" * (2000 - 39 - 12)
    assert len(pad + b"usage-capped") == 2000
    f, _ = fetcher(tmp_path)
    with pytest.raises(Stop, match="usage cap"):  # the marker ends at character 2000
        f.get("user_tweets", scripted(limited(5, pad + b'usage-capped"}')), {})
    f, sleeps = fetcher(tmp_path)
    f.get("user_tweets", scripted(limited(5, pad + b'xusage-capped"}'), OK), {})  # one further: a wait
    assert sleeps == [5.05]


def test_a_reset_more_than_an_hour_away_is_the_monthly_cap(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match=r"^user_tweets: 429 resetting in 1\.0 h \(monthly cap\): stopped$"):
        f.get("user_tweets", scripted(limited(3601)), {})
    # Exactly an hour is a (long) window, not the cap: too long to wait (max_wait 900 s).
    f, sleeps = fetcher(tmp_path, max_wait=4000)
    f.get("user_tweets", scripted(limited(3600), OK), {})
    assert sleeps == [3600.05]
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match=r"429 rate limited, resets in 3600 s, past the deadline"):
        f.get("user_tweets", scripted(limited(3600)), {})
    assert sleeps == []


def test_429_without_reset_header_stops(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match=r"^user_tweets: 429 with no reset time: stopped, resumes next run$"):
        f.get("user_tweets", scripted(response(429, date=SERVER)), {})
    assert sleeps == []


# -- rate-limit waits -----------------------------------------------------------------------
def test_wait_is_the_reset_on_the_servers_clock_plus_50_ms(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    f.get("user_tweets", scripted(limited(7), OK), {})
    assert sleeps == [7.0 + 0.05]
    assert f.count.waits == {"user_tweets": (1, 7.05)} and f.count.requests == 2
    # A reset already past: the margin only.
    f, sleeps = fetcher(tmp_path)
    f.get("user_tweets", scripted(limited(-30), OK), {})
    assert sleeps == [0.05]


def test_three_waits_then_a_fourth_429_stops(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    assert f.get("user_tweets", scripted(limited(2), limited(2), limited(2), OK), {})
    assert sleeps == [2.05] * 3 and f.count.requests == 4
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match=r"^user_tweets: 429 rate limited, resets in 2 s, past the deadline: "
                                   r"checkpointed, resumes next run$"):
        f.get("user_tweets", scripted(*[limited(2)] * 4), {})
    assert sleeps == [2.05] * 3 and f.count.requests == 4
    assert f.count.waits == {"user_tweets": (3, pytest.approx(6.15))}


def test_waits_are_counted_per_endpoint_across_requests(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    f.get("user_tweets", scripted(limited(1), OK), {})
    f.get("user_tweets", scripted(limited(3), OK), {})  # a new request: its own three waits
    f.get("search_recent", scripted(limited(10), page(["2"])), {})
    assert f.count.waits == {"user_tweets": (2, pytest.approx(4.1)), "search_recent": (1, 10.05)}
    assert f.count.errors == ["search_recent: 429 rate limited 1x: waited 10.1 s in all for the resets",
                              "user_tweets: 429 rate limited 2x: waited 4.1 s in all for the resets"]


def test_a_wait_longer_than_max_wait_stops(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, max_wait=7.05)
    f.get("user_tweets", scripted(limited(7), OK), {})  # exactly max_wait: waits
    assert sleeps == [7.05]
    f, sleeps = fetcher(tmp_path, max_wait=7.0)
    with pytest.raises(Stop, match="resets in 7 s, past the deadline"):
        f.get("user_tweets", scripted(limited(7)), {})
    assert sleeps == []


def test_a_wait_must_end_half_a_second_before_the_deadline(tmp_path: Path) -> None:
    wait = 7.0 + 0.05
    f, sleeps = fetcher(tmp_path, time_left=wait + 0.5)
    with pytest.raises(Stop, match="past the deadline"):
        f.get("user_tweets", scripted(limited(7)), {})
    assert sleeps == []
    f, sleeps = fetcher(tmp_path, time_left=wait + 0.5 + 1e-6)
    f.get("user_tweets", scripted(limited(7), OK), {})
    assert sleeps == [wait]


# -- the server's clock (Date header) -------------------------------------------------------
@pytest.mark.parametrize(("date_offset", "trusted"), [(5.0, True), (-100.0, True), (3.0, True),
                                                      (2.0, False), (-2.0, False), (0.0, False)])
def test_date_header_is_trusted_only_when_more_than_2_s_off(tmp_path: Path, date_offset: float,
                                                             trusted: bool) -> None:
    now = 1_600_000_000.0
    with time_machine.travel(now, tick=False):
        reset = now + 10
        f, sleeps = fetcher(tmp_path)
        f.get("user_tweets", scripted(response(429, reset=reset, date=now + date_offset), OK), {})
    want = (reset - (now + date_offset) if trusted else reset - now) + 0.05  # 5.05, 110.05, 7.05 or 10.05
    assert sleeps == [pytest.approx(want, abs=1e-9)]


def test_no_or_bad_date_header_falls_back_to_the_machines_clock(tmp_path: Path) -> None:
    now = 1_600_000_000.0
    for headers in ({}, {"date": "not a date"}, {"date": ""}):
        with time_machine.travel(now, tick=False):
            f, sleeps = fetcher(tmp_path)
            r = response(429, reset=now + 4, headers=headers)
            f.get("user_tweets", scripted(r, OK), {})
        assert sleeps == [pytest.approx(4.05, abs=1e-9)], headers
    r = response(200)
    r.headers["date"] = "Mon, 30 Apr 2018 12:00:00 GMT"
    assert fetch_mod._server_now(r) == SERVER


def test_x_400_floor_reveals_the_servers_clock(tmp_path: Path) -> None:
    def bad(floor: str) -> requests.Response:
        msg = f"Invalid 'start_time':'2018-04-01T00:00Z'. 'start_time' must be on or after {floor}Z"
        return response(400, json.dumps({"errors": [{"message": msg}], "title": "Invalid Request"}).encode())

    f, _ = fetcher(tmp_path)
    assert f.server_now is None
    with pytest.raises(StreamFailed, match=r"^counts_recent: 400 Reason: Invalid 'start_time'"):
        f.get("counts_recent", scripted(bad("2018-04-23T10:00")), {})
    assert f.server_now == datetime(2018, 4, 30, 10, 0)  # the floor + the 7-day recent window
    with pytest.raises(StreamFailed):
        f.get("counts_recent", scripted(bad("2018-04-22T09:00")), {})  # earlier: kept the later
    assert f.server_now == datetime(2018, 4, 30, 10, 0)
    with pytest.raises(StreamFailed):
        f.get("counts_recent", scripted(bad("2018-04-24T11:30")), {})
    assert f.server_now == datetime(2018, 5, 1, 11, 30)
    other = response(400, json.dumps({"errors": [{"message": "Invalid 'query'"}]}).encode())
    with pytest.raises(StreamFailed, match=r"^search_recent: 400 Reason: Invalid 'query'$"):
        f.get("search_recent", scripted(other), {})
    assert f.server_now == datetime(2018, 5, 1, 11, 30)


# -- read budgets and page sizes ------------------------------------------------------------
def test_user_read_budget_stops_user_and_search_reads_only(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path, users=2)
    f.get("users_by_username", scripted(response(200, b'{"data":[{"id":"7"},{"id":"8"}]}')), {})
    assert f.count.users == 2
    for ep in ("users_by_username", "users_by_id", "search_recent", "search_all"):
        with pytest.raises(Stop, match=r"^user read budget reached \(2/2\)$"):
            f.get(ep, scripted(OK), {})
    # Timelines, lookups and counts read no users: not stopped.
    for ep in ("user_tweets", "tweets_lookup", "counts_recent"):
        f.get(ep, scripted(OK), {})
    assert f.count.requests == 4


def test_post_read_budget_stops_post_reads_only(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path, posts=2)
    f.get("user_tweets", scripted(page(["1", "2"])), {})
    for ep in ("user_tweets", "tweets_lookup", "search_recent", "search_all"):
        with pytest.raises(Stop, match=r"^post read budget reached \(2/2\)$"):
            f.get(ep, scripted(OK), {})
    for ep in ("users_by_username", "users_by_id", "counts_recent", "counts_all"):
        f.get(ep, scripted(OK), {})  # profiles and counts bill no post


def test_a_budget_just_under_its_cap_still_reads(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path, posts=3, users=3)
    f.get("search_recent", scripted(page(["1", "2"], users=["5", "6"])), {})
    f.get("search_recent", scripted(page(["3"], users=["7"])), {})
    assert (f.count.posts, f.count.users) == (3, 3)


@pytest.mark.parametrize(("endpoint", "budget_left", "asked", "sent"), [
    ("user_tweets", 37, 100, 37), ("user_tweets", 3, 100, 5), ("user_tweets", 150, 100, 100),
    ("user_tweets", 5, 100, 5), ("tweets_lookup", 2, 100, 5),
    ("search_recent", 37, 100, 37), ("search_recent", 3, 100, 10), ("search_all", 9, 500, 10),
    ("search_recent", 10, 100, 10), ("search_all", 11, 500, 11),
])
def test_page_size_follows_the_budget_down_to_xs_floor(tmp_path: Path, endpoint: str, budget_left: int,
                                                       asked: int, sent: int) -> None:
    f, _ = fetcher(tmp_path, posts=budget_left + 1, search_all_interval=0)
    f.count.post_ids.add("already")
    calls: list[dict[str, Any]] = []
    f.get(endpoint, scripted(OK, calls=calls), {}, max_results=asked)
    assert calls == [{"max_results": sent}]


def test_page_size_untouched_where_no_post_is_read_or_none_asked(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path, posts=3)
    calls: list[dict[str, Any]] = []
    f.get("counts_recent", scripted(OK, calls=calls), {}, max_results=100)
    f.get("users_by_id", scripted(OK, calls=calls), {}, max_results=100)
    f.get("user_tweets", scripted(OK, calls=calls), {}, ids=["1"])
    assert calls == [{"max_results": 100}, {"max_results": 100}, {"ids": ["1"]}]


# -- deadline, retries, failures ------------------------------------------------------------
def test_no_request_once_the_deadline_is_reached(tmp_path: Path) -> None:
    for left in (0.0, -1.0):
        f, _ = fetcher(tmp_path, time_left=left)
        with pytest.raises(Stop, match=r"^deadline reached: stopped before the next request"):
            f.get("user_tweets", scripted(OK), {})
        assert f.count.requests == 0
    f, _ = fetcher(tmp_path, time_left=0.001)
    assert f.get("user_tweets", scripted(OK), {})


def test_time_left_follows_the_monotonic_deadline(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    assert f.time_left() == float("inf")
    f.limits.deadline = time.monotonic() + 100
    assert 99 < f.time_left() <= 100
    f.limits.deadline = time.monotonic() - 5
    assert -6 < f.time_left() <= -5


def test_retries_back_off_exponentially_then_fail(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, backoff=0.25, retries=4)
    errs = [response(500), requests.ConnectionError(), requests.exceptions.ChunkedEncodingError()]
    assert f.get("user_tweets", scripted(*errs, OK), {})
    assert sleeps == [0.25, 0.5, 1.0]
    f, sleeps = fetcher(tmp_path, backoff=0.25, retries=4)
    with pytest.raises(StreamFailed, match=r"^user_tweets: 503 Reason, 4 tries$"):
        f.get("user_tweets", scripted(*[response(503)] * 4), {})
    assert sleeps == [0.25, 0.5, 1.0] and f.count.requests == 4


def test_a_retry_that_would_pass_the_deadline_stops(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, time_left=0.5, backoff=0.5)
    with pytest.raises(Stop, match=r"^user_tweets: timeout; no time left to retry before the deadline$"):
        f.get("user_tweets", scripted(requests.ReadTimeout()), {})
    assert sleeps == []
    f, sleeps = fetcher(tmp_path, time_left=0.5 + 1e-6, backoff=0.5)
    assert f.get("user_tweets", scripted(requests.ReadTimeout(), OK), {})
    assert sleeps == [0.5]


def test_401_is_fatal_and_other_4xx_fail_the_stream(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    with pytest.raises(Fatal, match=r"^user_tweets: 401 Unauthorized: check the X bearer token$"):
        f.get("user_tweets", scripted(response(401, b'{"title":"Unauthorized"}')), {})
    nf = response(404, b'{"errors":[{"message":"' + b"x" * 300 + b'"}]}')
    with pytest.raises(StreamFailed) as e:
        f.get("user_tweets", scripted(nf), {})
    assert str(e.value) == "user_tweets: 404 Reason: " + "x" * 200
    assert f.count.requests == 2


def test_describe() -> None:
    d = fetch_mod._describe
    assert d(requests.ReadTimeout()) == "timeout"
    assert d(requests.ConnectionError()) == "connection error (reset)"
    assert d(requests.exceptions.ChunkedEncodingError()) == "ChunkedEncodingError"
    assert d(tweepy.TwitterServerError(response(502, b"{}"))) == "502 Reason"
    assert d(tweepy.TwitterServerError(response(502, b'{"errors":[{"message":"m"}]}'))) == "502 Reason"
    assert d(tweepy.TwitterServerError(response(500, b'{"errors":[{"message":"m"}]}'))) == "500 Reason"
    assert d(tweepy.TooManyRequests(response(429, b'{"errors":[{"message":"slow"}]}'))) == "429 Reason: slow"
    assert d(tweepy.BadRequest(response(400, b'{"errors":[{"message":"why"}]}'))) == "400 Reason: why"
    assert d(tweepy.BadRequest(response(400, b"{}"))) == "400 Reason"


def test_jsonable_params() -> None:
    got = fetch_mod._jsonable({"a": None, "t": datetime(2018, 4, 30, 23, 59, 58), "ids": ["1", 2],
                               "f": ("x", "y"), "n": 5, "s": "q"})
    assert got == {"t": "2018-04-30T23:59:58Z", "ids": "1,2", "f": "x,y", "n": 5, "s": "q"}


# -- full-archive pacing --------------------------------------------------------------------
def test_full_archive_pacing_stops_when_the_pause_passes_the_deadline(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, time_left=60.0)
    f.get("search_all", scripted(OK), {})
    f.time_left = lambda: 0.2  # type: ignore[method-assign]
    with pytest.raises(Stop, match=r"^search_all: no time left before the deadline$"):
        f.get("search_all", scripted(OK), {})
    assert sleeps == [] and f.count.requests == 1


def test_full_archive_pacing_waits_the_rest_of_the_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(fetch_mod.time, "monotonic", lambda: clock[0])
    f, sleeps = fetcher(tmp_path, search_all_interval=2.0)
    f.get("search_all", scripted(OK), {})
    clock[0] += 0.5
    f.get("search_all", scripted(OK), {})
    assert sleeps == [1.5]
    clock[0] += 3.0  # more than the interval since: no pause
    f.get("search_all", scripted(OK), {})
    assert sleeps == [1.5]
    clock[0] += 2.0  # exactly the interval since: no pause either (not a sleep of 0)
    f.get("search_all", scripted(OK), {})
    assert sleeps == [1.5]


def test_full_archive_pacing_below_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [50.0]
    monkeypatch.setattr(fetch_mod.time, "monotonic", lambda: clock[0])
    f, sleeps = fetcher(tmp_path, search_all_interval=0.5)
    f.get("search_all", scripted(OK), {})
    clock[0] += 0.25
    f.get("search_all", scripted(OK), {})
    assert sleeps == [0.25]
    # A pause exactly as long as the time left stops (it would end at the deadline).
    f.time_left = lambda: 0.5  # type: ignore[method-assign]
    with pytest.raises(Stop, match="no time left"):
        f.get("search_all", scripted(OK), {})
    f.time_left = lambda: 0.5 + 1e-6  # type: ignore[method-assign]
    f.get("search_all", scripted(OK), {})
    assert sleeps == [0.25, 0.5]


# -- archive, billing, pagination -----------------------------------------------------------
def test_each_page_is_archived_before_it_is_returned(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    body = f.get("search_recent", scripted(page(["10", "11"], users=["5"])), {"brand_id": "b"},
                 query="q", since_id=None, start_time=datetime(2018, 1, 1))
    lake = Lake(str(tmp_path))
    (key,) = lake.list_keys("raw/p")
    assert key.endswith("raw/p/00001-search_recent.json.gz")
    rec = lake.get_json_gz(key)
    assert rec == {"endpoint": "search_recent", "context": {"brand_id": "b"},
                   "params": {"query": "q", "start_time": "2018-01-01T00:00:00Z"}, "status": 200,
                   "rate": {"x-rate-limit-remaining": "9", "x-rate-limit-reset": "5"},
                   "observed_at": "2018-01-01T06:00:00", "body": body}
    assert f.pages == [rec]
    assert (f.count.posts, f.count.users) == (2, 1) and f.count.post_ids == {"10", "11"}
    f.archive("state", {"é": 1})
    (key2,) = [k for k in lake.list_keys("raw/p") if k != key]
    assert key2.endswith("raw/p/00002-state.json.gz") and lake.get_json_gz(key2) == {"é": 1}


def test_a_body_that_is_json_but_not_an_object_is_malformed(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    with pytest.raises(StreamFailed,
                       match=r"^user_tweets: malformed JSON from X \(ValueError\); raw page kept as text$"):
        f.get("user_tweets", scripted(response(200, b"[1, 2]")), {})
    (key,) = Lake(str(tmp_path)).list_keys("raw/p")
    assert Lake(str(tmp_path)).get_json_gz(key)["body_text"] == "[1, 2]"
    with pytest.raises(StreamFailed, match=r"\(JSONDecodeError\)"):
        f.get("user_tweets", scripted(response(200, b'{"data":')), {})
    with pytest.raises(StreamFailed, match=r"\(UnicodeDecodeError\)"):
        f.get("user_tweets", scripted(response(200, b"\xff")), {})
    lake = Lake(str(tmp_path))
    texts = [lake.get_json_gz(k)["body_text"] for k in sorted(lake.list_keys("raw/p"))]
    assert texts == ["[1, 2]", '{"data":', "\ufffd"] and f.pages == []


def test_paginate_follows_next_token_and_archives_every_page(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    pages = [page(["3", "2"], meta={"next_token": "n1", "result_count": 2}),
             page(["1"], meta={"result_count": 1})]

    def get_users_tweets(**kw: Any) -> requests.Response:
        calls.append(dict(kw))
        return pages.pop(0)

    f, _ = fetcher(tmp_path)
    got = list(f.paginate("user_tweets", get_users_tweets, {"account_id": "9"}, id="9", max_results=100))
    assert [[t["id"] for t in b["data"]] for b in got] == [["3", "2"], ["1"]]
    assert calls == [{"id": "9", "max_results": 100, "pagination_token": None},
                     {"id": "9", "max_results": 100, "pagination_token": "n1"}]
    assert len(list(Lake(str(tmp_path)).list_keys("raw/p"))) == 2 and f.count.requests == 2

    # Search endpoints take `next_token` (tweepy picks it by the method's name).
    pages[:] = [page(["5"], meta={"next_token": "s1"}), page(["4"], meta={})]
    calls.clear()

    def search_recent_tweets(**kw: Any) -> requests.Response:
        calls.append(dict(kw))
        return pages.pop(0)

    list(f.paginate("search_recent", search_recent_tweets, {}, query="q"))
    assert calls == [{"query": "q", "next_token": None}, {"query": "q", "next_token": "s1"}]
