"""Deployment size: the Lambda layer plus the largest function, unzipped.

Runs the infra's layer build (`layers/build_layer.py --report`: pip wheels for the Lambda
platform, trimmed; cached by a stamp, so a rebuild only refreshes the `barometer` package) and
reports its figures. Lambda's limit for a function and its layers, unzipped, is 250 MB.
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
        res = {"total_unzipped_mb": measure(None, "MB", TARGET_MB, note=f"layer build failed: {tail}")}
        emit(res, args.json_out)
        return 1
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    total = rep["total_unzipped_mb"]
    res = {
        "total_unzipped_mb": measure(total, "MB", TARGET_MB, note=f"Lambda limit {LIMIT_MB} MB"),
        "under_lambda_limit": measure(total, "MB", LIMIT_MB),
        "layer_unzipped_mb": measure(rep["layer_unzipped_mb"], "MB"),
        "layer_zipped_mb": measure(rep["layer_zipped_mb"], "MB"),
        "largest_function_kb": measure(rep["largest_function_unzipped_kb"], "KB",
                                       note=f"functions/{rep['largest_function']}"),
        "layer_build_s": measure(rep.get("build_seconds"), "s",
                                 note="cached pip step when the stamp matches"),
    }
    emit(res, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
