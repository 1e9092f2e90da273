"""The site's viewer-request CloudFront Function (infra/constructs/site_viewer_request.js), run by node
on its own file for every URL shape the site links to, and its association with the distribution."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _viewer_request import FUNCTION, ViewerRequest, event, query_of

MAX_CODE_BYTES = 10_240  # CloudFront Functions: at most 10 KB of code


@pytest.fixture(scope="module")
def fn() -> Iterator[ViewerRequest]:
    with ViewerRequest() as f:
        yield f


def goes_on(uri: str, query: str = "") -> dict[str, Any]:
    """The request CloudFront sends on to the origin, unchanged but for `uri`."""
    out = event("", query_of(query))["request"]
    out["uri"] = uri
    return out


def moved(location: str) -> dict[str, Any]:
    return {"statusCode": 301, "statusDescription": "Moved Permanently",
            "headers": {"location": {"value": location}, "cache-control": {"value": "public, max-age=3600"}}}


CASES = [
    # folders, as the site links to them: their index.html
    ("/", "", goes_on("/index.html")),
    ("/en/", "", goes_on("/en/index.html")),
    ("/marques/sanofi/", "", goes_on("/marques/sanofi/index.html")),
    ("/en/brands/msd-france/", "", goes_on("/en/brands/msd-france/index.html")),
    ("/methodologie/", "", goes_on("/methodologie/index.html")),
    ("/archives/", "", goes_on("/archives/index.html")),
    ("/archives/2018-04-30/", "", goes_on("/archives/2018-04-30/index.html")),
    ("/en/archives/2018-04-30/", "", goes_on("/en/archives/2018-04-30/index.html")),
    ("/v1.2/", "", goes_on("/v1.2/index.html")),  # a dot in a folder name: still a folder
    ("/en/", "utm_source=x&lang=en", goes_on("/en/index.html", "utm_source=x&lang=en")),
    # folders without their slash: one redirect to the canonical URL, query string kept as sent
    ("/en", "", moved("/en/")),
    ("/marques/sanofi", "", moved("/marques/sanofi/")),
    ("/archives/2018-04-30", "", moved("/archives/2018-04-30/")),
    ("/en/brands/msd-france", "", moved("/en/brands/msd-france/")),
    ("/marques/sanofi", "utm_source=x", moved("/marques/sanofi/?utm_source=x")),
    ("/en", "a=1&a=2&q=caf%C3%A9&b", moved("/en/?a=1&a=2&q=caf%C3%A9&b=")),
    # never a Location that leaves the site (`//host` is protocol-relative)
    ("//evil", "", moved("/evil/")),
    ("/\\evil", "", moved("/evil/")),
    # files: as they are
    ("/index.html", "", goes_on("/index.html")),
    ("/en/index.html", "", goes_on("/en/index.html")),
    ("/assets/site.366dbca1c24b.css", "", goes_on("/assets/site.366dbca1c24b.css")),
    ("/assets/sort.be580a48d1a1.js", "", goes_on("/assets/sort.be580a48d1a1.js")),
    ("/assets/favicon.1af472dd53f1.svg", "", goes_on("/assets/favicon.1af472dd53f1.svg")),
    ("/static/app.abc123.css", "v=2", goes_on("/static/app.abc123.css", "v=2")),
    ("/downloads/2018-04-30/scores.csv", "", goes_on("/downloads/2018-04-30/scores.csv")),
    ("/downloads/2018-04-30/indicators.json", "dl=1", goes_on("/downloads/2018-04-30/indicators.json", "dl=1")),
    ("/data/scores.csv", "", goes_on("/data/scores.csv")),
    ("/site-manifest.json", "", goes_on("/site-manifest.json")),
]


@pytest.mark.parametrize(("uri", "query", "expected"), CASES,
                         ids=[f"{u}?{q}" if q else u for u, q, _ in CASES])
def test_viewer_request(fn: ViewerRequest, uri: str, query: str, expected: dict[str, Any]) -> None:
    assert fn(uri, query_of(query)) == expected


def test_event_passes_through_untouched_but_for_the_uri(fn: ViewerRequest) -> None:
    evt = event("/en/", query_of("a=1"))
    evt["request"]["headers"] = {"host": {"value": "d111111abcdef8.cloudfront.net"},
                                 "accept-language": {"value": "fr-FR,fr;q=0.9"}}
    evt["request"]["cookies"] = {"consent": {"value": "no"}}
    assert fn.handle(evt) == {**evt["request"], "uri": "/en/index.html"}


def test_code_fits_cloudfront_functions() -> None:
    code = FUNCTION.read_bytes()
    assert len(code) <= MAX_CODE_BYTES
    text = code.decode("utf-8")
    assert "module.exports" not in text and "require(" not in text, "no CommonJS in CloudFront Functions"


def test_default_behavior_runs_the_function_on_viewer_request(synth) -> None:  # type: ignore[no-untyped-def]
    arn = Capture()
    synth.template.has_resource_properties("AWS::CloudFront::Distribution", {
        "DistributionConfig": Match.object_like({
            "DefaultCacheBehavior": Match.object_like({
                "FunctionAssociations": [{"EventType": "viewer-request", "FunctionARN": arn}],
            }),
        }),
    })
    synth.template.has_resource_properties("AWS::CloudFront::Function", {
        "AutoPublish": True,
        "FunctionConfig": Match.object_like({"Runtime": "cloudfront-js-2.0"}),
        "FunctionCode": FUNCTION.read_text(encoding="utf-8"),  # the file tested above, as it is
    })
    functions = synth.resources("AWS::CloudFront::Function")
    assert len(functions) == 1
    assert arn.as_object() == {"Fn::GetAtt": [next(iter(functions)), "FunctionARN"]}
