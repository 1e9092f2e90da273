"""Build the Lambda dependency layer without Docker.

pip installs the pinned runtime dependencies (layers/requirements.txt) as binary wheels for
the Lambda platform (manylinux, Python 3.12, arm64 by default) into build/layer/python, the
`barometer` package and the panels are copied next to them, and the result is trimmed: tests,
caches, type stubs, C/Cython sources and headers, pyarrow's Flight RPC and build-time copies
of its libraries, and boto3/botocore (the Lambda runtime provides them).

The pip step is cached: build/layer/.stamp holds a hash of the requirements, the target
platform and this script's trim rules; when it matches, only the `barometer` package and the
panels are refreshed (a fraction of a second). The build takes a lock, so concurrent test
workers share one build.

A second, collect-only layer (build/layer-bluesky, from layers/requirements-bluesky.txt)
holds the Bluesky SDK (`atproto`) and what it needs that the main layer does not already
hold (cryptography, libipld, httpx, dnspython, websockets, click...): the same platform, trim
and strip rules, pinned to the main layer's versions of what both use (pydantic,
typing_extensions... stay in the main layer only). Only the collect function attaches it, so
the score and publish functions do not carry ~23 MB they never import.

    python layers/build_layer.py [--arch arm64|x86_64] [--out build/layer] [--force] [--report]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "layers" / "requirements.txt"
REQUIREMENTS_BLUESKY = ROOT / "layers" / "requirements-bluesky.txt"
PACKAGE = ROOT / "layers" / "barometer"
PANELS = ROOT / "panels"
DEFAULT_OUT = ROOT / "build" / "layer"
PYTHON_VERSION = "3.12"

# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux2014 and
# manylinux_2_28 wheels both run there (numpy and pyarrow only ship the latter for aarch64).
PLATFORMS = {
    "arm64": ["manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"],
    "x86_64": ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"],
}

# Provided by the Lambda runtime: never shipped in the layer.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Directory names removed anywhere in the tree, and package-relative folders removed.
TRIM_DIRS = ("__pycache__", "tests")
TRIM_PATHS = ("pyarrow/include", "pyarrow/src", "numpy/_core/include", "numpy/_core/lib/pkgconfig")
# File suffixes removed anywhere in the tree (stubs, C/C++/Cython sources, headers).
TRIM_SUFFIXES = (".pyi", ".pyc", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".cc", ".cpp", ".c")
# pyarrow pieces the barometer never loads: Arrow Flight (RPC), the C++ test module, the
# HDFS/GCS/Azure/ORC bindings, and the link-time copies of libarrow_python* (the loader
# only needs the SONAME file, e.g. libarrow_python.so.2600).
PYARROW_TRIM_GLOBS = (
    "libarrow_flight.so*",
    "libarrow_python_flight.so*",
    "_flight.*.so",
    "flight.py",
    "_pyarrow_cpp_tests.*.so",
    "_hdfs.*.so",
    "_gcsfs.*.so",
    "_azurefs.*.so",
    "_orc.*.so",
    "_dataset_orc.*.so",
    "orc.py",
    "libarrow_python*.so",  # unversioned build-time symlink copies
    "libarrow_python*.so.*.*.*",  # full-version copies (the SONAME file stays)
    "benchmark.py",
    "cffi.py",
)
# Shared objects removed above: nothing kept may still need them.
REMOVED_SONAMES = (b"libarrow_flight.so", b"libarrow_python_flight.so")
TRIM_VERSION = "5"  # bump when the rules above change: invalidates the cached build

# Lambda's /opt is read-only: a module without a bytecode file there is compiled from source
# on every cold start. The modules a cold start loads (each handler's import and its first
# invocation's `_load()`) are compiled ahead, as "unchecked-hash" .pyc files: valid whatever
# the file times the zip restores, never compared with the source. The rest of the tree (most
# of numpy, Powertools' other utilities...) stays source only, to keep the layer small.
OPT_PYTHON = "/opt/python"  # where Lambda mounts the layer's python/ (for tracebacks)
TRACE = """\
import importlib.util, json, sys
for stage in sys.argv[2:]:
    spec = importlib.util.spec_from_file_location("h_" + stage, f"{sys.argv[1]}/{stage}/handler.py")
    h = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(h)
    (getattr(h, "_load", None) or h._stage)()  # the first invocation's imports (edge: `_load`)
