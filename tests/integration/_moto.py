"""A moto server on 127.0.0.1 (pyarrow's native S3 client needs a real endpoint), AWS settings
for the handlers, a fake Lambda context, and the handlers loaded from functions/ like Lambda does."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import requests

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-3"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing"}


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free port; yields its URL. Its state is reset when it stops."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        requests.post(f"{url}/moto-api/reset", timeout=10)
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION,
    ).client(service, endpoint_url=endpoint)


def create_bucket(s3: Any, name: str, versioned: bool = False) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def handler_env(endpoint: str, **settings: str) -> dict[str, str]:
    """The environment the stack gives the functions, pointed at the moto server."""
    return {
        **CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "opinion-barometer",
        "POWERTOOLS_METRICS_NAMESPACE": "OpinionBarometer",
        "LOG_LEVEL": "INFO",
        **settings,
    }


def load_handler(stage: str) -> ModuleType:
    """functions/<stage>/handler.py as a fresh module (its settings parsed from the current env)."""
    path = REPO / "functions" / stage / "handler.py"
    name = f"handler_{stage}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    # Powertools keeps one stdlib logger per service across imports: point it at this test's stdout.
    for h in logging.getLogger(module.logger.name).handlers:
        if isinstance(h, logging.StreamHandler):
            h.stream = sys.stdout  # not setStream: it flushes the old, maybe closed, stream
    return module


class FakeContext:
    """What a handler reads from Lambda's context object."""

    def __init__(self, stage: str, remaining_ms: int = 900_000) -> None:
        self.function_name = f"OpinionBarometer-{stage}"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "test"
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def synthesized_template() -> dict[str, Any]:
    """The synthesized CDK template of the default (prod) stack.

    `make synth` writes it to cdk.out/OpinionBarometer.template.json: used when newer than the
    infra sources; otherwise the app is synthesized in-process (about 40 s).
    """
    written = REPO / "cdk.out" / "OpinionBarometer.template.json"
    sources = [*REPO.glob("infra/**/*.py"), *REPO.glob("infra/**/*.js"), REPO / "cdk.json"]
    if written.exists() and written.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return dict(json.loads(written.read_text(encoding="utf-8")))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from infra.app import build_app

    app, stack = build_app(nag=False)
    return dict(app.synth().get_stack_by_name(stack.stack_name).template)


def synthesized_definition() -> str:
    """The state machine's ASL from the synthesized CDK template (infra/state_machine.py renders
    its references to well-formed ARNs), as `cdk synth` writes it to cdk.out/OpinionBarometer.asl.json."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from infra.state_machine import definition_json

    return definition_json(synthesized_template())
