"""Command-line argument types and options shared by every `barometer` command.

Neutral ground for the CLI edge: the commands registered by the stages (`reparse`,
`explain`, `sim …`) use these too, without importing `barometer.cli` (which imports them).
Each refusal is worded once, here, so every command refuses a bad value in the same words.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlparse

DEFAULT_LAKE = "out/lake"
LAKE_ENV = "BAROMETER_LAKE"  # honoured by every command that takes --lake
LAKE_HELP = f"lake URI: a folder, file://… or s3://bucket/prefix (default: ${LAKE_ENV} or {DEFAULT_LAKE})"
# The scheduled collect is a 15-minute Lambda; a local run stops where it would (and resumes).
DEFAULT_DEADLINE_S = 900.0


def default_lake(environ: Mapping[str, str] = os.environ) -> str:
    """The lake every command uses unless told otherwise: $BAROMETER_LAKE, else out/lake."""
    return environ.get(LAKE_ENV) or DEFAULT_LAKE


def lake_arg(p: argparse.ArgumentParser) -> None:
    """Add `--lake` with the common default."""
    p.add_argument("--lake", default=default_lake(), help=LAKE_HELP)


def iso_date(text: str) -> date:
    """argparse type for a date: one wording for every command."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def iso_date_text(text: str) -> str:
    """`iso_date`'s check for a command that keeps the date as text."""
    iso_date(text)
    return text


def finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return v


def positive_seconds(text: str) -> float:
    """A duration in seconds: finite and > 0."""
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return v


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port (0-65535): {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (0-65535): {text!r}")
    return v


# A real Bluesky collection logs in as a handle (an option, or this variable) with an app
# password read from the environment only: argv shows in `ps` and lands in shell history.
BSKY_HANDLE_ENV = "BLUESKY_HANDLE"
BSKY_PASSWORD_ENV = "BLUESKY_APP_PASSWORD"


def server_url(text: str) -> str:
    """An http(s) server URL (`https://bsky.social`, `http://127.0.0.1:8788`), without a trailing /."""
    parsed = urlparse(text.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise argparse.ArgumentTypeError(f"not a server URL (http:// or https://host[:port]): {text!r}")
    return text.strip().rstrip("/")


class _NoSecretOnArgv(argparse.Action):
    """An app password given on the command line: refused in one line that does not repeat it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        parser.error(f"{option_string}: the Bluesky app password is read from ${BSKY_PASSWORD_ENV} only, "
                     "never from the command line")


def bluesky_args(p: argparse.ArgumentParser) -> None:
    """Add the Bluesky login of a collecting command: `--bsky-url`, `--bsky-handle` (the app
    password comes from $BLUESKY_APP_PASSWORD only; `--bsky-password` is refused)."""
    p.add_argument("--bsky-url", type=server_url, metavar="URL",
                   help="read Bluesky from this server, e.g. `barometer sim serve --network bluesky` "
                        "(default: https://bsky.social when X is not the embedded simulator)")
    p.add_argument("--bsky-handle", metavar="HANDLE",
                   help=f"the Bluesky account to log in as (default: ${BSKY_HANDLE_ENV}); its app password "
                        f"is read from ${BSKY_PASSWORD_ENV}")
    p.add_argument("--bsky-password", "--bsky-app-password", nargs="?", action=_NoSecretOnArgv,
                   dest="_bsky_password_refused", help=argparse.SUPPRESS)


DATE_OPTIONS = frozenset({"--date", "--since", "--end-date"})


def normalise(parser: argparse.ArgumentParser) -> None:
    """Give every command of `parser` (subcommands included) the common option semantics:
    `--lake` defaults to the common lake, dates, ports and numbers are checked by the types
    above. Commands registered by other modules get them even when they declare their own."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to one parser
                normalise(sub)
            continue
        flags = set(action.option_strings)
        if "--lake" in flags:
            action.default, action.help = default_lake(), LAKE_HELP
        elif flags & DATE_OPTIONS:
            action.type = iso_date_text if action.type in (None, str) else iso_date
        elif "--port" in flags:
            action.type = port
        elif action.type is float:
            action.type = finite_float
