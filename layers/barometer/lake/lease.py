"""One run per panel at a time: a lease object in the lake, taken by a conditional write.

```python
with hold(lake, panel.id, owner="barometer run --date 2018-04-20", s3_client=s3) as lease:
    ...  # the stages; a second run meanwhile gets LeaseBusy (or waits, `wait=` seconds)
```

The lease is one small JSON object, `state/leases/panel=<id>.json`: who holds it (`owner`, a
run id or a command line, with host and pid), `acquired_at` and `expires_at` (UTC). Taking it:

- **S3** (a boto3 client passed in: pyarrow's filesystem has no conditional write):
  `PutObject` with `If-None-Match: *` creates it only if there is none; an expired lease is taken
  over by `PutObject` with `If-Match: <its ETag>`, renewed the same way with our ETag, and
  released by `DeleteObject` with `If-Match: <our ETag>` — so of two runs racing, exactly one
  wins each step, and a release never deletes another run's lease.
- **Files** (a `file://` lake): the same steps on a file, each under an exclusive `flock` of a
  sidecar lock file: created with `O_CREAT | O_EXCL`, taken over or renewed by writing a temporary
  file and renaming it over the lease (`os.replace`) if the lease still holds the bytes we read
  (the file's "ETag" is their SHA-256), released by unlinking it under the same check. A process
  that dies holding the lock releases it (the kernel drops a dead process's flocks).

A crashed run stops renewing: its lease expires after `ttl` seconds and the next run takes it
over. `hold` renews the lease every `ttl / 3` seconds from a daemon thread (`heartbeat=True`),
so a long run keeps it with a short `ttl`; a run that finds its lease taken over (it stalled
past its expiry) gets `LeaseLost` when it ends. An unreadable lease (not JSON) counts as expired.

Standard library only: the lake is a type here, the S3 client a parameter.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from barometer.errors import BarometerError

if TYPE_CHECKING:
    from barometer.lake.store import Lake

PREFIX = "state/leases"
DEFAULT_TTL_S = 120.0  # with the heartbeat, how long a crashed run blocks its panel at most
POLL_S = 1.0

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def lease_key(panel: str) -> str:
    """The lease's key, relative to the lake's root."""
    return f"{PREFIX}/panel={panel}.json"


class LeaseBusy(BarometerError):
    """Another run holds the panel's lease (and it has not expired)."""

    exit_code = 75  # EX_TEMPFAIL: try again later

    def __init__(self, message: str, holder: LeaseInfo | None, where: str) -> None:
        super().__init__(message)
        self.holder, self.where = holder, where


class LeaseLost(BarometerError):
    """A lease we held is no longer ours (it expired and another run took it over), or a
    release/renewal was asked of a run that does not hold it."""


