"""Run the pipeline on demand: start the state machine with a `RunRequest`, optionally follow it.

    barometer trigger --panel pharma-fr [--date 2018-04-30] [--stages collect,score] \
        [--brands sanofi] [--wait] [--state-machine-arn ARN | --stack OpinionBarometer]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from barometer.aws.events import RunRequest, yesterday
from barometer.cliargs import iso_date, positive_seconds
from barometer.errors import BarometerError, ConfigError

if TYPE_CHECKING:
    from barometer.config import Panel

DEFAULT_STACK = "OpinionBarometer"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")
_STAGE_TAGS = {"collect": "c", "score": "s", "publish": "p"}


@dataclass
class Outcome:
    """Where an execution stands (its end, when followed)."""

    execution_arn: str
    name: str
    status: str
    input: dict[str, Any]
    output: Any = None
    site_url: str | None = None
    error: str | None = None
    console_url: str | None = None
    events: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("RUNNING", "SUCCEEDED")

    def lines(self) -> list[str]:
        out = [f"execution {self.name}: {self.status}", f"  arn  {self.execution_arn}"]
        if self.error:
            out.append(f"  error  {self.error}")
        for stage in _summaries(self.output):
            out.append(f"  {stage.get('stage')}: {stage.get('status')} "
                       f"(brands ok {stage.get('brands_ok', 0)}, failed {stage.get('brands_failed', 0)})")
        if self.site_url:
            out.append(f"  site {self.site_url}")
        if self.console_url:
            out.append(f"  console {self.console_url}")
        return out


def execution_name(request: RunRequest, suffix: str | None = None) -> str:
    """`<panel>-<date>-<stages>-<short uuid>`: readable, unique, within Step Functions' 80 chars."""
    stages = "".join(_STAGE_TAGS.get(s, s[0]) for s in request.stages)
    when = request.date.isoformat() if request.date else "auto"
    tail = f"-{when}-{stages}-{suffix or uuid.uuid4().hex[:8]}"
    return _NAME_OK.sub("-", request.panel[: 80 - len(tail)] + tail)


def _summaries(output: Any) -> list[dict[str, Any]]:
    """Stage summaries found in an execution's output (a summary, a list, or a dict of them)."""
    if isinstance(output, Mapping):
        if "stage" in output and "run_id" in output:
            return [dict(output)]
        return [s for v in output.values() for s in _summaries(v)]
    if isinstance(output, list):
        return [s for v in output for s in _summaries(v)]
    return []


def find_site_url(output: Any) -> str | None:
    """A `site_url` anywhere in the execution output (the publish summary reports it)."""
    if isinstance(output, Mapping):
        for k, v in output.items():
            if k == "site_url" and isinstance(v, str) and v:
                return v
        for v in output.values():
            found = find_site_url(v)
            if found:
                return found
    elif isinstance(output, list):
        for v in output:
            found = find_site_url(v)
            if found:
                return found
    return None


def arn_region(arn: str | None) -> str | None:
    """The region of an ARN (`arn:aws:states:eu-west-3:…` → `eu-west-3`), None if it has none."""
    parts = (arn or "").split(":")
    return (parts[3] or None) if len(parts) > 3 and parts[0] == "arn" else None


def _console_url(execution_arn: str) -> str | None:
    region = arn_region(execution_arn)
    if region is None:
        return None
    return (f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_arn}")


def describe(sfn: Any, execution_arn: str, site_url: str | None = None) -> Outcome:
    d = sfn.describe_execution(executionArn=execution_arn)
    output = json.loads(d["output"]) if d.get("output") else None
    error = None
    if d.get("error") or d.get("cause"):
        error = ": ".join(x for x in (d.get("error"), (d.get("cause") or "")[:300]) if x)
    return Outcome(
        execution_arn=execution_arn, name=d.get("name", execution_arn.rsplit(":", 1)[-1]),
        status=d["status"], input=json.loads(d.get("input") or "{}"), output=output,
        site_url=find_site_url(output) or site_url, error=error, console_url=_console_url(execution_arn),
    )


def trigger(
    sfn: Any,
    state_machine_arn: str,
    request: RunRequest,
    wait: bool = False,
    poll: float = 5.0,
    timeout: float = 3 * 3600,
    site_url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_status: Callable[[str], None] | None = None,
) -> Outcome:
    """Start an execution with `request` as its input; with `wait`, poll until it ends.

    `sfn` is a boto3 Step Functions client (a moto server's in tests).
    """
    name = execution_name(request)
    started = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=request.to_json())
    arn = started["executionArn"]
    outcome = describe(sfn, arn, site_url)
    if on_status:
        on_status(outcome.status)
    waited = 0.0
    while wait and outcome.status not in TERMINAL:
        if waited >= timeout:
            outcome.error = f"still {outcome.status} after {timeout:.0f} s (stopped following it)"
            break
        sleep(poll)
        waited += poll
        previous = outcome.status
        outcome = describe(sfn, arn, site_url)
        if on_status and outcome.status != previous:
            on_status(outcome.status)
    return outcome


