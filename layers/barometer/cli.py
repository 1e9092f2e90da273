"""`barometer`: the command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from barometer.cliargs import (
    BSKY_HANDLE_ENV,
    BSKY_PASSWORD_ENV,
    DEFAULT_DEADLINE_S,
    DEFAULT_LAKE,
    bluesky_args,
    iso_date,
    lake_arg,
    normalise,
    port,
    positive_seconds,
)
from barometer.errors import BarometerError, ConfigError

if TYPE_CHECKING:
    from barometer.pipeline import LocalRun, XSource

__all__ = ["DEFAULT_LAKE", "DEFAULT_SITE", "build_parser", "main"]

DEFAULT_SITE = "out/site"


def _local_run(args: argparse.Namespace, panel_ref: str) -> LocalRun:
    from barometer.config import resolve_panel
    from barometer.lake.store import Lake
    from barometer.pipeline import LocalRun, XSource

    panel = resolve_panel(panel_ref)  # validated before anything is written
    # The CLI is the edge: it alone reads the environment. A real token means real X.
    token = os.environ.get("X_BEARER_TOKEN") if not getattr(args, "simulate", False) else None
    source = XSource(token=token, base_url=getattr(args, "x_api_url", None),
                     faults=getattr(args, "faults", None))
    if hasattr(args, "bsky_handle") and "bluesky" in panel.networks:
        _bluesky_login(args, panel.id, source)
    return LocalRun(panel=panel, lake=Lake(args.lake), site_dir=Path(args.site), source=source,
                    skip_bad_files=getattr(args, "skip_bad_files", False))


def _bluesky_login(args: argparse.Namespace, panel_id: str, source: XSource) -> None:
    """The Bluesky server and login of a run that reads Bluesky elsewhere than the embedded
    simulator (which serves it, with its own login, when X is embedded): `--bsky-url` (default
    bsky.social), the handle from `--bsky-handle` or $BLUESKY_HANDLE, the app password from
    $BLUESKY_APP_PASSWORD only. A missing one is one line, exit 2, before anything is read."""
    if source.embedded:
        if args.bsky_url:
            raise ConfigError(f"{args.command}: --bsky-url: X is read from the embedded simulator, which serves "
                              "Bluesky too; give --x-api-url (an external X simulator) or $X_BEARER_TOKEN (X) "
                              "to read Bluesky from another server")
        return
    source.bsky_url = args.bsky_url
    source.bsky_handle = args.bsky_handle or os.environ.get(BSKY_HANDLE_ENV) or None
    source.bsky_password = os.environ.get(BSKY_PASSWORD_ENV) or None
    where = f"panel {panel_id} reads Bluesky from {source.bsky_server}"
    if not source.bsky_handle:
        raise ConfigError(f"{args.command}: {where}: give the account to log in as (--bsky-handle or "
                          f"${BSKY_HANDLE_ENV}) and its app password (${BSKY_PASSWORD_ENV})")
    if not source.bsky_password:
        raise ConfigError(f"{args.command}: {where} as {source.bsky_handle}: set ${BSKY_PASSWORD_ENV} to its "
                          "app password (read from the environment only)")


def cmd_demo(args: argparse.Namespace) -> int:
    from barometer.pipeline import demo

    args.simulate = True
    local = _local_run(args, args.panel)
    plan = demo(local)
    scores = local.summaries[-2]
    failed = [s for s in local.summaries if s.status == "failed"]
    index = Path(args.site).resolve() / "index.html"
    print(f"Panel {local.panel.name}: {len(local.summaries)} stage runs, "
          f"{len(failed)} failed, scored {plan.run_date} ({scores.status}).")
    print(f"Site: {index}")
    print("Preview: barometer serve   (then open http://127.0.0.1:8000/)")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from barometer.pipeline import run

    local = _local_run(args, args.panel)
    _check_dates(args, local)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    summaries = run(local, args.date, stages, mode=args.mode, since=args.since, deadline_s=args.deadline)
    from barometer.pipeline import budget_hint

    for s in summaries:
        extra = f", {s.api_requests} requests, {s.posts_read} post reads, {s.users_read} user reads, " \
                f"~${s.cost_usd:.3f}" if s.stage == "collect" else ""
        print(f"{s.stage:8} {s.panel} {s.dt} {s.status}{extra}")
        for e in s.errors:
            print(f"         ! {e}")
        hint = budget_hint(s, args.panel)
        if hint:
            print(f"         → {hint}")
    return 0 if all(s.status in ("ok", "skipped") for s in summaries) else 3


def cmd_start(args: argparse.Namespace) -> int:
    from barometer.start import start

    local = _local_run(args, args.panel)
    if args.since is not None and args.until is not None and args.since > args.until:
        raise ConfigError(f"start: --since {args.since}: after --until {args.until}")
    report = start(local, args.until, args.since, deadline_s=args.deadline, panel_file=args.panel)
    p = report.plan
    print(f"Panel {local.panel.name}: start {p.since} … {p.until}, {len(p.steps)} steps "
          f"({len(report.skipped)} done before, {len(report.done)} now).")
    for s in report.summaries:
        extra = f", {s.posts_read} post reads, {s.users_read} user reads" if s.stage == "collect" else ""
        print(f"{s.stage:8} {s.panel} {s.dt} {s.status}{extra}")
    for w in report.warnings[:10]:
        print(f"         ! {w}")
    if len(report.warnings) > 10:
        print(f"         ! … and {len(report.warnings) - 10} more")
    if report.stopped:
        print(f"Stopped at {report.stopped}")
        return 3
    scored = [s for s in report.summaries if s.stage == "score"]
    if scored and scored[-1].details.get("provisional"):
        print(f"Provisional: the window rests on {scored[-1].details.get('days_collected')} collected days "
              f"(scoring.min_window_days: {local.panel.scoring.min_days}).")
    print(f"Site: {(Path(args.site).resolve() / 'index.html')}")
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    """A panel's daily and monthly cost, full and at its budget, from profiles and counts only."""
    from datetime import UTC, datetime, time, timedelta

    from barometer.clock import readable_dates
    from barometer.collect.costing import estimate_cost

    if args.days < 1 or args.days > 6:
        raise ConfigError(f"cost: --days {args.days}: counts/recent covers the last 7 days; give 1 to 6")
    local = _local_run(args, args.panel)
    last = readable_dates(local.panel, simulated=local.source.simulated).last
    now = datetime.combine(last + timedelta(days=1), time(6), UTC) if local.embedded else datetime.now(UTC)
    with local.client(now) as (client, _set_now):
        report = estimate_cost(local.panel, client, now, days=args.days)
    print("\n".join(report.lines()))
    return 0


