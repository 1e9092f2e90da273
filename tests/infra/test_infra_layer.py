"""The dependency layers (main, and collect-only Bluesky): built without Docker, trimmed, cached,
under the project's target and Lambda's size limit."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from infra.assets import bluesky_layer_zip, build_layer_module

LAMBDA_LIMIT = 250 * 2**20
TARGET = 150 * 2**20


def test_layer_plus_largest_function_under_limit(layer_dir: Path) -> None:
    """The main layer stays under the project's target, and the collect function as deployed
    (main layer + Bluesky layer + its code) under Lambda's limit."""
    bl = build_layer_module()
    report = bl.report(layer_dir)
    print(f"\nlayer: {report}")
    main, bluesky = bl.dir_size(layer_dir / "python"), bl.dir_size(bl.bluesky_dir(layer_dir) / "python")
    collect = main + bluesky + bl.function_sizes()["collect"]
    assert main <= TARGET, report
    assert 0 < bluesky < main
    assert collect < LAMBDA_LIMIT, report
    assert report["collect_total_unzipped_mb"] == round(collect / 2**20, 1)
    assert report["total_unzipped_mb"] * 2**20 < LAMBDA_LIMIT
    with zipfile.ZipFile(bl.zip_path(layer_dir)) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
        names = set(zf.namelist())
    assert abs(unzipped - main) < 2**20  # the zip is the folder
    assert "python/barometer/lake/schemas.py" in names
    assert "python/barometer/data/panels/pharma-fr.yaml" in names
    assert any(n.startswith("python/pyarrow/libarrow.so.") for n in names)
    assert not any(n.startswith(("python/atproto", "python/cryptography/")) for n in names)


def test_bluesky_layer_holds_the_sdk_and_nothing_the_main_layer_has(layer_dir: Path) -> None:
    bl = build_layer_module()
    bdir = bl.bluesky_dir(layer_dir)
    site, main_site = bdir / "python", layer_dir / "python"
    with zipfile.ZipFile(bl.zip_path(bdir)) as zf:
        names = set(zf.namelist())
        assert abs(sum(i.file_size for i in zf.infolist()) - bl.dir_size(site)) < 2**20
    assert "python/atproto/__init__.py" in names and "python/atproto_client/__init__.py" in names
    assert any(n.startswith("python/cryptography/") for n in names)
    assert any(n.startswith("python/libipld/") and ".cpython-312-aarch64-linux-gnu.so" in n for n in names)
    for absent in ("pyarrow", "numpy", "pydantic", "pydantic_core", "typing_extensions.py", "barometer",
                   "boto3", "botocore", "bin"):
        assert not (site / absent).exists(), absent
    shared = {p.name for p in site.iterdir()} & {p.name for p in main_site.iterdir()} - {"__pycache__"}
    assert not shared  # one copy of each package across both layers
    assert not list(site.rglob("*.pyi")) and not list(site.rglob("tests"))  # the same trim rules
    # `from atproto import Client` (the collector's first Bluesky call) loads bytecode, unchecked
    for rel in ("atproto/__init__.py", "atproto_client/client/client.py", "cryptography/__init__.py"):
        src = site / rel
        pyc = src.parent / "__pycache__" / f"{src.stem}.cpython-312.pyc"
        assert pyc.is_file(), rel
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01, rel


def test_cold_starts_do_not_import_the_bluesky_sdk() -> None:
    """The handlers' imports and first loads (traced as the layer build does) need no atproto:
    the collector imports it lazily, when a panel has Bluesky accounts."""
    modules = build_layer_module().cold_modules()
    assert "barometer.collect.networks" in modules or "barometer.collect" in modules
    assert not [m for m in modules if m.split(".")[0].startswith("atproto")]


