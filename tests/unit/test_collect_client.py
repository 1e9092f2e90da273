"""The collector's HTTP plumbing without a server: host rewriting, token redaction, and the
fetcher's decisions on 429 / 5xx / malformed bodies (fake responses, injected sleep)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

from barometer.collect.client import make_client
from barometer.collect.fetch import Fetcher, Limits, Stop, StreamFailed
from barometer.lake.store import Lake


def test_host_adapter_rewrites_scheme_host_and_sets_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_send(self: HTTPAdapter, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        seen.update(url=request.url, timeout=kw.get("timeout"), auth=request.headers.get("Authorization"))
        r = requests.Response()
        r.status_code, r._content, r.url = 200, b'{"data":[]}', request.url or ""
        return r

    monkeypatch.setattr(HTTPAdapter, "send", fake_send)
    client = make_client("secret-token", base_url="http://127.0.0.1:8765/", timeout=3)
    resp = client.get_users(usernames=["sanofi"], user_fields=["public_metrics"])
    assert isinstance(resp, requests.Response)
    assert seen["url"] == "http://127.0.0.1:8765/2/users/by?user.fields=public_metrics&usernames=sanofi"
    assert seen["timeout"] == 3 and seen["auth"] == "Bearer secret-token"
    assert client.wait_on_rate_limit is False and client.session.trust_env is False
    # Without base_url the production host stays, with the timeout still applied.
    make_client("t").get_users(usernames=["x"])
    assert seen["url"].startswith("https://api.twitter.com/2/users/by") and seen["timeout"] == 10
    assert "secret-token" not in repr(client.session.adapters)


def test_tweepy_debug_log_never_shows_the_token(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    def fake_send(self: HTTPAdapter, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        r = requests.Response()
        r.status_code, r._content = 200, b"{}"
        return r

    monkeypatch.setattr(HTTPAdapter, "send", fake_send)
    client = make_client("very-secret", base_url="http://127.0.0.1:1")
    with caplog.at_level(logging.DEBUG, logger="tweepy.client"):
        client.get_users(usernames=["x"])
    assert caplog.records and "very-secret" not in caplog.text and "Bearer ***" in caplog.text


def response(status: int, body: bytes = b"{}", reset: float | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code, r._content, r.reason = status, body, "X"
    if reset is not None:
        r.headers["x-rate-limit-reset"] = str(int(reset))
    return r


def fetcher(tmp_path: Path, deadline: float | None = None, **kw: Any) -> tuple[Fetcher, list[float]]:
    sleeps: list[float] = []
    f = Fetcher(make_client("t"), Lake(str(tmp_path)), "raw/p", datetime(2018, 1, 1),
                Limits(deadline=deadline, max_post_reads=1000, max_user_reads=1000, **kw),
                sleep=sleeps.append)
    return f, sleeps


def scripted(*outcomes: requests.Response | BaseException) -> Any:
    """A fake tweepy method answering each call with the next outcome, as tweepy would."""
    queue = list(outcomes)

    def method(**_: Any) -> requests.Response:
        out = queue.pop(0)
        if isinstance(out, BaseException):
            raise out
        if out.status_code == 429:
            raise tweepy.TooManyRequests(out)
        if out.status_code >= 500:
            raise tweepy.TwitterServerError(out)
        return out

    return method


OK = response(200, b'{"data":[{"id":"1","text":"a"}],"meta":{"result_count":1}}')


def test_short_429_sleeps_until_reset_then_succeeds(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    body = f.get("user_tweets", scripted(response(429, reset=time.time() + 3), OK), {})
    assert body["data"][0]["id"] == "1"
    assert len(sleeps) == 1 and 1.5 < sleeps[0] <= 3.1
    assert f.count.requests == 2 and f.count.posts == 1


def test_429_past_the_deadline_stops_without_sleeping(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, deadline=time.monotonic() + 5)
    with pytest.raises(Stop, match="deadline"):
        f.get("user_tweets", scripted(response(429, reset=time.time() + 60)), {})
    assert sleeps == []


@pytest.mark.parametrize("resp", [
    response(429, b'{"title":"UsageCapExceeded","type":"https://api.twitter.com/2/problems/usage-capped"}',
             reset=time.time() + 5),
    response(429, b"{}", reset=time.time() + 20 * 86400),
])
def test_monthly_cap_stops_at_once(tmp_path: Path, resp: requests.Response) -> None:
    f, sleeps = fetcher(tmp_path)
    with pytest.raises(Stop, match="cap"):
        f.get("search_recent", scripted(resp), {})
    assert sleeps == [] and f.count.requests == 1


def test_server_errors_retry_with_backoff_then_fail_the_stream(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path, backoff=0.1)
    assert f.get("user_tweets", scripted(response(503), requests.ConnectionError("reset"), OK), {})
    assert sleeps == [0.1, 0.2]
    f, sleeps = fetcher(tmp_path, backoff=0.1)
    with pytest.raises(StreamFailed, match="timeout, 3 tries"):
        timeouts = [requests.ReadTimeout() for _ in range(3)]
        f.get("user_tweets", scripted(*timeouts), {})
    assert f.count.requests == 3


def test_malformed_body_is_archived_as_text(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    with pytest.raises(StreamFailed, match="malformed JSON"):
        f.get("search_recent", scripted(response(200, b'{"data":[{"id":"1","te')), {"brand_id": "b"})
    lake = Lake(str(tmp_path))
    (key,) = lake.list_keys("raw/p")
    page = lake.get_json_gz(key)
    assert page["body_text"] == '{"data":[{"id":"1","te' and "body" not in page
    assert page["context"] == {"brand_id": "b"} and f.pages == []


def test_budget_caps_the_page_size_and_stops(tmp_path: Path) -> None:
    f, _ = fetcher(tmp_path)
    f.limits.max_post_reads = 1
    calls: list[dict[str, Any]] = []

    def method(**kw: Any) -> requests.Response:
        calls.append(dict(kw))
        return OK

    f.get("user_tweets", method, {}, max_results=100)
    assert calls[0]["max_results"] == 5  # X's floor for timelines
    with pytest.raises(Stop, match="post read budget"):
        f.get("user_tweets", method, {}, max_results=100)


def test_full_archive_search_is_paced_to_one_request_per_second(tmp_path: Path) -> None:
    f, sleeps = fetcher(tmp_path)
    f.get("search_all", scripted(OK), {})
    f.get("search_all", scripted(OK), {})
    f.get("user_tweets", scripted(OK), {})  # other endpoints are not paced
    assert len(sleeps) == 1 and 0.85 < sleeps[0] <= 1.05  # one second plus the margin
    f, sleeps = fetcher(tmp_path, search_all_interval=0)
    f.get("search_all", scripted(OK), {})
    f.get("search_all", scripted(OK), {})
    assert sleeps == []


def test_reads_are_billed_once_per_distinct_post_and_user_as_x_deduplicates_a_day(tmp_path: Path) -> None:
    # Two search pages (two brands' queries) return the same post by the same author, plus one
    # new post by a second author: X bills 2 posts and 2 users, not 3 and 3.
    a = (b'{"data":[{"id":"10","author_id":"7","text":"@a @b"}],'
         b'"includes":{"users":[{"id":"7","username":"u7"}]}}')
    b = (b'{"data":[{"id":"10","author_id":"7","text":"@a @b"},{"id":"11","author_id":"8","text":"@b"}],'
         b'"includes":{"users":[{"id":"7","username":"u7"},{"id":"8","username":"u8"}]}}')
    f, _ = fetcher(tmp_path)
    f.get("search_recent", scripted(response(200, a)), {"brand": "a"})
    f.get("search_recent", scripted(response(200, b)), {"brand": "b"})
    assert (f.count.requests, f.count.posts, f.count.users) == (2, 2, 2)
