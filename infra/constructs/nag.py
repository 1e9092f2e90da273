"""cdk-nag (v3) acknowledgments: one rule or finding at a time, each with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: tuple[str, ...] = ()) -> None:
    """Acknowledge `rule` on `scope` (and what it contains), or only the given findings of it.

    Findings are cdk-nag's ids inside the brackets, e.g. `Resource::*` for
    `AwsSolutions-IAM5[Resource::*]`. The narrowest scope that holds the finding is the rule.
    """
    ids = [f"{rule}[{f}]" for f in findings] if findings else [rule]
    for rule_id in ids:
        Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def arn_ref(resource: IConstruct, attribute: str = "Arn") -> str:
    """How cdk-nag names `Fn::GetAtt [<logical id>, Arn]` in a finding: `<LogicalId.Arn>`."""
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    assert isinstance(cfn, CfnResource), f"{resource.node.path} has no CloudFormation resource"
    logical_id = Stack.of(cfn).resolve(cfn.logical_id)
    return f"<{logical_id}.{attribute}>"
