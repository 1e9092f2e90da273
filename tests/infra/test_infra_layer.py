"""The dependency layer: built without Docker, trimmed, cached, under Lambda's size limit."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from infra.assets import build_layer_module

LAMBDA_LIMIT = 250 * 2**20
TARGET = 150 * 2**20


def test_layer_plus_largest_function_under_limit(layer_dir: Path) -> None:
    bl = build_layer_module()
    report = bl.report(layer_dir)
    print(f"\nlayer: {report}")
    total = report["total_unzipped_mb"] * 2**20
    assert total < LAMBDA_LIMIT
    assert total <= TARGET, report
    with zipfile.ZipFile(bl.zip_path(layer_dir)) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
        names = set(zf.namelist())
    assert abs(unzipped - bl.dir_size(layer_dir / "python")) < 2**20  # the zip is the folder
    assert "python/barometer/lake/schemas.py" in names
    assert "python/barometer/data/panels/pharma-fr.yaml" in names
    assert any(n.startswith("python/pyarrow/libarrow.so.") for n in names)


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
