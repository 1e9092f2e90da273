"""The access-log bucket shared by the data bucket, the site bucket and CloudFront."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge


class AccessLogs(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # CloudFront log delivery cannot use KMS
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logging writes with ACLs: the owner must be able to own them.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365),
                                              abort_incomplete_multipart_upload_after=Duration.days(7))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(self.bucket, "AwsSolutions-S1",
                    "This is the access-log bucket itself; logging it into itself would loop.")
