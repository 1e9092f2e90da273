"""The state machine that ships, executed: the synthesized ASL run by an independent ASL
interpreter (aws-local-stepfunctions, from npm), each Lambda task bridged to the real Python
handler (S3, Secrets Manager and SNS on a moto server, X on the simulator), the SNS task to
moto's SNS. What moto's Step Functions cannot do: it never executes a task.

The first test is the one the product depends on: the schedule's exact input (no date: the
functions take yesterday, Europe/Paris) → collect → score → publish → the site in the bucket.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _moto import (
    CREDENTIALS,
    REGION,
    REPO,
    FakeContext,
    client,
    create_bucket,
    handler_env,
    keys,
    load_handler,
    moto_server,
    synthesized_template,
)

from barometer.aws.runtime import X_TOKEN_PLACEHOLDER
from barometer.lake.store import Lake, S3Options

pytest.importorskip("aws_cdk")
time_machine = pytest.importorskip("time_machine")

HARNESS = REPO / "tests" / "integration" / "asl_run.mjs"
PANEL = "pharma-fr"
DT = date(2018, 4, 30)
TOKEN = "sim-bearer-5e2b9c41d7a8"
DATA, SITE = "sfn-data", "sfn-site"
STAGES = ("collect", "score", "publish")
ARNS = {s: f"arn:aws:lambda:{REGION}:123456789012:function:opinion-barometer-prod-{s}" for s in STAGES}
# A morning after the demo date in Paris: "yesterday" for the functions is DT.
MORNING_AFTER = datetime(2018, 5, 1, 6, 30, tzinfo=ZoneInfo("Europe/Paris"))

pytestmark = pytest.mark.xdist_group("state-machine")


class Bridge:
    """An HTTP endpoint the interpreter's Task overrides call: runs a handler, or publishes to
    SNS. `faults[state]` lists error types to answer, one per call, before the real work."""

    def __init__(self, sns: Any) -> None:
        self.sns = sns
        self.handlers: dict[str, Any] = {}
        self.contexts: dict[str, Callable[[], FakeContext]] = {}
        self.faults: dict[str, list[str]] = {}
        self.after: dict[str, Callable[[dict[str, Any]], None]] = {}  # state → hook on its answer
        self.calls: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        out = self._answer(body)
        self.answers.append({"state": body["state"], **out})
        if body["state"] in self.after:
            self.after[body["state"]](out)
        return out

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(body)
            fault = self.faults.get(body["state"], [])
            if fault:
                kind = fault.pop(0)
                return {"errorType": kind, "errorMessage": f"{kind} (injected by the bridge)"}
        resource, task_input = body["resource"], body["input"]
        if resource == "arn:aws:states:::sns:publish":
            message = task_input["Message"]
            self.sns.publish(TopicArn=task_input["TopicArn"], Subject=task_input.get("Subject", ""),
                             Message=message if isinstance(message, str) else json.dumps(message))
            return {"result": {}}
        stage = next(s for s, arn in ARNS.items() if resource == arn)
        context = self.contexts.get(stage, lambda: FakeContext(stage))()
        try:
            return {"result": self.handlers[stage].handler(task_input, context)}
        except Exception as e:  # as Lambda reports a function error: its type and message
            return {"errorType": type(e).__name__, "errorMessage": str(e)}

    def inputs(self, state: str) -> list[dict[str, Any]]:
        return [c["input"] for c in self.calls if c["state"] == state]


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    from barometer.clock import run_clock
    from barometer.config import resolve_panel
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    template = synthesized_template()
    mp = pytest.MonkeyPatch()
    with moto_server() as aws, SimServer(build_world(resolve_panel(PANEL)), bearer_token=TOKEN,
                                         now=run_clock(DT)) as sim:
        s3, sns, sqs = client("s3", aws), client("sns", aws), client("sqs", aws)
        create_bucket(s3, DATA, versioned=True)
        create_bucket(s3, SITE, versioned=True)
        s3.put_object(Bucket=DATA, Key=f"panels/{PANEL}.yaml",
                      Body=(REPO / "panels" / f"{PANEL}.yaml").read_bytes())
        secrets = client("secretsmanager", aws)
        token_arn = secrets.create_secret(Name="x-token", SecretString=TOKEN)["ARN"]
        placeholder_arn = secrets.create_secret(Name="x-token-unset", SecretString=X_TOKEN_PLACEHOLDER)["ARN"]
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

        from infra.state_machine import definition_json
        definition = definition_json(template, function_arns=ARNS, topic_arn=topic)

        env = handler_env(aws, LAKE_URI=f"s3://{DATA}", SITE_BUCKET=SITE, SITE_URL="https://d1.cloudfront.net/",
                          X_TOKEN_SECRET_ARN=token_arn, X_API_BASE_URL=sim.url, SIMULATED="true")
        for k, v in {**CREDENTIALS, **env}.items():
            mp.setenv(k, v)
        bridge = Bridge(sns)
        bridge.handlers = {s: load_handler(s) for s in STAGES}
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(bridge))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield {"aws": aws, "s3": s3, "sqs": sqs, "queue": queue, "bridge": bridge, "template": template,
                   "definition": definition, "url": f"http://127.0.0.1:{server.server_port}/",
                   "placeholder_arn": placeholder_arn, "handlers": dict(bridge.handlers), "sim": sim}
        finally:
            server.shutdown()
            mp.undo()


def _handler_class(bridge: Bridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            out = json.dumps(bridge.answer(body), default=str).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def bridge(world: dict[str, Any]) -> Iterator[Bridge]:
    b: Bridge = world["bridge"]
    b.calls.clear()
    b.answers.clear()
    b.after.clear()
    b.faults.clear()
    b.contexts.clear()
    b.handlers = dict(world["handlers"])
    _drain(world)
    yield b


@pytest.fixture
def collected(world: dict[str, Any]) -> None:
    """DT collected, scored and published once (the first test does it through the state
    machine; run alone, a test gets it from the handlers directly)."""
    if _lake(world).read("scores", PANEL, DT, DT).num_rows:
        return
    event = {"panel": PANEL, "date": DT.isoformat(), "stages": list(STAGES)}
    for stage in STAGES:
        assert world["handlers"][stage].handler(event, FakeContext(stage))["status"] == "ok"


def execute(world: dict[str, Any], run_input: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Run the definition on `run_input` in the interpreter; its result line as a dict."""
    definition, given = tmp_path / "definition.json", tmp_path / "input.json"
    definition.write_text(world["definition"], encoding="utf-8")
    given.write_text(json.dumps(run_input), encoding="utf-8")
    done = subprocess.run(["node", str(HARNESS), str(definition), str(given), world["url"]],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _drain(world: dict[str, Any]) -> list[dict[str, Any]]:
    """The SNS notifications delivered to the test queue since the last call."""
    out = []
    while True:
        got = world["sqs"].receive_message(QueueUrl=world["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return out
        for m in messages:
            out.append(json.loads(m["Body"]))
            world["sqs"].delete_message(QueueUrl=world["queue"], ReceiptHandle=m["ReceiptHandle"])


def schedule_input(template: dict[str, Any], panel: str) -> dict[str, Any]:
    """The input of the panel's EventBridge schedule, exactly as the template holds it."""
    schedules = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    inputs = [json.loads(p["Target"]["Input"]) for p in schedules]
    return next(i for i in inputs if i["panel"] == panel)


def _lake(world: dict[str, Any]) -> Lake:
    return Lake(f"s3://{DATA}", s3=S3Options(endpoint_url=world["aws"], region=REGION,
                                            access_key="testing", secret_key="testing"))


# -- the scheduled run ------------------------------------------------------------------------
def test_the_schedule_input_runs_collect_score_publish(world: dict[str, Any], bridge: Bridge,
                                                        tmp_path: Path) -> None:
    scheduled = schedule_input(world["template"], PANEL)
    assert scheduled == {"panel": PANEL, "stages": list(STAGES)}  # no date: yesterday, in Paris

    with time_machine.travel(MORNING_AFTER, tick=True):
        out = execute(world, scheduled, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    assert [s for s in out["states"] if s in ("Collect", "Score", "Publish")] == ["Collect", "Score", "Publish"]
    # each function got the request as an object, not "$"
    for state in ("Collect", "Score", "Publish"):
        (received,) = bridge.inputs(state)
        assert isinstance(received, dict) and received["panel"] == PANEL
        assert received["stages"] == list(STAGES)
    assert "date" not in bridge.inputs("Collect")[0]  # collect resolved yesterday itself...
    assert bridge.inputs("Score")[0]["date"] == DT.isoformat()  # ...and pinned it for the others
    results = out["output"]["results"]
    assert {s: results[s]["status"] for s in STAGES} == {"collect": "ok", "score": "ok", "publish": "ok"}
    assert {results[s]["dt"] for s in STAGES} == {DT.isoformat()}
    assert results["collect"]["brands_ok"] == 7

    site = keys(world["s3"], SITE)
    assert {"index.html", "en/index.html", "marques/sanofi/index.html"} <= set(site)
    lake = _lake(world)
    assert sorted(r["rank"] for r in lake.read("scores", PANEL, DT, DT).to_pylist()) == list(range(1, 8))
    runs = lake.read("runs", PANEL, DT, DT).to_pylist()
    assert sorted(r["stage"] for r in runs) == sorted(STAGES)
    assert _drain(world) == []  # a good run notifies no one


def test_a_partial_collect_still_scores_and_publishes(world: dict[str, Any], collected: None,
                                                       bridge: Bridge, tmp_path: Path) -> None:
    # collect's invocation ends at once (no time left): it checkpoints and returns partial
    bridge.contexts["collect"] = lambda: FakeContext("collect", remaining_ms=0)
    out = execute(world, {"panel": PANEL, "date": DT.isoformat()}, tmp_path)

    results = out["output"]["results"] if out["status"] == "SUCCEEDED" else {}
    assert out["status"] == "SUCCEEDED", out
    assert results["collect"]["status"] == "partial"
    assert [s for s in out["states"] if s in ("Collect", "Score", "Publish")] == ["Collect", "Score", "Publish"]
    assert results["score"]["status"] == "ok" and results["publish"]["status"] == "ok"


# -- failures ---------------------------------------------------------------------------------
def test_a_stage_that_raises_notifies_and_fails_the_execution(world: dict[str, Any], bridge: Bridge,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # as deployed before anyone set the token: the secret holds the stack's placeholder
    monkeypatch.setenv("X_TOKEN_SECRET_ARN", world["placeholder_arn"])
    bridge.handlers["collect"] = load_handler("collect")
    run_input = {"panel": PANEL, "date": DT.isoformat(), "stages": ["collect", "score"]}
    out = execute(world, run_input, tmp_path)

    assert out["status"] == "FAILED" and out["error"] == "StageFailed", out
    assert out["states"][-3:] == ["Collect", "Notify failure", "Run failed"]
    assert bridge.inputs("Score") == []
    (note,) = _drain(world)
    assert note["Subject"] == "Opinion Barometer run failed"
    message = json.loads(note["Message"])
    assert message["input"] == run_input
    assert message["execution"].startswith("arn:aws:states:")
    assert message["state"]["error"]["Error"] == "ConfigError"
    assert "put-secret-value" in message["state"]["error"]["Cause"]  # says how to set it


def test_a_throttled_function_is_retried(world: dict[str, Any], collected: None, bridge: Bridge,
                                         tmp_path: Path) -> None:
    bridge.faults["Score"] = ["Lambda.TooManyRequestsException"] * 2
    out = execute(world, {"panel": PANEL, "date": DT.isoformat(), "stages": ["score"]}, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    assert len([c for c in bridge.calls if c["state"] == "Score"]) == 3
    assert out["output"]["results"]["score"]["status"] == "ok"
    assert _drain(world) == []


def test_throttling_past_the_retries_notifies(world: dict[str, Any], collected: None, bridge: Bridge,
                                              tmp_path: Path) -> None:
    bridge.faults["Score"] = ["Lambda.TooManyRequestsException"] * 10
    out = execute(world, {"panel": PANEL, "date": DT.isoformat(), "stages": ["score"]}, tmp_path)

    assert out["status"] == "FAILED", out
    assert len([c for c in bridge.calls if c["state"] == "Score"]) == 6  # 1 + MaxAttempts 5
    (note,) = _drain(world)
    assert json.loads(note["Message"])["state"]["error"]["Error"] == "Lambda.TooManyRequestsException"


def test_a_run_waits_for_the_panels_lease(world: dict[str, Any], collected: None, bridge: Bridge,
                                          tmp_path: Path) -> None:
    """Another execution holds the panel (a trigger during the scheduled run): the stage's
    function refuses at once (LeaseBusy, naming the holder), the state machine retries it, and it
    runs once the other run has released the panel."""
    from barometer.lake.lease import hold

    other = hold(_lake(world), PANEL, owner="pharma-fr-2018-05-01-score-other", ttl=600,
                 s3_client=client("s3", world["aws"]), heartbeat=False)
    other.__enter__()
    bridge.after["Score"] = lambda answer: other.__exit__(None, None, None) if "errorType" in answer else None
    out = execute(world, {"panel": PANEL, "date": DT.isoformat(), "stages": ["score"]}, tmp_path)

    first, second = [a for a in bridge.answers if a["state"] == "Score"]
    assert first["errorType"] == "LeaseBusy" and "pharma-fr-2018-05-01-score-other" in first["errorMessage"]
    assert second["result"]["status"] == "ok"
    assert out["status"] == "SUCCEEDED", out
    assert _drain(world) == []


@pytest.mark.parametrize("bad", [
    {"panel": PANEL, "stages": "collect,score"},
    {"panel": PANEL, "stages": []},
    {"panel": PANEL, "stages": [3]},
    {"panel": PANEL, "brands": "sanofi"},
    {"panel": PANEL, "date": 20180430},
    {"stages": ["collect"]},
    {"panel": 7},
])
def test_bad_input_is_refused_with_a_notification(world: dict[str, Any], bridge: Bridge, tmp_path: Path,
                                                  bad: dict[str, Any]) -> None:
    out = execute(world, bad, tmp_path)

    assert out["status"] == "FAILED" and out["error"] == "BadInput", out
    assert not [c for c in bridge.calls if c["resource"].startswith("arn:aws:lambda:")]
    (note,) = _drain(world)
    assert note["Subject"] == "Opinion Barometer run refused: bad input"
    assert json.loads(note["Message"])["input"] == bad


# -- what `barometer trigger` sends, as the README documents it ----------------------------------
@pytest.mark.parametrize(("argv", "stages", "brands"), [
    ([], list(STAGES), 7),
    (["--date", DT.isoformat()], list(STAGES), 7),
    (["--date", DT.isoformat(), "--stages", "score,publish"], ["score", "publish"], None),
    (["--date", DT.isoformat(), "--stages", "collect", "--brands", "sanofi,msd-france"], ["collect"], 2),
])
def test_trigger_inputs_reach_the_handlers(world: dict[str, Any], bridge: Bridge, tmp_path: Path,
                                           argv: list[str], stages: list[str], brands: int | None) -> None:
    with time_machine.travel(MORNING_AFTER, tick=True):  # the CLI's "yesterday" is DT
        sent = _trigger_input(world, argv)
        out = execute(world, sent, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    invoked = [s.lower() for s in out["states"] if s in ("Collect", "Score", "Publish")]
    assert invoked == stages
    for stage in stages:
        (received,) = bridge.inputs(stage.capitalize())
        for key, value in sent.items():  # what the CLI sent, as sent (later stages: date pinned)
            assert received[key] == value, (stage, key)
        assert out["output"]["results"][stage]["dt"] == DT.isoformat()
    if brands is not None and "collect" in stages:
        assert out["output"]["results"]["collect"]["brands_ok"] == brands


def _trigger_input(world: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """Run `barometer trigger` against Step Functions on the moto server (the state machine
    created from the same definition); the execution's input as Step Functions recorded it."""
    import argparse

    from barometer.aws.trigger import register

    sfn = client("stepfunctions", world["aws"])
    arn = sfn.create_state_machine(name=f"sm-{len(argv)}-{abs(hash(tuple(argv))) % 10_000}",
                                   definition=world["definition"],
                                   roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    parser = argparse.ArgumentParser(prog="barometer")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["trigger", "--panel", PANEL, *argv, "--state-machine-arn", arn,
                              "--endpoint-url", world["aws"], "--region", REGION])
    assert args.func(args) == 0
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    sfn.stop_execution(executionArn=execution["executionArn"])  # moto's own would never end
    return dict(json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]))
