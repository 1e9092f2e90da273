"""Publishing to S3 (+ CloudFront) against a real moto server: keys, headers, order, gate, idempotency."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _moto import client, create_bucket, moto_server
from _site_fixtures import make_site_lake

from barometer.publish import PublishOptions, SiteTarget, run_publish
from barometer.publish.upload import MANIFEST, phase_of

BUCKET = "barometer-site"
PREFIX = "site"
HTML_CACHE = "public, max-age=300, must-revalidate"
ASSET_CACHE = "public, max-age=31536000, immutable"


class RecordingS3:
    """The real boto3 client, with the order of its put_object calls recorded."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.puts: list[str] = []
        self._lock = threading.Lock()

    def put_object(self, **kwargs: Any) -> Any:
        out = self._inner.put_object(**kwargs)
        with self._lock:  # recorded once S3 acknowledged the object
            self.puts.append(kwargs["Key"])
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _distribution(cf: Any) -> str:
    resp = cf.create_distribution(DistributionConfig={
        "CallerReference": "site-test", "Comment": "site", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                  "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    })
    return str(resp["Distribution"]["Id"])


def _objects(s3: Any) -> dict[str, tuple[str, Any]]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "/"):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["ETag"], o["LastModified"])
    return out


def _invalidations(cf: Any, dist: str) -> list[list[str]]:
    items = cf.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
    return [cf.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"]["InvalidationBatch"]["Paths"]
            .get("Items", []) for i in items]


def test_publish_to_s3(endpoint: str, tmp_path: Path) -> None:
    s3_raw, cf = client("s3", endpoint), client("cloudfront", endpoint)
    create_bucket(s3_raw, BUCKET)
    dist = _distribution(cf)
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=4)
    s3 = RecordingS3(s3_raw)
    target = SiteTarget.s3_bucket(BUCKET, PREFIX, s3, cloudfront=cf, distribution_id=dist,
                                  site_url="https://barometre.example/")
    opts = PublishOptions(simulated=True, base_url="https://barometre.example/")

    # -- first publish: everything, in phase order ------------------------------------------
    s = run_publish(panel, dates[-2], lake, target, opts)
    assert s.status == "ok" and s.details["site_url"] == "https://barometre.example/"
    objects = _objects(s3_raw)
    assert len(s3.puts) == len(objects) == s.details["files"]
    assert {f"{PREFIX}/index.html", f"{PREFIX}/en/index.html", f"{PREFIX}/marques/sanofi/index.html",
            f"{PREFIX}/en/brands/hostile/index.html", f"{PREFIX}/methodologie/index.html",
            f"{PREFIX}/en/data/index.html", f"{PREFIX}/archives/{dates[0]}/index.html",
            f"{PREFIX}/downloads/{dates[0]}/indicators.json", f"{PREFIX}/{MANIFEST}"} <= set(objects)
    phases = [phase_of(k.removeprefix(PREFIX + "/")) for k in s3.puts]
    assert phases == sorted(phases), "assets, then data, then pages, then the leaderboards"
    assert phases[0] == 0 and s3.puts[-2:] == [f"{PREFIX}/index.html", f"{PREFIX}/{MANIFEST}"]
    css = next(k for k in objects if k.startswith(f"{PREFIX}/assets/site.") and k.endswith(".css"))

    def head(key: str) -> dict[str, Any]:
        return s3_raw.head_object(Bucket=BUCKET, Key=key)  # type: ignore[no-any-return]

    for key, ctype, cache in [
        (f"{PREFIX}/index.html", "text/html; charset=utf-8", HTML_CACHE),
        (f"{PREFIX}/marques/sanofi/index.html", "text/html; charset=utf-8", HTML_CACHE),
        (css, "text/css; charset=utf-8", "public, max-age=31536000, immutable"),
        (next(k for k in objects if k.endswith(".js")), "text/javascript; charset=utf-8",
         "public, max-age=31536000, immutable"),
        (next(k for k in objects if k.endswith(".svg")), "image/svg+xml", ASSET_CACHE),
        (f"{PREFIX}/downloads/{dates[0]}/scores.csv", "text/csv; charset=utf-8", "public, max-age=600"),
        (f"{PREFIX}/downloads/{dates[0]}/scores.json", "application/json", "public, max-age=600"),
    ]:
        h = head(key)
        assert (h["ContentType"], h["CacheControl"]) == (ctype, cache), key
    # pages point at the hashed asset that is there
    home = s3_raw.get_object(Bucket=BUCKET, Key=f"{PREFIX}/index.html")["Body"].read().decode()
    assert css.removeprefix(PREFIX + "/") in home
    assert '<link rel="canonical" href="https://barometre.example/">' in home
    inv = _invalidations(cf, dist)
    assert len(inv) == 1
    assert f"/{PREFIX}/index.html" in inv[0] and f"/{PREFIX}/" in inv[0]
    assert f"/{PREFIX}/downloads/{dates[0]}/scores.csv" in inv[0]
    assert not [p for p in inv[0] if "/assets/" in p]

    # -- the same (panel, date) again: nothing uploaded, no invalidation ---------------------
    s3.puts.clear()
    s = run_publish(panel, dates[-2], lake, target, opts)
    assert s.status == "ok" and s.details["uploaded"] == 0 and s3.puts == []
    assert _objects(s3_raw) == objects and len(_invalidations(cf, dist)) == 1

    # -- a below-threshold run leaves the published site unchanged --------------------------
    bad = dates[-1]
    make_site_lake(tmp_path / "lake", days=1, end=bad, posts=False, coverage={bad: 0.2}, panel=panel)
    s = run_publish(panel, bad, lake, target, opts)
    assert s.status == "skipped" and s.details["last_published"] == dates[-2].isoformat()
    assert s3.puts == [] and _objects(s3_raw) == objects and len(_invalidations(cf, dist)) == 1
    assert f"{PREFIX}/archives/{bad}/index.html" not in objects

    # -- the next good date: only what changed, one invalidation of changed paths ------------
    good = bad + timedelta(days=7)
    make_site_lake(tmp_path / "lake", days=1, end=good, posts=False, panel=panel)
    s = run_publish(panel, good, lake, target, opts)
    assert s.status == "ok"
    assert 0 < len(s3.puts) < len(objects)
    assert not [k for k in s3.puts if "/assets/" in k]  # same hashed assets: not re-sent
    assert f"{PREFIX}/downloads/{dates[0]}/indicators.json" not in s3.puts  # old units untouched
    assert f"{PREFIX}/archives/{good}/index.html" in s3.puts
    phases = [phase_of(k.removeprefix(PREFIX + "/")) for k in s3.puts]
    assert phases == sorted(phases)
    inv = _invalidations(cf, dist)
    assert len(inv) == 2
    latest = next(i for i in inv if f"/{PREFIX}/archives/{good}/index.html" in i)
    changed = {"/" + k for k in s3.puts}
    assert set(latest) >= changed - {f"/{PREFIX}/{MANIFEST}"}
    assert f"/{PREFIX}/downloads/{dates[0]}/indicators.json" not in latest
