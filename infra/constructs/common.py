"""Small helpers the constructs share."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig


def log_group(scope: Construct, id: str, config: StageConfig) -> logs.LogGroup:
    """A log group with the stage's retention, deleted with the stack."""
    return logs.LogGroup(scope, id, retention=logs.RetentionDays[config.log_retention_name],
                         removal_policy=RemovalPolicy.DESTROY)
