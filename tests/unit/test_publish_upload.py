"""Content types, cache headers, upload phases and invalidation paths; the local folder target."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest

from barometer.publish.upload import (
    CACHE_DATA,
    CACHE_HTML,
    CACHE_IMMUTABLE,
    MANIFEST,
    LocalStore,
    cache_control,
    content_type,
    invalidation_paths,
    publish_files,
    upload_plan,
)
from barometer.publish.vector import fixed, json_records


@pytest.mark.parametrize(("key", "ctype", "cache"), [
    ("index.html", "text/html; charset=utf-8", CACHE_HTML),
    ("marques/sanofi/index.html", "text/html; charset=utf-8", CACHE_HTML),
    ("assets/site.0123456789ab.css", "text/css; charset=utf-8", CACHE_IMMUTABLE),
    ("assets/sort.0123456789ab.js", "text/javascript; charset=utf-8", CACHE_IMMUTABLE),
    ("assets/favicon.0123456789ab.svg", "image/svg+xml", CACHE_IMMUTABLE),
    ("downloads/2018-04-30/scores.json", "application/json", CACHE_DATA),
    ("downloads/2018-04-30/scores.csv", "text/csv; charset=utf-8", CACHE_DATA),
    (MANIFEST, "application/json", CACHE_DATA),
    ("assets/site.css", "text/css; charset=utf-8", CACHE_HTML),  # not hashed: never immutable
])
def test_content_type_and_cache(key: str, ctype: str, cache: str) -> None:
    assert content_type(key) == ctype
    assert cache_control(key) == cache


def test_cache_values() -> None:
    assert CACHE_HTML == "public, max-age=300, must-revalidate"
    assert CACHE_IMMUTABLE == "public, max-age=31536000, immutable"
    assert "max-age=" in CACHE_DATA and int(CACHE_DATA.split("max-age=")[1].split(",")[0]) <= 3600


def test_upload_plan_assets_then_data_then_pages_index_last() -> None:
    keys = ["index.html", "en/index.html", "marques/a/index.html", "archives/index.html",
            "downloads/2018-04-30/scores.csv", "assets/site.0123456789ab.css", MANIFEST,
            "en/brands/a/index.html"]
    phases = upload_plan(keys)
    flat = [k for p in phases for k in p]
    assert flat[0] == "assets/site.0123456789ab.css"
    assert flat[1] == "downloads/2018-04-30/scores.csv"
    assert flat[-3:] == ["en/index.html", "index.html", MANIFEST]
    # deeper pages before shallower ones: brand pages before the archive index
    assert flat.index("en/brands/a/index.html") < flat.index("archives/index.html")


def test_invalidation_paths() -> None:
    paths = invalidation_paths(["index.html", "marques/a/index.html", "assets/site.0123456789ab.css",
                                "downloads/d/scores.csv"], prefix="site")
    assert paths == ["/site/", "/site/downloads/d/scores.csv", "/site/index.html", "/site/marques/a/",
                     "/site/marques/a/index.html"]
    assert invalidation_paths(["index.html"]) == ["/", "/index.html"]


def test_local_store_atomic_and_skips_unchanged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "site")
    files = {"index.html": b"<p>1</p>", "assets/site.0123456789ab.css": b"body{}", "a/b/index.html": b"x"}
    first = publish_files(files, store, "r1")
    assert first.uploaded == ["assets/site.0123456789ab.css", "a/b/index.html", "index.html"]
    assert (tmp_path / "site" / "a" / "b" / "index.html").read_bytes() == b"x"
    second = publish_files(files, store, "r2")
    assert second.uploaded == [] and second.unchanged == 3 and second.invalidated == []
    third = publish_files({**files, "index.html": b"<p>2</p>"}, store, "r3")
    assert third.uploaded == ["index.html"]
    assert not [p for p in (tmp_path / "site").rglob(".tmp-*")]


def test_fixed_formatting_matches_python() -> None:
    vals = [0.0, 0.04, 0.05, 1.25, 84.25, 99.96, 100.0, -3.14, float("nan"), None, 12345.678]
    got = fixed(pa.array(vals, pa.float64()), 1, ",").to_pylist()
    want = []
    for v in vals:
        if v is None or math.isnan(v):
            want.append("—")
        else:
            r = round(v * 10)
            s = f"{abs(r) // 10},{abs(r) % 10}"
            want.append(("−" if r < 0 else "") + s)
    assert got == want


def test_json_records_are_json() -> None:
    t = pa.table({"s": ["a\"b\\c\nd\te", None, "<x>"], "f": [1.5, float("nan"), None], "i": [1, None, 3],
                  "b": [True, False, None]})
    recs = [json.loads(r) for r in json_records(t).to_pylist()]
    assert recs == [{"s": "a\"b\\c\nd\te", "f": 1.5, "i": 1, "b": True},
                    {"s": None, "f": None, "i": None, "b": False},
                    {"s": "<x>", "f": None, "i": 3, "b": None}]
    ctrl = pa.table({"s": ["bell\x07"]})
    assert json.loads(json_records(ctrl).to_pylist()[0]) == {"s": "bell\x07"}
