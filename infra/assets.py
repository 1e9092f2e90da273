"""Assets the stack packages: the layers are built (without Docker) before the synth needs them."""

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


def bluesky_layer_zip(config: StageConfig) -> Path:
    """The collect-only Bluesky layer's asset, next to the main one (build_layer.bluesky_dir and
    zip_path: build/layer → build/layer-bluesky.zip)."""
    return config.layer_dir.parent / f"{config.layer_dir.name}-bluesky.zip"


def ensure_layer(config: StageConfig) -> Path:
    """Build the main layer into config.layer_dir and the Bluesky layer next to it, or refresh
    them (each cached on its requirements' hash); returns the main layer's folder."""
    return build_layer_module().build(config.layer_dir, config.architecture)  # type: ignore[no-any-return]
