"""Site construct: private bucket, CloudFront with OAC and security headers."""

from __future__ import annotations

from aws_cdk.assertions import Capture, Match


def test_distribution_uses_origin_access_control(synth) -> None:  # type: ignore[no-untyped-def]
    oac = Capture()
    synth.template.has_resource_properties("AWS::CloudFront::Distribution", {
        "DistributionConfig": Match.object_like({
            "DefaultRootObject": "index.html",
            "Enabled": True,
            "HttpVersion": "http2and3",
            "Logging": Match.object_like({"Prefix": "cloudfront/"}),
            "Origins": [Match.object_like({"OriginAccessControlId": oac,
                                           "S3OriginConfig": {"OriginAccessIdentity": ""}})],
            "DefaultCacheBehavior": Match.object_like({
                "ViewerProtocolPolicy": "redirect-to-https",
                "AllowedMethods": ["GET", "HEAD"],
                "ResponseHeadersPolicyId": Match.any_value(),
            }),
        }),
    })
    assert "Fn::GetAtt" in oac.as_object()
    synth.template.has_resource_properties("AWS::CloudFront::OriginAccessControl", {
        "OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3",
                                                         "SigningBehavior": "always"})})


def test_site_bucket_policy_allows_only_this_distribution(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": Match.object_like({"Statement": Match.array_with([Match.object_like({
            "Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Condition": {"StringEquals": {"AWS:SourceArn": Match.any_value()}},
        })])})})


def test_security_headers(synth) -> None:  # type: ignore[no-untyped-def]
    csp = Capture()
    synth.template.has_resource_properties("AWS::CloudFront::ResponseHeadersPolicy", {
        "ResponseHeadersPolicyConfig": Match.object_like({
            "SecurityHeadersConfig": {
                "ContentSecurityPolicy": {"ContentSecurityPolicy": csp, "Override": True},
                "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                            "Override": True, "Preload": False},
                "ContentTypeOptions": {"Override": True},
                "FrameOptions": {"FrameOption": "DENY", "Override": True},
                "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
            },
        }),
    })
    directives = [d.strip() for d in csp.as_string().split(";")]
    assert directives[0] == "default-src 'self'"
    assert "img-src 'self' data:" in directives and "frame-ancestors 'none'" in directives
    assert not any("http" in d for d in directives), "no external origin"


def test_publish_may_invalidate_this_distribution_only(synth) -> None:  # type: ignore[no-untyped-def]
    resource = Capture()
    synth.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
            "Resource": resource})])}})
    parts = resource.as_object()["Fn::Join"][1]
    assert any(isinstance(p, str) and p.endswith(":distribution/") for p in parts)
    assert any(isinstance(p, dict) and "Ref" in p for p in parts)
