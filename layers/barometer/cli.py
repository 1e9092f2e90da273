"""`barometer`: the command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from barometer.errors import BarometerError, ConfigError

DEFAULT_LAKE = "out/lake"
DEFAULT_SITE = "out/site"


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def _lake_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lake", default=os.environ.get("BAROMETER_LAKE", DEFAULT_LAKE),
                   help="lake URI: a folder, file://… or s3://bucket/prefix (default: %(default)s)")


def _local_run(args: argparse.Namespace, panel_ref: str):  # type: ignore[no-untyped-def]
    from barometer.config import resolve_panel
    from barometer.lake.store import Lake
    from barometer.pipeline import LocalRun, XSource

    panel = resolve_panel(panel_ref)  # validated before anything is written
    # The CLI is the edge: it alone reads the environment. A real token means real X.
    token = os.environ.get("X_BEARER_TOKEN") if not getattr(args, "simulate", False) else None
    source = XSource(token=token, base_url=getattr(args, "x_api_url", None),
                     faults=getattr(args, "faults", None))
    return LocalRun(panel=panel, lake=Lake(args.lake), site_dir=Path(args.site), source=source)


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
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    summaries = run(local, args.date, stages, mode=args.mode, since=args.since, deadline_s=args.deadline)
    for s in summaries:
        extra = f", {s.api_requests} requests, {s.posts_read} post reads, {s.users_read} user reads, " \
                f"~${s.cost_usd:.3f}" if s.stage == "collect" else ""
        print(f"{s.stage:8} {s.panel} {s.dt} {s.status}{extra}")
        for e in s.errors:
            print(f"         ! {e}")
    return 0 if all(s.status in ("ok", "skipped") for s in summaries) else 3


def cmd_serve(args: argparse.Namespace) -> int:
    import functools
    import http.server

    site = Path(args.site)
    if not (site / "index.html").is_file():
        raise ConfigError(f"{site}: no site here (run `barometer demo` first)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as httpd:
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

    d = sub.add_parser("demo", help="replay the demo panel on the simulator and publish its site")
    d.add_argument("--panel", default="pharma-fr", help="panel id or YAML file (default: %(default)s)")
    _lake_arg(d)
    d.add_argument("--site", default=DEFAULT_SITE, help="site output folder (default: %(default)s)")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("run", help="run stages of the pipeline for one date")
    r.add_argument("--panel", required=True, help="panel id or YAML file")
    r.add_argument("--date", type=_date, required=True, help="run date YYYY-MM-DD")
    r.add_argument("--stages", default="collect,score,publish", help="comma-separated (default: %(default)s)")
    r.add_argument("--mode", choices=["daily", "backfill"], default="daily")
    r.add_argument("--since", type=_date, help="backfill start date (with --mode backfill)")
    r.add_argument("--deadline", type=float, help="seconds the collector may use before checkpointing")
    r.add_argument("--x-api-url", help="collect from this X API host (e.g. `barometer sim serve`)")
    r.add_argument("--simulate", action="store_true", help="use the embedded simulator even with X_BEARER_TOKEN")
    r.add_argument("--faults", help="faults the embedded simulator injects (see `barometer sim serve -h`)")
    _lake_arg(r)
    r.add_argument("--site", default=DEFAULT_SITE)
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("serve", help="preview the published site locally")
    s.add_argument("--site", default=DEFAULT_SITE)
    s.add_argument("--port", type=int, default=8000)
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
