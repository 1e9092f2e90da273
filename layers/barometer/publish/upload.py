"""Publishing a built site to its target: a local folder or an S3 bucket (+ CloudFront).

- Content-Type per extension (HTML/CSS/JS/CSV with charset=utf-8) and Cache-Control per kind:
  HTML short and revalidated, content-hashed assets for a year (immutable), data downloads short.
- Upload order, in phases: assets → data → pages → language leaderboards → the root
  `index.html`. A phase starts once the previous one has completed, so no page ever points at
  an asset, a download or a page that is not there yet.
- Unchanged objects are skipped (local: same bytes; S3: ETag = MD5 of the body, which holds
  for single-part PUTs with SSE-S3 — not with SSE-KMS, where every object would be re-sent).
- One CloudFront invalidation of the changed HTML and data paths (none when nothing changed);
  hashed assets are never invalidated (a new content gets a new name). Objects that are no
  longer generated are left in place (old cached pages may still reference old assets).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".ico": "image/x-icon",
}
CACHE_HTML = "public, max-age=300, must-revalidate"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_DATA = "public, max-age=600"
HASHED_ASSET = re.compile(r"(^|/)assets/[^/]+\.[0-9a-f]{8,64}\.[A-Za-z0-9]+$")
MAX_INVALIDATION_PATHS = 1000  # above this, invalidate the prefix with one wildcard


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(os.path.splitext(key)[1].lower(), "application/octet-stream")


def is_hashed_asset(key: str) -> bool:
    return bool(HASHED_ASSET.search(key))


def cache_control(key: str) -> str:
    if is_hashed_asset(key):
        return CACHE_IMMUTABLE
    if key.endswith(".html") or key.endswith("/") or key == "":
        return CACHE_HTML
    if key.endswith((".csv", ".json")):
        return CACHE_DATA
    return CACHE_HTML


PHASES = ("assets", "data", "pages", "leaderboards", "root", "manifest")
MANIFEST = "site-manifest.json"


def phase_of(key: str) -> int:
    """Upload phase of a key (0 first)."""
    if is_hashed_asset(key):
        return 0
    if key == MANIFEST:
        return 5
    if not key.endswith(".html"):
        return 1
    if key == "index.html":
        return 4
    if re.fullmatch(r"[a-z]{2}/index\.html", key):
        return 3
    return 2


def upload_plan(keys: Iterable[str]) -> list[list[str]]:
    """Keys grouped by phase, in upload order (deeper pages first inside the pages phase)."""
    phases: list[list[str]] = [[] for _ in PHASES]
    for k in keys:
        phases[phase_of(k)].append(k)
    phases[2].sort(key=lambda k: (-k.count("/"), k))
    for i in (0, 1, 3, 4, 5):
        phases[i].sort()
    return phases


def md5_hex(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def invalidation_paths(keys: Iterable[str], prefix: str = "") -> list[str]:
    """CloudFront paths of changed keys: HTML pages also by their directory URL."""
    base = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    out: set[str] = set()
    for k in keys:
        if is_hashed_asset(k):
            continue
        out.add(base + k)
        if k.endswith("index.html"):
            out.add(base + k[: -len("index.html")])
    return sorted(out)


class SiteStore(Protocol):
    location: str

    def listing(self) -> dict[str, str | None]: ...

    def is_unchanged(self, key: str, body: bytes, listing: dict[str, str | None]) -> bool: ...

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None: ...

    def invalidate(self, paths: Sequence[str], reference: str) -> str | None: ...


class LocalStore:
    """A folder: a changed file is replaced atomically (temp file + rename in the same folder); a
    new one is written in place (no page links to it until its upload phase is over). No fsync."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.location = self.root.resolve().as_uri()
        self._folders: set[str] = set()

    def listing(self) -> dict[str, str | None]:
        """Every file under the folder (relative keys); no checksum (compared on write)."""
        out: dict[str, str | None] = {}
        if not self.root.is_dir():
            return out
        base = len(str(self.root)) + 1
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.startswith(".tmp-"):
                    out[os.path.join(dirpath, name)[base:].replace(os.sep, "/")] = None
        return out

    def is_unchanged(self, key: str, body: bytes, listing: dict[str, str | None]) -> bool:
        if key not in listing:
            return False
        p = self.root / key
        try:
            return p.stat().st_size == len(body) and p.read_bytes() == body
        except OSError:
            return False

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        path = os.path.join(self.root, key)
        folder = os.path.dirname(path)
        if folder not in self._folders:  # thousands of files share a few hundred folders
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        try:  # a new key straight to its name: nothing links to it before its upload phase is done
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            try:
                view = memoryview(body)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            return
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{threading.get_ident()}-{os.path.basename(path)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # a leftover of a killed run: a fresh name
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
            os.fchmod(fd, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def invalidate(self, paths: Sequence[str], reference: str) -> str | None:
        return None


class S3Store:
    """An S3 bucket + prefix; the boto3 clients are passed in (a moto server's in tests)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", cloudfront: Any = None,
                 distribution_id: str | None = None) -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.cloudfront, self.distribution_id = cloudfront, distribution_id
        self.location = f"s3://{bucket}/{self.prefix}"

    def listing(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        n = len(self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                out[obj["Key"][n:]] = obj.get("ETag", "").strip('"')
        return out

    def is_unchanged(self, key: str, body: bytes, listing: dict[str, str | None]) -> bool:
        return listing.get(key) == md5_hex(body)

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read())
        except self.client.exceptions.NoSuchKey:
            return None

    def put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=body, ContentType=content_type,
            CacheControl=cache_control,
            ContentMD5=base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode())

    def invalidate(self, paths: Sequence[str], reference: str) -> str | None:
        if not paths or self.cloudfront is None or not self.distribution_id:
            return None
        if len(paths) > MAX_INVALIDATION_PATHS:
            paths = ["/" + self.prefix + "*"]
        resp = self.cloudfront.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": list(paths)},
                               "CallerReference": reference})
        return str(resp["Invalidation"]["Id"])


@dataclass(frozen=True)
class SiteTarget:
    """Where the site goes: a local folder (`file://…` or a path) or `s3://bucket/prefix` with a
    boto3 S3 client, and optionally a CloudFront client + distribution id to invalidate."""

    uri: str
    s3: Any = None
    cloudfront: Any = None
    distribution_id: str | None = None
    site_url: str | None = None  # public URL of the site, when known

    @classmethod
    def local(cls, path: str | Path) -> SiteTarget:
        return cls(str(path))

    @classmethod
    def s3_bucket(cls, bucket: str, prefix: str, client: Any, cloudfront: Any = None,
                  distribution_id: str | None = None, site_url: str | None = None) -> SiteTarget:
        return cls(f"s3://{bucket}/{prefix.strip('/')}", client, cloudfront, distribution_id, site_url)

    @property
    def is_local(self) -> bool:
        return urlparse(self.uri).scheme in ("", "file")

    def local_path(self) -> Path:
        parsed = urlparse(self.uri)
        return Path(parsed.path if parsed.scheme == "file" else self.uri)

    def store(self) -> SiteStore:
        parsed = urlparse(self.uri)
        if parsed.scheme in ("", "file"):
            return LocalStore(self.local_path())
        if parsed.scheme == "s3":
            if self.s3 is None:
                raise ValueError(f"site target {self.uri}: an S3 client is required")
            return S3Store(self.s3, parsed.netloc, parsed.path, self.cloudfront, self.distribution_id)
        raise ValueError(f"site target {self.uri!r}: scheme must be file:// or s3://")


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)  # in upload order
    unchanged: int = 0
    bytes_uploaded: int = 0
    invalidation_id: str | None = None
    invalidated: list[str] = field(default_factory=list)
    location: str = ""


def publish_files(files: dict[str, bytes], store: SiteStore, reference: str, workers: int = 8,
                  listing: dict[str, str | None] | None = None) -> UploadReport:
    """Send the changed files in phase order, then one invalidation of the changed paths."""
    report = UploadReport(location=store.location)
    existing = store.listing() if listing is None else listing
    changed = {k for k, body in files.items() if not store.is_unchanged(k, body, existing)}
    report.unchanged = len(files) - len(changed)
    parallel = workers > 1 and not isinstance(store, LocalStore)
    with ThreadPoolExecutor(max_workers=max(1, workers)) if parallel else _Serial() as pool:
        for phase in upload_plan(changed):
            if not phase:
                continue
            list(pool.map(lambda k: store.put(k, files[k], content_type(k), cache_control(k)), phase))
            report.uploaded.extend(phase)
            report.bytes_uploaded += sum(len(files[k]) for k in phase)
    prefix = store.prefix if isinstance(store, S3Store) else ""
    report.invalidated = invalidation_paths(report.uploaded, prefix)
    if report.invalidated:
        report.invalidation_id = store.invalidate(report.invalidated, reference)
    return report


class _Serial:
    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @staticmethod
    def map(fn: Any, items: Iterable[Any]) -> Iterable[Any]:
        return [fn(i) for i in items]