def test_only_collect_gets_the_bluesky_layer(synth) -> None:  # type: ignore[no-untyped-def]
    bl = build_layer_module()
    layer_dir = synth.config.layer_dir
    assert bluesky_layer_zip(synth.config) == bl.zip_path(bl.bluesky_dir(layer_dir))  # the asset
    deps = {"Ref": Match.string_like_regexp("DepsLayer")}
    bluesky = {"Ref": Match.string_like_regexp("BlueskyLayer")}
    assert len([k for k in synth.resources("AWS::Lambda::LayerVersion") if k.startswith("Pipeline")]) == 2
    # both layers, in the order the CDK renders them (sorted: they share no file, order is moot)
    synth.template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": Match.string_like_regexp("-collect$"),
        "Layers": Match.array_with([bluesky, deps])})
    layers = [p["Properties"]["Layers"] for p in synth.resources("AWS::Lambda::Function").values()
              if str(p["Properties"].get("FunctionName", "")).endswith("-collect")]
    assert [len(x) for x in layers] == [2]
    for stage in ("score", "publish"):
        synth.template.has_resource_properties("AWS::Lambda::Function", {
            "FunctionName": Match.string_like_regexp(f"-{stage}$"), "Layers": [deps]})
    synth.template.has_resource_properties("AWS::Lambda::LayerVersion", {
        "Description": Match.string_like_regexp("Bluesky"), "CompatibleArchitectures": ["arm64"],
        "CompatibleRuntimes": ["python3.12"]})


def test_layer_is_trimmed(layer_dir: Path) -> None:
    site = layer_dir / "python"
    assert not (site / "botocore").exists() and not (site / "boto3").exists()  # the runtime has them
    assert not list(site.rglob("*.pyi"))
    assert not list((site / "numpy" / "f2py").rglob("*.pyc"))  # bytecode only for what a cold start loads
    assert not (site / "pyarrow" / "include").exists() and not (site / "pyarrow" / "tests").exists()
    assert not list((site / "pyarrow").glob("libarrow_flight*"))
    assert list(site.glob("pyarrow/lib.cpython-312-aarch64-linux-gnu.so"))  # arm64 wheels


def test_cold_start_modules_ship_as_unchecked_bytecode(layer_dir: Path) -> None:
    """/opt is read-only on Lambda: what a cold start imports is compiled ahead, with bytecode
    that never checks the source's time (the zip's times are not the build's)."""
    site = layer_dir / "python"
    for rel in ("aws_lambda_powertools/__init__.py", "aws_lambda_powertools/logging/logger.py",
                "aws_xray_sdk/core/recorder.py", "pyarrow/__init__.py", "tweepy/client.py", "jinja2/environment.py",
                "barometer/aws/events.py", "barometer/score/indicators.py", "barometer/publish/build.py"):
        src = site / rel
        pyc = src.parent / "__pycache__" / f"{src.stem}.cpython-312.pyc"
        assert pyc.is_file(), rel
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, (rel, flags)  # hash-based, unchecked


def test_rebuild_is_cached(layer_dir: Path) -> None:
    t0 = time.perf_counter()
    build_layer_module().build(layer_dir, "arm64")
    assert time.perf_counter() - t0 < 15  # only the barometer package is refreshed and re-zipped


@pytest.mark.slow
def test_trimmed_layer_imports_on_this_platform(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same trim and strip rules, on an x86_64 build, import and write Parquet here."""
    out = Path(__file__).resolve().parents[2] / "build" / "layer-x86_64-check"
    build_layer_module().build(out, "x86_64")
    code = (
        "import sys; sys.dont_write_bytecode = True; "
        "sys.path[:] = [p for p in sys.path if 'site-packages' not in p]; "
        f"sys.path.insert(0, {str(out / 'python')!r}); "
        "import io, pyarrow as pa, pyarrow.parquet as pq, pyarrow.dataset, numpy, tweepy, pydantic; "
        "import yaml, jinja2; "
        f"sys.path.insert(1, {str(out.parent / (out.name + '-bluesky') / 'python')!r}); "
        "from atproto import Client; import cryptography.hazmat.primitives.asymmetric.ec; "
        "from pyarrow.fs import S3FileSystem; "
        "b = io.BytesIO(); pq.write_table(pa.table({'a': [1]}), b, compression='zstd'); "
        "assert pq.read_table(io.BytesIO(b.getvalue())).num_rows == 1; "
        "import barometer.config as c; assert c.resolve_panel('pharma-fr').id == 'pharma-fr'; "
        "assert pa.__file__.startswith(sys.path[0]); "
        # the layer's own bytecode is what was loaded (nothing written: dont_write_bytecode)
        "import os, aws_lambda_powertools as pt; "
        "assert all(os.path.isfile(m.__spec__.cached) for m in (pa, pt, c)), [pa.__spec__.cached]; "
        "print('ok')"
    )
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          cwd=tmp_path_factory.mktemp("cwd"), timeout=300)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]