def _check_dates(args: argparse.Namespace, local: LocalRun) -> None:
    """Refuse, before anything is read or written, a date the run cannot read: after the run
    clock's today (the simulated world's last day on the simulator), before the panel's first."""
    from barometer.clock import readable_dates

    if args.mode == "backfill" and args.since is None:
        raise ConfigError("run: --mode backfill needs --since (the first day of the range)")
    if args.since is not None and args.mode != "backfill":
        raise ConfigError("run: --since goes with --mode backfill")
    if args.since is not None and args.since > args.date:
        raise ConfigError(f"run: --since {args.since}: after --date {args.date}")
    dates = readable_dates(local.panel, simulated=local.source.simulated)
    for flag, d in (("--date", args.date), ("--since", args.since)):
        refusal = dates.check(flag, d) if d is not None else None
        if refusal:
            raise ConfigError(f"run: {refusal}")


def cmd_serve(args: argparse.Namespace) -> int:
    import functools
    import http.server

    site = Path(args.site)
    if not (site / "index.html").is_file():
        raise ConfigError(f"{site}: no site here (run `barometer demo` first)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    try:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as e:
        hint = ": another server holds it, pass --port" if e.errno == errno.EADDRINUSE else ""
        raise ConfigError(f"serve: cannot listen on 127.0.0.1:{args.port} ({e.strerror}){hint}") from None
    with httpd:
        print(f"Serving {site} on http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C to stop)")
        httpd.serve_forever()
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself stays in --help), prefixed
    `barometer: error:` as every other error, then the subcommand (`run: argument --date: ...`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("barometer").strip()
        self.exit(2, f"barometer: error: {command + ': ' if command else ''}{message}\n")


def build_parser() -> argparse.ArgumentParser:
    from barometer import __version__

    p = _Parser(prog="barometer", description="Opinion leadership barometer for brands on X.")
    p.add_argument("--version", action="version", version=f"barometer {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="replay a panel on the simulator and publish its site",
                       description="Replay a panel's schedule on the X simulator (a world written in the "
                                   "panel's sector, up to its demo.run_date, else yesterday), score and "
                                   "publish. The way to try any panel without an X token.")
    d.add_argument("--panel", default="pharma-fr", help="panel id or YAML file (default: %(default)s)")
    lake_arg(d)
    d.add_argument("--site", default=DEFAULT_SITE, help="site output folder (default: %(default)s)")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("run", help="run stages of the pipeline for one date")
    r.add_argument("--panel", required=True, help="panel id or YAML file")
    r.add_argument("--date", type=iso_date, required=True, help="run date YYYY-MM-DD")
    r.add_argument("--stages", default="collect,score,publish", help="comma-separated (default: %(default)s)")
    r.add_argument("--mode", choices=["daily", "backfill"], default="daily")
    r.add_argument("--since", type=iso_date, help="backfill start date (with --mode backfill)")
    r.add_argument("--deadline", type=positive_seconds, default=DEFAULT_DEADLINE_S,
                   help="seconds the collector may use before it checkpoints; the next run resumes "
                        "(default: %(default).0f, the scheduled collect's limit)")
    r.add_argument("--x-api-url", help="collect from this X API host (e.g. `barometer sim serve`)")
    r.add_argument("--simulate", action="store_true",
                   help="use the embedded simulators (X and Bluesky) even with X_BEARER_TOKEN")
    r.add_argument("--faults", help="faults the embedded simulator injects (see `barometer sim serve -h`)")
    bluesky_args(r)
    r.add_argument("--skip-bad-files", action="store_true",
                   help="score around lake files that break the lake contract (their rows count as missing) "
                        "instead of stopping with their paths")
    lake_arg(r)
    r.add_argument("--site", default=DEFAULT_SITE)
    r.set_defaults(func=cmd_run)

    st = sub.add_parser("start", help="start a new panel: backfill its window, daily runs up to a date, "
                                      "score and publish (resumable)",
                        description="Start a panel over a period in one command: a backfill of the window "
                                    "(under collection.max_backfill_post_reads), the daily runs of the last "
                                    "days up to --until, then score and publish. Progress is kept in the "
                                    "lake: run the same command again to resume.")
    st.add_argument("--panel", required=True, help="panel id or YAML file")
    st.add_argument("--until", type=iso_date, help="last day YYYY-MM-DD (default: yesterday; on the "
                                                   "simulator, the simulated world's last day)")
    st.add_argument("--since", type=iso_date, help="first day to backfill (default: the window's first day)")
    st.add_argument("--deadline", type=positive_seconds, default=None,
                    help="seconds each collect run may use before it checkpoints (default: none)")
    st.add_argument("--x-api-url", help="collect from this X API host (e.g. `barometer sim serve`)")
    st.add_argument("--simulate", action="store_true",
                    help="use the embedded simulators (X and Bluesky) even with X_BEARER_TOKEN")
    bluesky_args(st)
    lake_arg(st)
    st.add_argument("--site", default=DEFAULT_SITE)
    st.set_defaults(func=cmd_start)

    c = sub.add_parser("cost", help="estimate a panel's daily and monthly X cost, full and at its budget",
                       description="From the accounts' profiles and X's mention counts only (a few cents): "
                                   "the cost of a day and a month at full collection and at "
                                   "collection.daily_budget_usd, and the plan per brand.")
    c.add_argument("--panel", required=True, help="panel id or YAML file")
    c.add_argument("--days", type=int, default=6, help="full days of mention counts to average (default: %(default)s)")
    c.add_argument("--x-api-url", help="read from this X API host (e.g. `barometer sim serve`)")
    c.add_argument("--simulate", action="store_true", help="use the embedded simulator even with X_BEARER_TOKEN")
    lake_arg(c)
    c.add_argument("--site", default=DEFAULT_SITE, help=argparse.SUPPRESS)
    c.set_defaults(func=cmd_cost)

    s = sub.add_parser("serve", help="preview the published site locally")
    s.add_argument("--site", default=DEFAULT_SITE)
    s.add_argument("--port", type=port, default=8000)
    s.set_defaults(func=cmd_serve)

    from barometer.aws.trigger import register as register_trigger
    from barometer.collect.reparse import register as register_reparse
    from barometer.query import register as register_query
    from barometer.score.explain import register as register_explain
    from barometer.sim.cli import register as register_sim

    register_query(sub)
    register_explain(sub)
    register_reparse(sub)
    register_trigger(sub)
    sim = sub.add_parser("sim", help="the X API simulator")
    register_sim(sim.add_subparsers(dest="sim_command", required=True, metavar="SIM_COMMAND"))
    # One meaning for shared options across commands, whoever registered them: the common
    # --lake default, and one check (and wording) for dates, ports and numbers.
    normalise(p)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except BarometerError as e:
        print(f"barometer: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("barometer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # the last line of defence: one line, never a traceback
        if os.environ.get("BAROMETER_DEBUG"):
            raise
        print(f"barometer: unexpected error: {type(e).__name__}: {e} (BAROMETER_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
