"""The site's templates and static assets: one Jinja2 environment (autoescaping, strict
undefined) and the content-hashed CSS, JS and icon."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined, auto_reload=False, cache_size=-1)
    return env


def _hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def build_assets() -> tuple[dict[str, str], dict[str, bytes]]:
    """Content-hashed static assets: ({logical name: key}, {key: bytes})."""
    names, files = {}, {}
    for logical, fname in (("css", "site.css"), ("js", "sort.js"), ("compare", "compare.js"),
                          ("icon", "favicon.svg")):
        body = (STATIC / fname).read_bytes()
        stem, ext = fname.rsplit(".", 1)
        key = f"assets/{stem}.{_hash(body)}.{ext}"
        names[logical], files[key] = key, body
    return names, files

