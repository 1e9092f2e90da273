# Infrastructure targets (included from the main Makefile; PY, VENV, PYTEST and the set-up
# targets come from there). Offline: no AWS account, no credentials, no Docker. The CDK CLI
# comes from npm (package.json, the `node` target); Powertools and aws-cdk-lib from the dev
# and infra extras (.stamp-dev), so each target works on a fresh clone and after `make demo`.

INFRA_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 AWS_EC2_METADATA_DISABLED=true \
	CDK_DISABLE_VERSION_CHECK=1 AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_SESSION_TOKEN= AWS_PROFILE=
CDK := node_modules/.bin/cdk
CDK_OUT := cdk.out
CDK_FLAGS := --no-notices --no-version-reporting --ci --output $(CDK_OUT)

.PHONY: synth layer layer-size cfn-lint nag infra-test

## layer: the Lambda layers, built without Docker: main + collect-only Bluesky (cached on their pins)
# (layers/requirements.txt and layers/requirements-bluesky.txt)
layer: $(VENV)/.stamp-dev
	$(PY) layers/build_layer.py

## layer-size: unzipped sizes as JSON: main layer (<= 150 MB), Bluesky layer, collect total (< 250 MB)
# (collect total: main + Bluesky + the function, Lambda's limit for a function and its layers)
layer-size: layer
	@$(PY) layers/build_layer.py --report

## synth: `npx aws-cdk synth` offline; cdk-nag (AwsSolutions) runs in the app and fails the synth
synth: layer node
	@start=$$(date +%s.%N); \
	$(INFRA_ENV) BAROMETER_SKIP_LAYER_BUILD=1 npx --no-install cdk synth $(CDK_FLAGS) --quiet $(CDK_CONTEXT) \
	&& echo "synth: $(CDK_OUT)/OpinionBarometer.template.json in $$(echo "$$(date +%s.%N) - $$start" | bc) s"

## nag: the synth fails on any unacknowledged AwsSolutions finding; show the report
nag: synth
	@$(PY) -c "import json,sys; r=json.load(open('$(CDK_OUT)/validation-report.json')); \
	v=[x for p in r.get('pluginReports',[]) for x in p.get('violations',[])]; \
	print(f'cdk-nag AwsSolutions: {len(v)} unacknowledged finding(s)'); sys.exit(1 if v else 0)"

## cfn-lint: lint the synthesized template (warnings allowed, errors fail)
cfn-lint: synth
	@$(VENV)/bin/cfn-lint --regions eu-west-3 -- $(CDK_OUT)/OpinionBarometer.template.json; \
	rc=$$?; if [ $$rc -ne 0 ] && [ $$rc -ne 4 ]; then exit $$rc; fi; echo "cfn-lint: no error"

## infra-test: the CDK assertion, cdk-nag, cfn-lint and layer tests
infra-test: layer node
	$(INFRA_ENV) $(PYTEST) tests/infra
