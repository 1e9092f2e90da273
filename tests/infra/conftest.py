"""One synthesized stack per test session (jsii start-up and synth cost seconds)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT, ROOT / "layers"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")

STAGES = ("collect", "score", "publish")


@dataclass
class Synth:
    app: Any
    stack: Any
    template: Any  # aws_cdk.assertions.Template
    json: dict[str, Any]
    config: Any
    outdir: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}


def functions_dir(tmp: Path) -> Path:
    """The real functions/ when the handlers are there; else placeholders in a temp dir
    (never in the repository)."""
    real = ROOT / "functions"
    if all((real / s / "handler.py").is_file() for s in STAGES):
        return real
    for s in STAGES:
        (tmp / s).mkdir(parents=True, exist_ok=True)
        (tmp / s / "handler.py").write_text("def handler(event, context):\n    return event\n")
    return tmp


@pytest.fixture(scope="session")
def layer_dir() -> Path:
    from infra.assets import build_layer_module

    return build_layer_module().build(ROOT / "build" / "layer", "arm64")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def synth(layer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    from infra.config import cdk_json_context

    ctx = cdk_json_context()
    ctx["barometer.functions_dir"] = str(functions_dir(tmp_path_factory.mktemp("functions")))
    ctx["barometer.layer_dir"] = str(layer_dir)
    app, stack = build_app(cdk.App(context=ctx, outdir=str(outdir)), nag=False)
    template = Template.from_stack(stack)
    return Synth(app=app, stack=stack, template=template, json=dict(template.to_json()), config=stack.config,
                 outdir=outdir)
