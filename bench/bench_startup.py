"""Cold start: the import time of each Lambda handler module.

For each `functions/<stage>/handler.py`, in a fresh interpreter (`python -X importtime -c
"import handler"`, cwd = the function's folder, `layers/` on sys.path, as in Lambda where the
layer is on the path), the `cumulative` microseconds of the top-level `handler` import: the
handler and everything it pulls in (the barometer library, pyarrow, Powertools...).
The median of 5 runs; the file cache is warm, as on a Lambda host reusing its image.

The handlers load their stage's library (pyarrow, numpy, tweepy...) and boto3 clients on the
first invocation that runs the stage (`handler._stage()`, cached for the warm invocations), so
the figure above is Lambda's init phase only. Extra measure, in each figure's `note` (no
target): "first invocation load", the wall time of that first `_stage()` call in a fresh
interpreter right after `import handler` (median of the same number of runs) - what the first
invocation pays on top of the init.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from _common import ROOT, args_parser, emit, measure

RUNS = 5
TARGET_MS = 300


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "layers"),
           # Settings parsed at import time (once per cold start) need their variables.
           "LAKE_URI": "s3://bench-bucket/lake", "SITE_BUCKET": "bench-site",
           "X_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-3:000000000000:secret:x-token",
           "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Barometer",
           "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
           # As the Lambda runtime sets them: outside Lambda, X-Ray's recorder also builds a
           # sampling client at import (150-300 ms) that never exists in a function.
           "LAMBDA_TASK_ROOT": str(ROOT / "functions"), "AWS_LAMBDA_FUNCTION_NAME": "bench"}


def import_ms(stage: str) -> float:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import handler"],
                          cwd=ROOT / "functions" / stage, env=_env(), capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"import handler ({stage}) failed: {proc.stderr.strip().splitlines()[-1:]}")
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) == 3 and parts[2].rstrip() == " handler":
            return int(parts[1]) / 1000
    raise RuntimeError(f"no importtime line for handler ({stage})")


FIRST_CALL = """\
import time
import handler
t0 = time.perf_counter()
handler._stage()
print((time.perf_counter() - t0) * 1000)
"""


def first_invocation_ms(stage: str) -> float | None:
    """Extra measure: the first invocation's load of the stage (`handler._stage()`), in ms."""
    proc = subprocess.run([sys.executable, "-c", FIRST_CALL], cwd=ROOT / "functions" / stage, env=_env(),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    stages = sorted(p.parent.name for p in (ROOT / "functions").glob("*/handler.py"))
    runs = 2 if args.scale == "tiny" else RUNS
    res = {}
    for stage in stages:
        try:
            ms = statistics.median(import_ms(stage) for _ in range(runs))
            firsts = [first_invocation_ms(stage) for _ in range(runs)]
            first = statistics.median(f for f in firsts if f is not None) if None not in firsts else None
            note = (f"init only; first invocation load (handler._stage(): stage library + clients, "
                    f"not in the figure): {first:.0f} ms" if first is not None
                    else "init only; first invocation load: not measured (no handler._stage())")
            res[f"{stage}_import_ms"] = measure(round(ms, 1), "ms", TARGET_MS, note=note)
        except RuntimeError as e:
            res[f"{stage}_import_ms"] = measure(None, "ms", TARGET_MS, note=str(e))
    emit(res, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
