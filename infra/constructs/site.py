"""The site: a private bucket behind CloudFront (origin access control, security headers, folder URLs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.nag import acknowledge

# The site is static, self-contained HTML/CSS (inline SVG charts, no external requests).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS_MAX_AGE = Duration.days(730)  # two years
# Folder URLs (`/en/` → `en/index.html`, `/en` → 301 `/en/`): S3 behind OAC has no folder index.
VIEWER_REQUEST_FUNCTION = Path(__file__).with_name("site_viewer_request.js")


class Site(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "SiteBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/site/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            # CloudFront policies are account-wide: the name carries the environment and region
            response_headers_policy_name=f"{config.global_prefix}-security-headers",
            comment="Opinion Barometer: CSP, HSTS, nosniff, frame denial, referrer policy",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, preload=False,
                    override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True),
            ),
        )
        self.viewer_request = cloudfront.Function(
            self,
            "ViewerRequest",
            function_name=f"{config.global_prefix}-viewer-request",
            comment="Opinion Barometer: folder URLs to their index.html (301 to add a missing /)",
            code=cloudfront.FunctionCode.from_file(file_path=str(VIEWER_REQUEST_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Opinion Barometer site ({config.env_name})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_control=cloudfront.S3OriginAccessControl(
                        self, "OriginAccess", origin_access_control_name=f"{config.global_prefix}-site")),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=[cloudfront.FunctionAssociation(
                    function=self.viewer_request, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)],
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            **self._domain(config),
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        host = config.site_domain or self.distribution.distribution_domain_name
        self.url = f"https://{host}/"
        self.distribution_arn = (
            f"arn:{Aws.PARTITION}:cloudfront::{Aws.ACCOUNT_ID}:distribution/{self.distribution.distribution_id}"
        )
        acknowledge(self.distribution, "AwsSolutions-CFR1",
                    "A public leaderboard: no country is excluded on purpose.")
        acknowledge(self.distribution, "AwsSolutions-CFR2",
                    "A static, read-only site (GET/HEAD only, no forms, no origin compute): a WAF web "
                    "ACL would cost more than the site and protect nothing it serves.")
        if not config.site_domain:
            acknowledge(self.distribution, "AwsSolutions-CFR4",
                        "No custom domain configured: the default *.cloudfront.net certificate's "
                        "security policy is fixed by CloudFront (TLSv1). Set site_domain and "
                        "site_certificate_arn to get the TLS_V1_2_2021 minimum.")

    def _domain(self, config: StageConfig) -> dict[str, Any]:
        """Custom domain, certificate and TLS 1.2 minimum, when the stage has a domain."""
        if not (config.site_domain and config.site_certificate_arn):
            return {}
        return {
            "domain_names": [config.site_domain],
            "certificate": acm.Certificate.from_certificate_arn(self, "Certificate",
                                                                config.site_certificate_arn),
            "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        }

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """What the publish function needs: write the site, invalidate this distribution only."""
        self.bucket.grant_read_write(grantee)
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
            resources=[self.distribution_arn],
        ))