@dataclass(frozen=True)
class LeaseInfo:
    """The lease object's content."""

    owner: str
    panel: str
    acquired_at: datetime
    expires_at: datetime
    host: str = ""
    pid: int = 0
    nonce: str = ""

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def to_bytes(self) -> bytes:
        d: dict[str, Any] = asdict(self)
        for k in ("acquired_at", "expires_at"):
            d[k] = d[k].isoformat(timespec="milliseconds") + "Z"
        return json.dumps(d, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> LeaseInfo | None:
        """The lease, or None when the bytes are not a lease (e.g. a half-written file)."""
        try:
            d = json.loads(body)
            return cls(owner=str(d["owner"]), panel=str(d["panel"]),
                       acquired_at=_parse_ts(d["acquired_at"]), expires_at=_parse_ts(d["expires_at"]),
                       host=str(d.get("host", "")), pid=int(d.get("pid", 0)), nonce=str(d.get("nonce", "")))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        where = f" on {self.host}" if self.host else ""
        pid = f", pid {self.pid}" if self.pid else ""
        return (f"{self.owner}{where}{pid}, since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
                f"expires {self.expires_at:%Y-%m-%d %H:%M:%S} UTC")


def _parse_ts(s: str) -> datetime:
    return datetime.fromisoformat(s.removesuffix("Z")).replace(tzinfo=None)


class LeaseStore(Protocol):
    """Conditional operations on one lease object. A token identifies the object's current
    content (an S3 ETag, or the SHA-256 of a file's bytes)."""

    where: str  # printable location, for messages

    def create(self, body: bytes) -> str | None:
        """Write `body` if there is no lease: its token, or None when one exists."""

    def read(self) -> tuple[bytes, str] | None:
        """(content, token), or None when there is no lease."""

    def replace(self, body: bytes, token: str) -> str | None:
        """Write `body` if the lease's token is still `token`: the new token, else None."""

    def delete(self, token: str) -> bool:
        """Delete the lease if its token is still `token`."""


class FileLeaseStore:
    """The lease as a local file; every step under an exclusive flock of `.<name>.lock`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.where = path
        folder, name = os.path.split(path)
        self._lock_path = os.path.join(folder, f".{name}.lock")
        os.makedirs(folder, exist_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def _read(self) -> tuple[bytes, str] | None:
        try:
            with open(self.path, "rb") as f:
                body = f.read()
        except FileNotFoundError:
            return None
        return body, hashlib.sha256(body).hexdigest()

    def create(self, body: bytes) -> str | None:
        with self._locked():
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return None
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            return hashlib.sha256(body).hexdigest()

    def read(self) -> tuple[bytes, str] | None:
        with self._locked():
            return self._read()

    def replace(self, body: bytes, token: str) -> str | None:
        with self._locked():
            held = self._read()
            if held is None or held[1] != token:
                return None
            tmp = f"{self.path}.{uuid.uuid4().hex}.tmp"
            try:
                with open(tmp, "wb") as f:
                    f.write(body)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
            return hashlib.sha256(body).hexdigest()

    def delete(self, token: str) -> bool:
        with self._locked():
            held = self._read()
            if held is None or held[1] != token:
                return False
            os.remove(self.path)
            return True


# S3 error codes meaning "the condition did not hold" (412), "a concurrent conditional request
# on the same key won" (409), or "no such object" (404).
_LOST_RACE = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


def _s3_code(e: Exception) -> str | None:
    """The S3 error code of a botocore ClientError (without importing botocore), else None."""
    response = getattr(e, "response", None)
    if not isinstance(response, dict):
        return None
    return str(response.get("Error", {}).get("Code", "")) or None


class S3LeaseStore:
    """The lease as an S3 object, written with S3 conditional requests (`If-None-Match`,
    `If-Match`) through a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.where = f"s3://{bucket}/{key}"

    def create(self, body: bytes) -> str | None:
        try:
            r = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body, IfNoneMatch="*",
                                       ContentType="application/json")
        except Exception as e:
            if _s3_code(e) in _LOST_RACE:
                return None
            raise
        return str(r["ETag"])

    def read(self) -> tuple[bytes, str] | None:
        try:
            r = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as e:
            if _s3_code(e) in _MISSING:
                return None
            raise
        return r["Body"].read(), str(r["ETag"])

    def replace(self, body: bytes, token: str) -> str | None:
        try:
            r = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=body, IfMatch=token,
                                       ContentType="application/json")
        except Exception as e:
            if _s3_code(e) in _LOST_RACE | _MISSING:
                return None
            raise
        return str(r["ETag"])

    def delete(self, token: str) -> bool:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=token)
        except Exception as e:
            if _s3_code(e) in _LOST_RACE | _MISSING:
                return False
            raise
        return True


def store_for(lake: Lake, panel: str, s3_client: Any = None) -> LeaseStore:
    """The lease store of a panel in a lake: a file for a local lake; an S3 object, written
    through `s3_client` (a boto3 S3 client; a default one when None), for an s3:// lake."""
    key = lease_key(panel)
    if lake.local:
        return FileLeaseStore(lake.path(key))
    bucket, _, prefix = lake.root.partition("/")
    if s3_client is None:
        import boto3  # the local runner on an s3:// lake; Lambda handlers pass their client

        s3_client = boto3.client("s3")
    return S3LeaseStore(s3_client, bucket, f"{prefix}/{key}" if prefix else key)


