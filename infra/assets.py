"""Assets the stack packages: the layer is built (without Docker) before the synth needs it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from infra.config import ROOT, StageConfig


def build_layer_module() -> ModuleType:
    """layers/build_layer.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("barometer_build_layer", ROOT / "layers" / "build_layer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_layer(config: StageConfig) -> Path:
    """Build the layer into config.layer_dir, or refresh it (cached on the requirements' hash)."""
    return build_layer_module().build(config.layer_dir, config.architecture)  # type: ignore[no-any-return]
