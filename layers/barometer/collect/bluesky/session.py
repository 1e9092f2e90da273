"""The Bluesky session: an app-password login kept in the lake's state and refreshed.

The session (access and refresh JWTs) is stored as `state/bluesky/panel=<p>/session.json.gz`;
a run restores it (the SDK refreshes an expired access token with refreshSession) and logs in
again only when it is refused. The app password is never logged nor stored.
"""

from __future__ import annotations

from typing import Any

from barometer.errors import BarometerError
from barometer.lake.store import Lake

PREFIX = "state/bluesky"


class LoginRefused(BarometerError):
    """The app password was refused or has expired (one line, no secret in it)."""


def _key(panel: str) -> str:
    return f"{PREFIX}/panel={panel}/session.json.gz"


def stored(lake: Lake, panel: str) -> str | None:
    try:
        obj = lake.get_json_gz(_key(panel))
    except (OSError, FileNotFoundError):
        return None
    except BarometerError:
        return None
    return obj.get("session") if isinstance(obj, dict) else None


def save(lake: Lake, panel: str, session: str) -> None:
    lake.put_json_gz(_key(panel), {"session": session})


def open_client(client: Any, lake: Lake, panel: str, login: str | None, password: str | None) -> int:
    """Authenticate `client` (an atproto Client): restore the stored session, else log in.
    Returns the number of logins made (0 or 1). Raises LoginRefused in one line."""
    session = stored(lake, panel)
    base = getattr(client, "_base_url", None)
    if session:
        try:
            client.login(session_string=session)
            save(lake, panel, client.export_session_string())
            return 0
        except Exception:
            # Restoring points the client at the session's server; a stale session (another
            # server, a simulator gone) must not take the password login there with it.
            if base is not None:
                client.update_base_url(base)
    if not login or not password:
        raise LoginRefused("bluesky: no login (BLUESKY_HANDLE and BLUESKY_APP_PASSWORD) for searchPosts")
    try:
        client.login(login, password)
    except Exception as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        raise LoginRefused(f"bluesky: login refused for {login}"
                           f"{f' (HTTP {status})' if status else ''}: app password refused or expired") from None
    save(lake, panel, client.export_session_string())
    return 1