# -- stack outputs --------------------------------------------------------------------------
def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    if not stacks:
        raise ConfigError(f"stack {stack_name}: not found")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def state_machine_from_outputs(outputs: Mapping[str, str], stack_name: str) -> str:
    arns = [v for v in outputs.values() if v.startswith("arn:") and ":states:" in v and ":stateMachine:" in v]
    if len(arns) != 1:
        raise ConfigError(f"stack {stack_name}: expected one state machine ARN in its outputs, "
                          f"found {len(arns)} (pass --state-machine-arn)")
    return arns[0]


def site_url_from_outputs(outputs: Mapping[str, str]) -> str | None:
    for key, value in outputs.items():
        k = key.lower()
        if "site" in k and "url" in k:
            return value
    for key, value in outputs.items():
        if "domain" in key.lower() and value.endswith(".cloudfront.net"):
            return f"https://{value}/"
    return None


# -- CLI ----------------------------------------------------------------------------------------
def register(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "trigger", help="run the pipeline in AWS now (starts the state machine)",
        description="Start the barometer's state machine for a panel and a date, optionally follow it.",
    )
    p.add_argument("--panel", required=True, help="panel id, e.g. pharma-fr")
    p.add_argument("--date", type=iso_date, default=None,
                   help="run date YYYY-MM-DD (default: yesterday in the panel's time zone)")
    p.add_argument("--stages", default="collect,score,publish", help="comma-separated (default: all)")
    p.add_argument("--brands", default=None, help="comma-separated brand ids (default: the whole panel)")
    p.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    p.add_argument("--poll", type=positive_seconds, default=5.0,
                   help="seconds between status checks with --wait")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--state-machine-arn", default=None)
    g.add_argument("--stack", default=DEFAULT_STACK, help=f"CloudFormation stack (default {DEFAULT_STACK})")
    p.add_argument("--region", default=None,
                   help="AWS region (default: the state machine ARN's, else your AWS configuration)")
    p.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # a moto server, in tests
    p.set_defaults(func=run_cli)
    return p


# The extras that hold boto3: `make demo` installs the query extras only.
INSTALL_AWS = "pip install -e '.[aws]'  (or: make setup-dev)"
NO_CREDENTIALS = ("no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`), "
                  "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def checked_request(args: argparse.Namespace, panel: Panel) -> RunRequest:
    """The run request, checked against the panel before anything is sent to AWS: known brands,
    a date between the panel's first date and today in its time zone."""
    from barometer.clock import readable_dates

    request = RunRequest.parse(
        {"panel": panel.id, "date": args.date or yesterday(tz=panel.timezone), "stages": args.stages,
         "brands": args.brands}, source="trigger")
    known = {b.id for b in panel.brands}
    unknown = [b for b in request.brands or [] if b not in known]
    if unknown:
        raise ConfigError(f"trigger: --brands: panel {panel.id} has no brand {unknown[0]!r} "
                          f"(its brands: {', '.join(sorted(known))})")
    refusal = readable_dates(panel, simulated=False).check("--date", request.run_date(tz=panel.timezone))
    if refusal:
        raise ConfigError(f"trigger: {refusal}")
    return request


def _panel(ref: str) -> Panel:
    """The panel named by --panel (an id in panels/, or a YAML file), its id checked first."""
    from barometer.config import resolve_panel

    path = Path(ref)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        RunRequest.parse({"panel": ref}, source="trigger")  # a bad id: one line naming the field
    return resolve_panel(ref)


def run_cli(args: argparse.Namespace, session: Any = None) -> int:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
    except ImportError:
        print(f"barometer: error: trigger needs boto3, which this environment lacks: {INSTALL_AWS}",
              file=sys.stderr)
        return 2
    try:
        request = checked_request(args, _panel(args.panel))
        arn = args.state_machine_arn
        region = args.region or arn_region(arn)
        factory = session or boto3.session.Session(region_name=region)
        if session is None and factory.get_credentials() is None:
            raise ConfigError(f"trigger: {NO_CREDENTIALS}")
        kw = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
        site_url = None
        if not arn:
            outputs = stack_outputs(factory.client("cloudformation", **kw), args.stack)
            arn = state_machine_from_outputs(outputs, args.stack)
            site_url = site_url_from_outputs(outputs)
        outcome = trigger(
            factory.client("stepfunctions", **kw), arn, request, wait=args.wait, poll=args.poll,
            site_url=site_url, on_status=lambda s: print(f"… {s}", file=sys.stderr),
        )
    except BarometerError as e:
        print(f"barometer: error: {e}", file=sys.stderr)
        return e.exit_code
    except NoCredentialsError:
        print(f"barometer: error: trigger: {NO_CREDENTIALS}", file=sys.stderr)
        return 2
    except NoRegionError:
        print("barometer: error: trigger: no AWS region: pass --region (or --state-machine-arn), or set AWS_REGION",
              file=sys.stderr)
        return 2
    except ClientError as e:
        err = e.response.get("Error", {})
        print(f"barometer: error: {err.get('Code', 'AWS')}: {err.get('Message', str(e))}", file=sys.stderr)
        return 1
    except BotoCoreError as e:
        print(f"barometer: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(outcome.lines()))
    if args.wait:
        return 0 if outcome.status == "SUCCEEDED" else 1
    return 0 if outcome.ok else 1
