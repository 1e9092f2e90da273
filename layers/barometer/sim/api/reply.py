"""What `XApi.handle` returns: a transport-free reply, and its JSON encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    body: bytes | None  # None: drop the connection without answering
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeout fault)


def json_reply(status: int, doc: dict[str, Any], headers: dict[str, str]) -> Reply:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, {"content-type": "application/json; charset=utf-8", **headers})
