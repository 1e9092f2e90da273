"""The tweepy client the collector talks through, optionally pointed at another host.

tweepy's `Client` hard-codes `https://api.twitter.com`. To collect from the X simulator (or any
compatible host) we keep that client untouched and mount a transport adapter on its session
that rewrites each request's scheme and host; pagination, parameters and errors stay tweepy's.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

X_HOST = "https://api.twitter.com"

_BEARER = re.compile(r"Bearer\s+[^\s'\",}]+")


class _RedactBearer(logging.Filter):
    """tweepy logs each request's headers at DEBUG, bearer token included: mask it."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "Bearer" in msg:
            record.msg, record.args = _BEARER.sub("Bearer ***", msg), None
        return True


_FILTER = _RedactBearer()


class HostAdapter(HTTPAdapter):
    """Sends `https://api.twitter.com/...` requests to `base_url` instead, with a timeout.

    tweepy passes no timeout to requests (a hung server would hang the run past its deadline),
    so the adapter applies one to every request, redirected or not.
    """

    def __init__(self, base_url: str | None, timeout: float, pool_maxsize: int = 4) -> None:
        # No urllib3 retries: the collector retries itself, with backoff, budgets and counting.
        super().__init__(max_retries=0, pool_maxsize=pool_maxsize)
        self.timeout = timeout
        self._target = urlsplit(base_url.rstrip("/")) if base_url else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._target is not None and request.url:
            u = urlsplit(request.url)
            path = self._target.path + u.path
            request.url = urlunsplit((self._target.scheme, self._target.netloc, path, u.query, ""))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)

    def __repr__(self) -> str:
        return f"HostAdapter(target={urlunsplit(self._target) if self._target else X_HOST!r})"


def make_client(bearer_token: str, base_url: str | None = None, timeout: float = 10) -> tweepy.Client:
    """A tweepy v2 client returning raw `requests.Response`s (we archive and parse them ourselves).

    `base_url` (e.g. the simulator's `http://127.0.0.1:PORT`) swaps the host; by default the
    client talks to the real X API. Rate limits are not waited on here: the collector decides,
    knowing its deadline.
    """
    log = logging.getLogger("tweepy.client")
    if _FILTER not in log.filters:
        log.addFilter(_FILTER)
    client = tweepy.Client(bearer_token, return_type=requests.Response, wait_on_rate_limit=False)
    # No settings from the environment: a ~/.netrc entry would replace the bearer header and
    # proxy variables would reroute calls; the library takes its configuration as arguments.
    client.session.trust_env = False
    client.session.mount(X_HOST + "/", HostAdapter(base_url, timeout))
    return client
