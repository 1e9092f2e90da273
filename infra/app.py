"""CDK app: `npx aws-cdk synth` (see mk/infra.mk). One stack, `OpinionBarometer`.

Offline and account-agnostic: no lookups, no STS call; the stage configuration comes from
cdk.json context (`barometer`). The dependency layer is built first if it is missing or stale.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, infra/ is first on sys.path, where infra/constructs/ would shadow the
# `constructs` library: take it off, and put the repository root and layers/ on instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "infra"]
for p in (ROOT, ROOT / "layers"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.assets import ensure_layer  # noqa: E402
from infra.config import ConfigError, StageConfig  # noqa: E402
from infra.stack import OpinionBarometerStack  # noqa: E402
from infra.state_machine import write_definition  # noqa: E402


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, OpinionBarometerStack]:
    app = app or cdk.App()
    config = StageConfig.from_context(app.node.try_get_context)
    stack = OpinionBarometerStack(
        app, config.stack_name, config=config,
        env=cdk.Environment(account=config.account, region=config.region),
    )
    if nag:
        pack = AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
        cdk.Validations.of(app).add_plugins(pack)
    return app, stack


def main() -> int:
    try:
        app = cdk.App()
        config = StageConfig.from_context(app.node.try_get_context)
        if not os.environ.get("BAROMETER_SKIP_LAYER_BUILD"):
            ensure_layer(config)
        app, stack = build_app(app)
        assembly = app.synth()
    except (ConfigError, FileNotFoundError) as e:
        print(f"synth: {e}", file=sys.stderr)
        return 2
    # The state machine as it ships, for the ASL interpreter's execution tests.
    write_definition(assembly.get_stack_artifact(stack.artifact_id).template,
                     Path(assembly.directory) / f"{stack.stack_name}.asl.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
