"""The demo site as CloudFront serves it: a local server that behaves like S3 behind origin access
control (an exact key or 403 AccessDenied: no folder index, no listing), fronted by the distribution's
default root object and the shipped viewer-request function (run by node). A crawl from `/` that
follows every link and resource within the site finds nothing broken; without the function it does."""

from __future__ import annotations

import http.client
import http.server
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
from _viewer_request import ViewerRequest, query_of

from barometer.publish.screenshots import running
from barometer.publish.upload import MANIFEST, content_type

ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                 b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")


class CloudFrontS3(http.server.ThreadingHTTPServer):
    """CloudFront (default root object `index.html`, optional viewer-request function) in front of an
    S3 bucket holding the files of `site` as keys."""

    daemon_threads = True

    def __init__(self, site: Path, function: ViewerRequest | None) -> None:
        self.keys = {p.relative_to(site).as_posix(): p for p in site.rglob("*") if p.is_file()}
        self.function = function
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: CloudFrontS3

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        uri, _, query = self.path.partition("?")
        if self.server.function is not None:
            out = self.server.function(uri, query_of(query))
            if "statusCode" in out:  # the function answered: CloudFront sends that response
                headers = {k: v["value"] for k, v in out.get("headers", {}).items()}
                return self._send(out["statusCode"], headers, b"", body)
            uri = out["uri"]
        if uri == "/":
            uri = "/index.html"  # the distribution's default root object: `/` only
        path = self.server.keys.get(unquote(uri[1:]))  # S3: that exact key, or 403 without ListBucket
        if path is None:
            return self._send(403, {"content-type": "application/xml"}, ACCESS_DENIED, body)
        return self._send(200, {"content-type": content_type(path.name)}, path.read_bytes(), body)

    def _send(self, status: int, headers: dict[str, str], content: bytes, body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)


@contextmanager
def served(site: Path, function: ViewerRequest | None) -> Iterator[str]:
    with running(CloudFrontS3(site, function)) as url:
        yield url


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src") and v]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def get(url: str) -> Response:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


@dataclass
class Crawl:
    pages: set[str] = field(default_factory=set)  # paths of the HTML pages read
    fetched: set[str] = field(default_factory=set)  # every path fetched with a 200
    broken: dict[str, str] = field(default_factory=dict)  # path → "status (linked from …)"
    redirected: dict[str, str] = field(default_factory=dict)  # path → Location


def crawl(base: str) -> Crawl:
    """Every page from `base`, following every href/src within the site (resolved against the page's
    URL, as a browser does); a 301 is followed once."""
    out = Crawl()
    origin = urlsplit(base)[:2]
    todo, seen = [(base, "(start)")], {base}
    while todo:
        url, referrer = todo.pop()
        path = urlsplit(url).path
        r = get(url)
        if r.status == 301:
            out.redirected[path] = r.headers.get("location", "")
            r = get(urljoin(url, out.redirected[path]))
        if r.status != 200:
            out.broken[path] = f"{r.status} (linked from {referrer})"
            continue
        out.fetched.add(path)
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        out.pages.add(path)
        links = _Links()
        links.feed(r.body.decode("utf-8"))
        for ref in links.found:
            target = urldefrag(urljoin(url, ref)).url
            if urlsplit(target)[:2] == origin and target not in seen:
                seen.add(target)
                todo.append((target, path))
    return out


@pytest.fixture(scope="module")
def site(demo_run: dict[str, object]) -> Path:
    return Path(str(demo_run["site"]))


@pytest.fixture(scope="module")
def function() -> Iterator[ViewerRequest]:
    with ViewerRequest() as fn:
        yield fn


@pytest.fixture(scope="module")
def base(site: Path, function: ViewerRequest) -> Iterator[str]:
    with served(site, function) as url:
        yield url


def test_crawl_finds_no_broken_link(site: Path, base: str) -> None:
    result = crawl(base)
    assert result.broken == {}
    html = {"/" + k.removesuffix("index.html") for k in (p.relative_to(site).as_posix()
                                                          for p in site.rglob("index.html"))}
    assert result.pages == html, "every page of the site is reached, by its folder URL"
    brands = {p.parent.name for p in site.glob("marques/*/index.html")}
    assert len(brands) == 7
    assert {"/", "/en/", "/archives/", "/en/archives/", "/donnees/", "/methodologie/"} <= result.pages
    assert {f"/marques/{b}/" for b in brands} | {f"/en/brands/{b}/" for b in brands} <= result.pages
    assert len([p for p in result.pages if p.startswith("/archives/2")]) >= 20
    assert any(p.endswith(".css") for p in result.fetched) and any(p.endswith(".csv") for p in result.fetched)
    keys = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    reached = {p[1:] + "index.html" if p.endswith("/") else p[1:] for p in result.fetched}
    assert keys - reached == {MANIFEST}, "every published file but the manifest is linked"
    assert result.redirected == {}, "the site links to its pages by their canonical (folder/) URL"


def test_folder_without_slash_redirects_once_with_its_query(base: str) -> None:
    r = get(base + "marques/sanofi?utm_source=test")
    assert (r.status, r.headers["location"]) == (301, "/marques/sanofi/?utm_source=test")
    page = get(urljoin(base, r.headers["location"]))
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert get(base + "en").headers["location"] == "/en/"


def test_missing_key_is_access_denied(base: str) -> None:
    for path in ("marques/nobody/", "assets/missing.0123abcd.css", "downloads/1999-01-01/scores.csv"):
        r = get(base + path)
        assert r.status == 403 and b"<Code>AccessDenied</Code>" in r.body, path


def test_without_the_function_folder_urls_are_denied(site: Path) -> None:
    """What the distribution did before the function: the crawl above can fail."""
    with served(site, None) as raw:
        assert get(raw).status == 200  # the default root object covers `/` only
        r = get(raw + "en/")
        assert r.status == 403 and b"<Code>AccessDenied</Code>" in r.body
        assert get(raw + "en/index.html").status == 200
        result = crawl(raw)
    assert result.pages == {"/"}
    assert {"/en/", "/archives/", "/marques/sanofi/"} <= set(result.broken)
