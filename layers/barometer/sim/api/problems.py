"""X's error documents: the exception endpoints raise, and the `errors` entries they return."""

from __future__ import annotations

from typing import Any

NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
INVALID = "https://api.twitter.com/2/problems/invalid-request"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    def __init__(self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(doc.get("detail") or doc.get("title"))
        self.status = status
        self.doc = doc
        self.headers = headers or {}


def invalid(message: str, parameters: dict[str, list[str]] | None = None) -> ApiError:
    err: dict[str, Any] = {"message": message}
    if parameters is not None:
        err["parameters"] = parameters
    return ApiError(
        400,
        {
            "errors": [err],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID,
        },
    )


def generic(status: int, title: str) -> dict[str, Any]:
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


def user_error(value: str, parameter: str, *, suspended: bool) -> dict[str, Any]:
    """X's `errors` entry for a suspended or unknown user asked by handle or id."""
    return {
        "value": value,
        "detail": f"User has been suspended: [{value}]." if suspended
        else f"Could not find user with {parameter}: [{value}].",
        "title": "Forbidden" if suspended else "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND,
    }