class Lease:
    """A panel's lease, as one owner sees it: acquire, renew, release."""

    def __init__(self, store: LeaseStore, panel: str, owner: str, ttl: float = DEFAULT_TTL_S,
                 clock: Clock = utcnow) -> None:
        if not ttl > 0:
            raise ValueError(f"lease ttl must be positive, not {ttl!r}")
        self.store, self.panel, self.owner, self.ttl, self.clock = store, panel, owner, ttl, clock
        self.info: LeaseInfo | None = None  # while held
        self._token: str | None = None

    @property
    def held(self) -> bool:
        return self._token is not None

    def holder(self) -> LeaseInfo | None:
        """The lease as stored now (None when nobody holds it, or it is unreadable)."""
        got = self.store.read()
        return LeaseInfo.from_bytes(got[0]) if got else None

    def _new(self, acquired_at: datetime | None = None) -> LeaseInfo:
        now = self.clock()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as stored: milliseconds
        return LeaseInfo(owner=self.owner, panel=self.panel, acquired_at=acquired_at or now,
                         expires_at=now + timedelta(seconds=self.ttl), host=socket.gethostname(),
                         pid=os.getpid(), nonce=uuid.uuid4().hex)

    def try_acquire(self) -> LeaseInfo | None:
        """Take the lease if it is free or expired; else return the live holder (a `LeaseInfo`
        whose owner is not us). Raises nothing for a busy lease."""
        if self.held:
            raise LeaseLost(f"panel {self.panel}: lease already held by this run ({self.owner})")
        for _ in range(10):  # each turn loses a race to another run at most; 10 is plenty
            mine = self._new()
            token = self.store.create(mine.to_bytes())
            if token is not None:
                self.info, self._token = mine, token
                return None
            got = self.store.read()
            if got is None:
                continue  # released between our create and our read: try again
            body, theirs = got
            current = LeaseInfo.from_bytes(body)
            if current is not None and not current.expired(self.clock()):
                return current
            token = self.store.replace(mine.to_bytes(), theirs)  # take over the expired lease
            if token is not None:
                self.info, self._token = mine, token
                return None
        raise LeaseLost(f"panel {self.panel}: could not take the lease at {self.store.where} "
                        "(it changed hands ten times while we tried)")

    def acquire(self, wait: float = 0.0, poll: float = POLL_S) -> LeaseInfo:
        """Take the lease, waiting up to `wait` seconds for a live holder to release it or
        expire; raises `LeaseBusy` (naming the holder and its expiry) after that."""
        give_up = time.monotonic() + max(0.0, wait)
        while True:
            holder = self.try_acquire()
            if holder is None:
                assert self.info is not None
                return self.info
            left = give_up - time.monotonic()
            if left <= 0:
                waited = f" (waited {wait:g} s)" if wait > 0 else ""
                raise LeaseBusy(
                    f"panel {self.panel} is busy: another run holds its lease ({holder.describe()})"
                    f"{waited}; wait for it to finish or retry after its expiry [{self.store.where}]",
                    holder, self.store.where)
            time.sleep(min(poll, left))

    def renew(self) -> LeaseInfo:
        """Push our lease's expiry to now + ttl; `LeaseLost` if it is no longer ours."""
        if self.info is None or self._token is None:
            raise LeaseLost(f"panel {self.panel}: cannot renew a lease this run ({self.owner}) does not hold")
        mine = self._new(acquired_at=self.info.acquired_at)
        token = self.store.replace(mine.to_bytes(), self._token)
        if token is None:
            self._token = None
            holder = self.holder()
            by = f" (now held by {holder.describe()})" if holder else ""
            raise LeaseLost(f"panel {self.panel}: the lease of {self.owner} expired and was taken over{by}")
        self.info, self._token = mine, token
        return mine

    def release(self) -> None:
        """Delete the lease if it is still ours; `LeaseLost` (nothing deleted) otherwise."""
        if self._token is None:
            holder = self.holder()
            by = f"; it is held by {holder.describe()}" if holder else ""
            raise LeaseLost(f"panel {self.panel}: {self.owner} does not hold the lease, release refused{by}")
        token, self._token = self._token, None
        if not self.store.delete(token):
            holder = self.holder()
            by = f": now held by {holder.describe()}" if holder else ""
            raise LeaseLost(f"panel {self.panel}: the lease of {self.owner} expired and was taken over "
                            f"before its release{by}")


class _Heartbeat:
    """Renews a lease every `every` seconds until stopped; keeps the error if it is lost."""

    def __init__(self, lease: Lease, every: float) -> None:
        self.lease, self.every = lease, every
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.panel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.lease.renew()
            except LeaseLost as e:
                self.error = e
                return
            except Exception:  # a transient storage error: try again on the next beat
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def hold(lake: Lake, panel: str, owner: str | None = None, *, ttl: float = DEFAULT_TTL_S,
         wait: float = 0.0, s3_client: Any = None, heartbeat: bool = True,
         clock: Clock = utcnow) -> Iterator[Lease]:
    """Hold the panel's lease for the block: `LeaseBusy` when another run holds it (after
    waiting up to `wait` s), released at the end (also when the block raises).

    `owner` names this run in the other runs' messages (a run id or a command line; default
    host:pid). With `heartbeat`, the lease is renewed every ttl/3 s while the block runs. When
    the lease turns out to have been taken over (the run stalled past its expiry), a block that
    ended normally raises `LeaseLost`; a block that raised keeps its own exception."""
    lease = Lease(store_for(lake, panel, s3_client), panel,
                  owner or f"{socket.gethostname()}:{os.getpid()}", ttl=ttl, clock=clock)
    lease.acquire(wait=wait)
    beat = _Heartbeat(lease, ttl / 3) if heartbeat else None
    if beat is not None:
        beat.start()
    ok = False
    try:
        yield lease
        ok = True
    finally:
        if beat is not None:
            beat.stop()
        try:
            if beat is not None and beat.error is not None:
                raise beat.error
            lease.release()
        except LeaseLost:
            if ok:
                raise
