"""The state machine's definition (ASL) out of a synthesized template, ready for a moto server.

CloudFormation holds the definition as an `Fn::Join` with references to the functions and the
alerts topic. `definition_json(template)` renders it to plain JSON, replacing each reference
with a fake but well-formed ARN (or the ARN you pass for that stage), so a test can
`create_state_machine(definition=...)` on moto and start executions with the same input the
schedules and `barometer trigger` send. `cdk synth` also writes it to cdk.out/OpinionBarometer.asl.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FAKE_ACCOUNT = "123456789012"
FAKE_REGION = "eu-west-3"
_STAGES = ("collect", "score", "publish")


def _state_machine(template: Mapping[str, Any]) -> dict[str, Any]:
    machines = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    if len(machines) != 1:
        raise ValueError(f"expected one state machine in the template, found {len(machines)}")
    return dict(machines[0])


def _stage_of(resource: Mapping[str, Any]) -> str | None:
    desc = str(resource.get("Properties", {}).get("Description", ""))
    return next((s for s in _STAGES if desc.endswith(f"{s} stage")), None)


def definition_json(template: Mapping[str, Any], function_arns: Mapping[str, str] | None = None,
                    topic_arn: str | None = None, region: str = FAKE_REGION,
                    account: str = FAKE_ACCOUNT) -> str:
    """The ASL of the template's state machine, its references replaced by ARNs.

    `function_arns` maps a stage (collect, score, publish) to the ARN to use for its function;
    other functions get `arn:aws:lambda:<region>:<account>:function:<LogicalId>`.
    """
    resources = template["Resources"]
    arns = dict(function_arns or {})

    def arn_of(logical_id: str) -> str:
        res = resources.get(logical_id, {})
        kind = res.get("Type", "")
        if kind == "AWS::Lambda::Function":
            stage = _stage_of(res)
            return arns.get(stage or "", f"arn:aws:lambda:{region}:{account}:function:{logical_id}")
        if kind == "AWS::SNS::Topic":
            return topic_arn or f"arn:aws:sns:{region}:{account}:{logical_id}"
        return f"arn:aws:cloudformation:{region}:{account}:resource/{logical_id}"

    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account,
              "AWS::URLSuffix": "amazonaws.com"}

    def render(node: Any) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return str(sep).join(render(p) for p in parts)
        if isinstance(node, dict) and "Ref" in node:
            return pseudo.get(node["Ref"]) or arn_of(node["Ref"])
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            return arn_of(node["Fn::GetAtt"][0])
        raise ValueError(f"cannot render {node!r} in the state machine definition")

    definition = render(_state_machine(template)["Properties"]["DefinitionString"])
    return json.dumps(json.loads(definition), indent=2)


def write_definition(template: Mapping[str, Any], path: Path) -> Path:
    path.write_text(definition_json(template) + "\n", encoding="utf-8")
    return path
