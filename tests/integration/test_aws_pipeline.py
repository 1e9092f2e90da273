"""The three Lambda handlers end to end against local AWS: a moto server (S3 lake, site bucket,
Secrets Manager) and the X simulator as the API. The handlers run in-process, as Lambda would
call them, with the environment the stack gives them."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from _moto import (
    REGION,
    REPO,
    FakeContext,
    client,
    create_bucket,
    handler_env,
    keys,
    load_handler,
    moto_server,
)

from barometer.lake.store import Lake, S3Options
from barometer.query import query
from barometer.runs import STAGES

NEEDED = ("barometer.collect", "barometer.score", "barometer.publish", "barometer.sim.server",
          "barometer.sim.world", "barometer.pipeline")
_missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(_missing), reason=f"stages not in this tree yet: {', '.join(_missing)}")

PANEL = "pharma-fr"
DT = date(2018, 4, 30)
TOKEN = "sim-bearer-3f9c2a7e51d84b6c"  # must never appear in a log line
DATA, SITE = "barometer-data", "barometer-site"
TABLES = ("accounts", "posts", "mentions", "mention_counts", "indicators", "scores", "topics", "runs")


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def deployed(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What `cdk deploy` leaves: buckets, the panel in the data bucket, the token secret; plus
    the simulator standing in for api.twitter.com, and the functions' environment."""
    from barometer.config import resolve_panel
    from barometer.pipeline import run_clock
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    s3 = client("s3", aws)
    create_bucket(s3, DATA, versioned=True)
    create_bucket(s3, SITE, versioned=True)
    panel_yaml = (REPO / "panels" / f"{PANEL}.yaml").read_bytes()
    s3.put_object(Bucket=DATA, Key=f"panels/{PANEL}.yaml", Body=panel_yaml)
    secrets = client("secretsmanager", aws)
    arn = secrets.create_secret(Name="opinion-barometer/x-bearer-token",
                                SecretString=json.dumps({"bearer_token": TOKEN}))["ARN"]
    with SimServer(build_world(resolve_panel(PANEL)), bearer_token=TOKEN, now=run_clock(DT)) as sim:
        env = handler_env(aws, LAKE_URI=f"s3://{DATA}", SITE_BUCKET=SITE, SITE_URL="https://d1.cloudfront.net/",
                          X_TOKEN_SECRET_ARN=arn, X_API_BASE_URL=sim.url, SIMULATED="true")
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        yield {"s3": s3, "endpoint": aws, "sim": sim}
    # the moto server's state is reset when the module's server stops


def _run(handlers: dict[str, Any], event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for stage in STAGES:
        result = handlers[stage].handler(event, FakeContext(stage))
        json.dumps(result)  # Step Functions must be able to carry it
        out[stage] = result
    return out


def _counts(lake: Lake) -> dict[str, int]:
    """Rows per table for (panel, date), through the local query engine on the S3 lake."""
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n FROM {t} WHERE panel = '{PANEL}' AND dt = DATE '{DT}'"
        for t in TABLES)
    return {r["t"]: r["n"] for r in query(union, lake).to_pylist()}


def _versions(s3: Any, bucket: str) -> Counter[str]:
    n: Counter[str] = Counter()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        n.update(v["Key"] for v in page.get("Versions", []))
    return n


def test_handlers_end_to_end_on_moto(deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    s3 = deployed["s3"]
    handlers = {stage: load_handler(stage) for stage in STAGES}
    # what the state machine passes each function (defaults merged: brands null)
    event = {"panel": PANEL, "date": DT.isoformat(), "stages": list(STAGES), "brands": None}

    first = _run(handlers, event)
    assert [first[s]["status"] for s in STAGES] == ["ok", "ok", "ok"], first
    assert all(first[s]["dt"] == DT.isoformat() for s in STAGES)
    assert first["collect"]["brands_ok"] == 7 and first["collect"]["api_requests"] > 0
    assert first["score"]["brands_ok"] == 7

    # the site is in the site bucket
    site = keys(s3, SITE)
    assert "index.html" in site
    assert any(k.endswith(".html") and k != "index.html" for k in site)
    # the lake reads back from moto S3 through pyarrow's S3 filesystem
    lake = Lake(f"s3://{DATA}", s3=S3Options(endpoint_url=deployed["endpoint"], region=REGION,
                                            access_key="testing", secret_key="testing"))
    scores = lake.read("scores", PANEL, DT, DT).to_pylist()
    assert sorted(r["rank"] for r in scores) == list(range(1, 8))
    assert {r["brand_id"] for r in lake.read("accounts", PANEL, DT, DT).to_pylist()} == {
        "sanofi", "msd-france", "pfizer-france", "novartis-france", "roche-france",
        "astrazeneca-france", "gsk-france"}
    assert lake.read("posts", PANEL, DT, DT).num_rows > 0
    # (pyarrow leaves empty "directory" markers ending in /; only the objects count)
    assert sorted(k.rsplit("/", 1)[-1] for k in keys(s3, DATA, f"runs/panel={PANEL}/dt={DT}/")
                  if not k.endswith("/")) == [
        "collect.parquet", "publish.parquet", "score.parquet"]
    assert keys(s3, DATA, f"raw/panel={PANEL}/dt={DT}/"), "raw API pages are archived"
    before = _counts(lake)
    assert before["scores"] == 7 and before["runs"] == 3 and before["accounts"] == 7
    site_versions = _versions(s3, SITE)

    # publish again, nothing else changed: not one object is uploaded again
    again = handlers["publish"].handler(event, FakeContext("publish"))
    assert again["status"] == "ok" and again["details"]["uploaded"] == 0
    assert _versions(s3, SITE) == site_versions, "the site was uploaded again"

    # every stage again for the same (panel, date): the partitions are replaced, never added to;
    # the runs table keeps one row per run (3 + the publish above + 3)
    second = _run(handlers, event)
    assert [second[s]["status"] for s in STAGES] == ["ok", "ok", "ok"]
    after = _counts(lake)
    assert after.pop("runs") == 7 and {k: v for k, v in before.items() if k != "runs"} == after
    # a new scoring time shows on the data pages: only the files whose bytes changed go up
    assert second["publish"]["details"]["uploaded"] < second["publish"]["details"]["files"] // 4

    # logs: JSON lines, correlation id = run id, and never the token
    out = capsys.readouterr()
    logs = [json.loads(line) for line in out.out.splitlines() if line.startswith("{") and '"level"' in line]
    finished = [r for r in logs if r.get("message") == "collect finished"]
    assert finished and finished[-1]["correlation_id"] == second["collect"]["run_id"]
    assert TOKEN not in out.out and TOKEN not in out.err
    # metrics: CloudWatch embedded metric format, namespace OpinionBarometer
    emf = [json.loads(line) for line in out.out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for e in emf for d in e["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"BrandsCollected", "PostReads", "UserReads", "ApiRequests", "BrandsScored",
            "PagesPublished"} <= names
    assert all(d["Namespace"] == "OpinionBarometer" for e in emf for d in e["_aws"]["CloudWatchMetrics"])
