"""Deployment size: the Lambda layers and the functions as deployed, unzipped.

Runs the infra's layer build (`layers/build_layer.py --report`: pip wheels for the Lambda
platform, trimmed; cached by a stamp, so a rebuild only refreshes the `barometer` package) and
reports its figures: the main layer (every function; target 150 MB), the collect-only Bluesky
layer (the atproto SDK and what it needs beyond the main layer), and the collect function as
deployed (main + Bluesky + its code). Lambda's limit for a function and its layers, unzipped,
is 250 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _common import ROOT, args_parser, emit, measure

TARGET_MB = 150
LIMIT_MB = 250


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    proc = subprocess.run([sys.executable, str(ROOT / "layers" / "build_layer.py"), "--report"],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        res = {"layer_unzipped_mb": measure(None, "MB", TARGET_MB, note=f"layer build failed: {tail}")}
        emit(res, args.json_out)
        return 1
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    collect = rep["collect_total_unzipped_mb"]
    res = {
        "layer_unzipped_mb": measure(rep["layer_unzipped_mb"], "MB", TARGET_MB,
                                     note="main layer, every function"),
        "layer_zipped_mb": measure(rep["layer_zipped_mb"], "MB"),
        "bluesky_layer_unzipped_mb": measure(rep["bluesky_layer_unzipped_mb"], "MB",
                                             note="collect only: atproto and its own deps"),
        "bluesky_layer_zipped_mb": measure(rep["bluesky_layer_zipped_mb"], "MB"),
        "collect_total_unzipped_mb": measure(collect, "MB", LIMIT_MB, op="<=",
                                             note="main + Bluesky layers + collect function"),
        "total_unzipped_mb": measure(rep["total_unzipped_mb"], "MB", LIMIT_MB, op="<=",
                                     note=f"largest function as deployed; Lambda limit {LIMIT_MB} MB"),
        "largest_function_kb": measure(rep["largest_function_unzipped_kb"], "KB",
                                       note=f"functions/{rep['largest_function']}"),
        "layer_build_s": measure(rep.get("build_seconds"), "s",
                                 note="cached pip step when the stamp matches"),
    }
    emit(res, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
