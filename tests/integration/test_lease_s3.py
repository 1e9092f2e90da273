"""The panel lease on S3 (moto server): S3 conditional writes, If-None-Match to take a free
lease, If-Match on its ETag to take over an expired one, renew or release it. Every check reads
the lease object back from the server.

moto 5 honours `If-None-Match: *` and `If-Match` on PutObject and `If-Match` on DeleteObject
(412 PreconditionFailed), as S3 does; the first test pins that, so a moto that stops honouring
them fails here rather than letting the lease tests pass on an unconditional store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _moto import REGION, FakeContext, client, create_bucket, moto_server
from botocore.exceptions import ClientError

from barometer.aws import runtime
from barometer.lake.lease import Lease, LeaseBusy, LeaseInfo, LeaseLost, S3LeaseStore, hold, store_for
from barometer.lake.store import Lake, S3Options

BUCKET = "lease-lake"
PANEL = "pharma-fr"
KEY = f"lake/state/leases/panel={PANEL}.json"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(endpoint: str) -> Iterator[Any]:
    c = client("s3", endpoint)
    create_bucket(c, BUCKET, versioned=True)  # the data bucket is versioned
    yield c
    for page in c.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            c.delete_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])
    c.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def lake(endpoint: str) -> Lake:
    return Lake(f"s3://{BUCKET}/lake", s3=S3Options(endpoint_url=endpoint, region=REGION,
                                                    access_key="testing", secret_key="testing"))


def _stored(s3: Any) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchKey"
        return None


def _lease(lake: Lake, s3: Any, owner: str, ttl: float = 60.0) -> Lease:
    return Lease(store_for(lake, PANEL, s3), PANEL, owner, ttl=ttl)


def test_moto_honours_s3_conditional_requests(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="probe", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=BUCKET, Key="probe", Body=b"2", IfNoneMatch="*")
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=BUCKET, Key="probe", Body=b"3", IfMatch='"0123"')
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=BUCKET, Key="probe", IfMatch='"0123"')
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="probe")["Body"].read() == b"1"
    s3.put_object(Bucket=BUCKET, Key="probe", Body=b"4", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=BUCKET, Key="probe")["Body"].read() == b"4"


def test_the_lease_is_an_s3_object_under_the_lake(lake: Lake, s3: Any) -> None:
    store = store_for(lake, PANEL, s3)
    assert isinstance(store, S3LeaseStore) and store.where == f"s3://{BUCKET}/{KEY}"
    a = _lease(lake, s3, "pharma-fr-2018-04-20-collect-1", ttl=90)
    info = a.acquire()
    stored = _stored(s3)
    assert stored is not None and stored["owner"] == "pharma-fr-2018-04-20-collect-1"
    assert stored["expires_at"] == info.expires_at.isoformat(timespec="milliseconds") + "Z"
    assert lake.exists(lake.path(f"state/leases/panel={PANEL}.json"))  # pyarrow sees it too
    a.release()
    assert _stored(s3) is None


def test_second_run_gets_lease_busy_naming_holder_and_expiry(lake: Lake, s3: Any) -> None:
    a = _lease(lake, s3, "execution-1")
    info = a.acquire()
    with pytest.raises(LeaseBusy) as e:
        _lease(lake, s3, "execution-2").acquire()
    msg = str(e.value)
    assert msg.startswith(f"panel {PANEL} is busy: another run holds its lease (execution-1")
    assert f"expires {info.expires_at:%Y-%m-%d %H:%M:%S} UTC" in msg and f"s3://{BUCKET}/{KEY}" in msg
    assert _stored(s3)["owner"] == "execution-1"  # type: ignore[index]


def test_expired_lease_is_taken_over_and_old_owner_cannot_release(lake: Lake, s3: Any) -> None:
    a = _lease(lake, s3, "crashed", ttl=0.3)
    a.acquire()
    time.sleep(0.4)
    b = _lease(lake, s3, "next")
    b.acquire()
    assert _stored(s3)["owner"] == "next"  # type: ignore[index]
    with pytest.raises(LeaseLost, match="crashed expired and was taken over before its release: now held by next"):
        a.release()
    with pytest.raises(LeaseLost):
        a.renew()
    assert _stored(s3)["owner"] == "next"  # type: ignore[index]
    b.release()
    assert _stored(s3) is None


def test_release_by_non_owner_is_refused(lake: Lake, s3: Any) -> None:
    _lease(lake, s3, "owner").acquire()
    etag = s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"]
    with pytest.raises(LeaseLost, match="intruder does not hold the lease, release refused; it is held by owner"):
        _lease(lake, s3, "intruder").release()
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"] == etag


def test_released_lease_can_be_taken_again_in_a_versioned_bucket(lake: Lake, s3: Any) -> None:
    for owner in ("run-1", "run-2", "run-3"):
        with hold(lake, PANEL, owner, s3_client=s3, heartbeat=False):
            assert _stored(s3)["owner"] == owner  # type: ignore[index]
        assert _stored(s3) is None  # a delete marker: If-None-Match takes it again


def test_concurrent_runs_exactly_one_wins(lake: Lake, s3: Any, endpoint: str) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: dict[int, LeaseInfo | None] = {}

    def attempt(i: int) -> None:
        lease = _lease(lake, client("s3", endpoint), f"run-{i}")
        barrier.wait()
        results[i] = lease.try_acquire()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, holder in results.items() if holder is None]
    assert len(winners) == 1
    assert _stored(s3)["owner"] == f"run-{winners[0]}"  # type: ignore[index]


def test_hold_renews_with_if_match(lake: Lake, s3: Any) -> None:
    with hold(lake, PANEL, "long", ttl=0.6, s3_client=s3):
        first = _stored(s3)
        time.sleep(1.2)
        later = _stored(s3)
        assert first is not None and later is not None and later["owner"] == "long"
        assert later["expires_at"] > first["expires_at"] and later["acquired_at"] == first["acquired_at"]
        with pytest.raises(LeaseBusy):
            _lease(lake, s3, "other").acquire()
    assert _stored(s3) is None


def test_stage_lease_for_the_handlers(lake: Lake, s3: Any) -> None:
    ctx = FakeContext("score", remaining_ms=300_000)
    with runtime.stage_lease(lake, PANEL, "pharma-fr-2018-04-30-score-x", ctx, s3):
        stored = _stored(s3)
        assert stored is not None and stored["owner"] == "pharma-fr-2018-04-30-score-x"
        with pytest.raises(LeaseBusy, match="pharma-fr-2018-04-30-score-x"), \
                runtime.stage_lease(lake, PANEL, "pharma-fr-2018-04-30-publish-y", ctx, s3):
            pass
    assert _stored(s3) is None
    # the lease lasts the function's remaining time plus the margin
    lease = Lease(store_for(lake, PANEL, s3), PANEL, "probe", ttl=1)
    with runtime.stage_lease(lake, PANEL, "r", ctx, s3):
        holder = lease.holder()
        assert holder is not None
        span = (holder.expires_at - holder.acquired_at).total_seconds()
        assert span == pytest.approx(300 + runtime.LEASE_MARGIN_S, abs=0.01)