print(json.dumps(sorted(sys.modules)))
"""
# The Bluesky layer is imported on the first invocation that collects a Bluesky panel
# (barometer.collect.networks imports `atproto.Client` lazily): that import's modules.
TRACE_BLUESKY = """\
import json, sys
from atproto import Client
print(json.dumps(sorted(sys.modules)))
"""


def strip_tool(arch: str) -> str | None:
    """A `strip` that reads the target's ELF files: llvm-strip reads any, binutils' only its own."""
    gnu = {"arm64": "aarch64-linux-gnu-strip", "x86_64": "x86_64-linux-gnu-strip"}[arch]
    return shutil.which("llvm-strip") or shutil.which(gnu)


def platform_args(arch: str) -> list[str]:
    args: list[str] = []
    for plat in PLATFORMS[arch]:
        args += ["--platform", plat]
    return args


def deps_hash(arch: str) -> str:
    h = hashlib.sha256()
    h.update(REQUIREMENTS.read_bytes())
    h.update(json.dumps([arch, PYTHON_VERSION, PLATFORMS[arch], TRIM_VERSION, RUNTIME_PROVIDED,
                         TRIM_DIRS, TRIM_PATHS, TRIM_SUFFIXES, PYARROW_TRIM_GLOBS,
                         bool(strip_tool(arch))]).encode())
    return h.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pip_install(site: Path, arch: str, requirements: Path = REQUIREMENTS,
                 constraints: Path | None = None) -> None:
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", *platform_args(arch), "--only-binary=:all:",
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--target", str(site), "-r", str(requirements),
    ]
    if constraints is not None:
        cmd += ["-c", str(constraints)]
    subprocess.run(cmd, check=True)


def _trim(site: Path) -> None:
    for name in RUNTIME_PROVIDED:
        shutil.rmtree(site / name, ignore_errors=True)
        for dist in site.glob(f"{name}-*.dist-info"):
            shutil.rmtree(dist)
    for d in sorted(site.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if d.is_dir() and d.name in TRIM_DIRS and ".dist-info" not in str(d):
            shutil.rmtree(d, ignore_errors=True)
    for rel in TRIM_PATHS:
        shutil.rmtree(site / rel, ignore_errors=True)
    for f in list(site.rglob("*")):
        if f.is_file() and f.suffix in TRIM_SUFFIXES:
            f.unlink()
    pa = site / "pyarrow"
    for pattern in PYARROW_TRIM_GLOBS:
        for f in pa.glob(pattern):
            f.unlink()
    _check_no_dangling(site)


def _strip(site: Path, arch: str) -> None:
    """Drop the static symbol tables of the shared objects (the dynamic ones stay): about -20 %."""
    tool = strip_tool(arch)
    if tool is None:
        print("layer: no llvm-strip found, shared objects left unstripped", file=sys.stderr)
        return
    libs = sorted(str(f) for f in site.rglob("*.so*") if f.is_file() and not f.is_symlink())
    for i in range(0, len(libs), 200):
        subprocess.run([tool, "--strip-unneeded", *libs[i:i + 200]], check=True)


def _check_no_dangling(site: Path) -> None:
    """Fail the build when a kept shared object still names one that was trimmed."""
    for f in site.rglob("*.so*"):
        if not f.is_file():
            continue
        data = f.read_bytes()
        for soname in REMOVED_SONAMES:
            if soname in data:
                raise SystemExit(f"layer trim: {f.relative_to(site)} still needs {soname.decode()}")


def _trace_env() -> dict[str, str]:
    functions = ROOT / "functions"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers"), "LAKE_URI": "s3://trace-bucket/lake",
           "SITE_BUCKET": "trace-site", "AWS_DEFAULT_REGION": "eu-west-3",
           "X_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-3:000000000000:secret:x-token",
           "LAMBDA_TASK_ROOT": str(functions), "AWS_LAMBDA_FUNCTION_NAME": "layer-build-trace"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return env


def _trace(code: str, *args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=_trace_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"layer: tracing the cold-start imports failed: {proc.stderr.strip()[-300:]}")
    names: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return names


def cold_modules() -> list[str]:
    """The module names a cold start imports, traced in this build's own environment (the
    layer's binaries are another platform's): every handler imported, its stage loaded, with
    tracing active as deployed (X-Ray patches botocore there)."""
    functions = ROOT / "functions"
    stages = sorted(p.parent.name for p in functions.glob("*/handler.py"))
    return _trace(TRACE, str(functions), *stages)


def bluesky_modules() -> list[str]:
    """The modules `from atproto import Client` loads (in this build's environment)."""
    return _trace(TRACE_BLUESKY)


def _runtime_python() -> bool:
    """Bytecode is only valid for the Python version that wrote it: the runtime's, or none."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here != PYTHON_VERSION:
        print(f"layer: Python {here} here, not {PYTHON_VERSION}: no bytecode compiled", file=sys.stderr)
    return here == PYTHON_VERSION


def _compile_package(site: Path) -> None:
    """The barometer package is small and changes often: all of it, on every build."""
    import compileall
    import py_compile

    if _runtime_python():
        compileall.compile_dir(site / "barometer", ddir=f"{OPT_PYTHON}/barometer", quiet=1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def precompile(site: Path, modules: list[str], top: set[str] | None = None) -> int:
    """Compile the layer's source of `modules` (those under `top`, if given) to unchecked-hash
    bytecode; returns how many files."""
    import importlib.util
    import py_compile

    if not _runtime_python():
        return 0
    n = 0
    for name in modules:
        parts = name.split(".")
        if top is not None and parts[0] not in top:
            continue
        base = site.joinpath(*parts)
        for src in (base.with_name(base.name + ".py"), base / "__init__.py"):
            if src.is_file():
                py_compile.compile(str(src), cfile=importlib.util.cache_from_source(str(src)),
                                   dfile=f"{OPT_PYTHON}/{src.relative_to(site).as_posix()}", doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                n += 1
    return n


def _copy_package(site: Path) -> None:
    dest = site / "barometer"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"))
    # config.panels_dir() falls back to barometer/data/panels when there is no repo around.
    panels = dest / "data" / "panels"
    panels.mkdir(parents=True, exist_ok=True)
    for p in sorted(PANELS.glob("*.yaml")):
        shutil.copy2(p, panels / p.name)


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: same content, same zip, same asset hash


def _zip_file(zf: zipfile.ZipFile, f: Path, arcname: str) -> None:
    info = zipfile.ZipInfo(arcname, ZIP_EPOCH)
    info.external_attr = (0o755 if os.access(f, os.X_OK) else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, f.read_bytes(), compresslevel=6)


def _zip_tree(zf: zipfile.ZipFile, root: Path, arcroot: str) -> None:
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        _zip_file(zf, f, f"{arcroot}/{f.relative_to(root).as_posix()}")


def _zip_deps(site: Path, deps_zip: Path) -> None:
    """Everything but the barometer package, zipped once per dependency build."""
    tmp = deps_zip.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for child in sorted(site.iterdir()):
            if child.name == "barometer":
                continue
            if child.is_dir():
                _zip_tree(zf, child, f"python/{child.name}")
            else:
                _zip_file(zf, child, f"python/{child.name}")
    tmp.replace(deps_zip)


def _zip_layer(site: Path, deps_zip: Path, layer_zip: Path) -> None:
    """The layer zip: the cached dependencies plus the current barometer package."""
    tmp = layer_zip.with_suffix(".tmp")
    shutil.copyfile(deps_zip, tmp)
    with zipfile.ZipFile(tmp, "a") as zf:
        _zip_tree(zf, site / "barometer", "python/barometer")
    tmp.replace(layer_zip)


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def zip_path(out: Path) -> Path:
    """The layer's zip, next to its folder: build/layer → build/layer.zip (the CDK asset)."""
    return out.parent / f"{out.name}.zip"


def bluesky_dir(out: Path) -> Path:
    """The Bluesky layer's folder, next to the main one: build/layer → build/layer-bluesky."""
    return out.parent / f"{out.name}-bluesky"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dists(site: Path) -> dict[str, tuple[str, str, Path]]:
    """The distributions installed in `site`: canonical name → (name, version, dist-info)."""
    found: dict[str, tuple[str, str, Path]] = {}
    for info in sorted(site.glob("*.dist-info")):
        meta: dict[str, str] = {}
        for line in (info / "METADATA").read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                break
            key, _, value = line.partition(": ")
            meta.setdefault(key, value.strip())
        found[_canonical(meta["Name"])] = (meta["Name"], meta["Version"], info)
    return found


def _drop_shared(site: Path, main_site: Path) -> list[str]:
    """Remove from `site` the distributions the main layer already holds (both layers are on
    the collect function's path, the main one's copy is the one that loads); returns their names."""
    shared = _dists(main_site)
    dropped = []
    for key, (name, _, info) in _dists(site).items():
        if key not in shared:
            continue
        for row in csv.reader((info / "RECORD").read_text(encoding="utf-8").splitlines()):
            f = (site / row[0]).resolve() if row else site
            if f.is_relative_to(site) and f.is_file():
                f.unlink()
        shutil.rmtree(info)
        dropped.append(name)
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: nothing runs them on Lambda
    for d in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    return dropped


def build_bluesky(out: Path, arch: str, force: bool = False) -> Path:
    """The collect-only Bluesky layer, next to the main layer `out` (built first: its versions
    pin the shared dependencies, which then stay in it only). Call with the build lock held."""
    bdir = bluesky_dir(out)
    site, stamp = bdir / "python", bdir / ".stamp"
    want = hashlib.sha256(REQUIREMENTS_BLUESKY.read_bytes() + deps_hash(arch).encode()).hexdigest()
    if not force and stamp.exists() and stamp.read_text().strip() == want and zip_path(bdir).exists():
        return bdir
    shutil.rmtree(bdir, ignore_errors=True)
    site.mkdir(parents=True)
    constraints = bdir / "constraints.txt"  # the main layer's versions, outside python/
    constraints.write_text("".join(f"{n}=={v}\n" for n, v, _ in _dists(out / "python").values()))
    _pip_install(site, arch, REQUIREMENTS_BLUESKY, constraints)
    _drop_shared(site, out / "python")
    _trim(site)
    _strip(site, arch)
    precompile(site, bluesky_modules(), top={p.name.removesuffix(".py") for p in site.iterdir()})
    tmp = zip_path(bdir).with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _zip_tree(zf, site, "python")
    tmp.replace(zip_path(bdir))
    stamp.write_text(want + "\n")
    return bdir


def build(out: Path = DEFAULT_OUT, arch: str = "arm64", force: bool = False) -> Path:
    """Build (or refresh) the layer folder and its zip, then the Bluesky layer next to them
    (bluesky_dir); returns the main layer's folder (holding python/).

    The zip is what the stack deploys: one file is fingerprinted and staged by the CDK in a
    fraction of the time a 1,300-file folder takes.
    """
    if arch not in PLATFORMS:
        raise SystemExit(f"unknown architecture {arch!r} (arm64 or x86_64)")
    out = out.resolve()
    stamp = out / ".stamp"
    want = deps_hash(arch)
    with _locked(out.parent / f".{out.name}.lock"):
        site = out / "python"
        deps_zip = out.parent / f"{out.name}-deps.zip"
        fresh = stamp.exists() and stamp.read_text().strip() == want and deps_zip.exists()
        if force or not fresh:
            shutil.rmtree(out, ignore_errors=True)
            site.mkdir(parents=True)
            _pip_install(site, arch)
            _trim(site)
            _strip(site, arch)
            deps = {p.name.removesuffix(".py") for p in site.iterdir()} - {"barometer"}
            precompile(site, cold_modules(), top=deps)
            _zip_deps(site, deps_zip)
            stamp.write_text(want + "\n")
        _copy_package(site)
        _compile_package(site)
        _zip_layer(site, deps_zip, zip_path(out))
        build_bluesky(out, arch, force)
    return out


def function_sizes(functions: Path = ROOT / "functions") -> dict[str, int]:
    return {d.name: dir_size(d) for d in functions.iterdir() if d.is_dir()} if functions.is_dir() else {}


def largest_function(functions: Path = ROOT / "functions") -> tuple[str, int]:
    sizes = function_sizes(functions)
    if not sizes:
        return ("", 0)
    name = max(sizes, key=lambda k: sizes[k])
    return name, sizes[name]


def report(out: Path = DEFAULT_OUT) -> dict[str, object]:
    """Unzipped sizes: each layer, and each function as deployed (collect: both layers)."""
    layer, bdir = dir_size(out / "python"), bluesky_dir(out)
    bluesky = dir_size(bdir / "python")
    sizes = function_sizes()
    fname, fsize = largest_function()
    collect = layer + bluesky + sizes.get("collect", 0)
    others = max((layer + v for k, v in sizes.items() if k != "collect"), default=layer)
    return {
        "layer_unzipped_mb": round(layer / 2**20, 1),
        "layer_zipped_mb": round(zip_path(out).stat().st_size / 2**20, 1),
        "bluesky_layer_unzipped_mb": round(bluesky / 2**20, 1),
        "bluesky_layer_zipped_mb": round(zip_path(bdir).stat().st_size / 2**20, 1),
        "largest_function": fname,
        "largest_function_unzipped_kb": round(fsize / 1024, 1),
        "main_plus_largest_function_mb": round((layer + fsize) / 2**20, 1),
        "collect_total_unzipped_mb": round(collect / 2**20, 1),  # main + bluesky + function
        "total_unzipped_mb": round(max(collect, others) / 2**20, 1),  # the largest as deployed
        "main_layer_target_mb": 150,
        "lambda_limit_mb": 250,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default=os.environ.get("BAROMETER_ARCH", "arm64"), choices=sorted(PLATFORMS))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    ap.add_argument("--report", action="store_true", help="print the unzipped sizes as JSON")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = build(args.out, args.arch, args.force)
    except subprocess.CalledProcessError as e:
        print(f"layer build failed: pip exited with {e.returncode}", file=sys.stderr)
        return 1
    took = time.perf_counter() - t0
    if args.report:
        print(json.dumps({**report(out), "build_seconds": round(took, 1)}))
    else:
        blue = bluesky_dir(out)
        print(f"layer ready in {out} ({dir_size(out / 'python') / 2**20:.1f} MB unzipped) and {blue} "
              f"({dir_size(blue / 'python') / 2**20:.1f} MB, collect only), {took:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
