"""Small helpers the constructs share."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig


def log_group(scope: Construct, id: str, config: StageConfig, name: str | None = None) -> logs.LogGroup:
    """A log group with the stage's retention, deleted with the stack.

    `name` fixes its name, so the README's `aws logs tail <name>` works as written (a
    function's own group is `/aws/lambda/<function name>`; a state machine's goes under
    `/aws/vendedlogs/`, where its log delivery's resource policy stays small)."""
    return logs.LogGroup(scope, id, log_group_name=name,
                         retention=logs.RetentionDays[config.log_retention_name],
                         removal_policy=RemovalPolicy.DESTROY)
