"""Whole-template checks: cdk-nag's AwsSolutions pack, cfn-lint, offline account-agnostic synth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cdk_nag import AwsSolutionsChecks


def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(synth) -> None:  # type: ignore[no-untyped-def]
    report = AwsSolutionsChecks(verbose=True).validate_scope(synth.app)
    findings = [f"{v.rule_name} at {r.construct_path}" for v in report.violations
                for r in v.violating_resources]
    assert report.success, "\n".join(findings)


def test_every_acknowledgment_has_a_reason(synth) -> None:  # type: ignore[no-untyped-def]
    from aws_cdk import Validations

    acks = {}
    for c in synth.stack.node.find_all():
        for m in c.node.metadata:
            if m.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acks.update(m.data)
    assert acks, "some rules are acknowledged"
    assert all(isinstance(r, str) and len(r) > 30 for r in acks.values()), acks


def test_cfn_lint_has_no_error(synth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "OpinionBarometer.template.json"
    path.write_text(json.dumps(synth.json))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    cmd = [str(cfn_lint), "--format", "json", "--regions", synth.config.region, "--", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 4), proc.stderr  # 4: warnings only
    errors = [m for m in json.loads(proc.stdout or "[]") if m["Level"] == "Error"]
    assert errors == [], errors


def test_template_is_account_agnostic(synth) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(synth.json)
    assert synth.stack.account.startswith("${Token[")  # no account baked in, nothing looked up
    assert "cdk:lookup" not in text
    assert synth.stack.region == "eu-west-3"


def test_cdk_nag_catches_an_unacknowledged_finding() -> None:
    """The check above is not vacuous: a bare bucket in a fresh app is reported."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    app = cdk.App()
    s3.Bucket(cdk.Stack(app, "Bare"), "Bucket")
    report = AwsSolutionsChecks().validate_scope(app)
    assert not report.success
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= {v.rule_name for v in report.violations}
