"""XRPC errors: `{"error": Name, "message": text}` with the status Bluesky answers."""

from __future__ import annotations

from typing import Any


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}

    @property
    def doc(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message}


def invalid(message: str) -> XrpcError:
    """A 400 InvalidRequest: what the XRPC server answers a request its lexicon refuses."""
    return XrpcError(400, "InvalidRequest", message)


def auth_required(message: str = "Authentication Required") -> XrpcError:
    return XrpcError(401, "AuthMissing", message)
