"""The site's viewer-request CloudFront Function, run by node on its own shipped file.

```python
with ViewerRequest() as fn:
    fn("/en/")                        # {"method": "GET", "uri": "/en/index.html", ...}: the request goes on
    fn("/en", query_of("a=1&a=2"))    # {"statusCode": 301, "headers": {"location": {"value": "/en/?a=1&a=2"}, ...}}
```

One node process for many calls (one JSON line in, one out). The file is evaluated with `vm` in a
context of its own, with no `require`, `module` or `process`, as in the CloudFront Functions runtime,
and only its top-level `handler` is called, with CloudFront's event shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FUNCTION = REPO / "infra" / "constructs" / "site_viewer_request.js"
NODE = shutil.which("node") or "/usr/bin/node"

HARNESS = r"""
const fs = require('fs'), vm = require('vm'), readline = require('readline');
const file = process.argv[1];
const context = vm.createContext({});
vm.runInContext(fs.readFileSync(file, 'utf8'), context, {filename: file});
if (typeof context.handler !== 'function') throw new Error(file + ': no top-level handler function');
readline.createInterface({input: process.stdin}).on('line', (line) => {
  let out;
  try { out = {result: context.handler(JSON.parse(line))}; }
  catch (e) { out = {error: String((e && e.stack) || e)}; }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


def query_of(raw: str) -> dict[str, Any]:
    """A raw query string (`a=1&a=2&b`) as CloudFront hands it to a function: values as sent,
    `multiValue` when a name repeats."""
    out: dict[str, Any] = {}
    for part in filter(None, raw.split("&")):
        name, _, value = part.partition("=")
        if name in out:
            out[name].setdefault("multiValue", [{"value": out[name]["value"]}]).append({"value": value})
        else:
            out[name] = {"value": value}
    return out


def event(uri: str, querystring: dict[str, Any] | None = None) -> dict[str, Any]:
    """A viewer-request event as CloudFront builds it (headers, cookies lower-case and empty here)."""
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "127.0.0.1"},
        "request": {"method": "GET", "uri": uri, "querystring": querystring or {}, "headers": {}, "cookies": {}},
    }


class ViewerRequest:
    """`fn(uri, querystring)` → what the function returns: the request to go on with, or a response."""

    def __init__(self, path: Path = FUNCTION) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([NODE, "-e", HARNESS, str(path)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def __call__(self, uri: str, querystring: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.handle(event(uri, querystring))

    def handle(self, evt: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            try:
                self._proc.stdin.write(json.dumps(evt) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except BrokenPipeError:
                line = ""
            if not line:
                raise RuntimeError(f"node stopped on {self.path.name}: {self._stderr()}")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"{self.path.name} threw on {evt['request']['uri']!r}: {out['error']}")
        return out["result"]  # type: ignore[no-any-return]

    def _stderr(self) -> str:
        self._proc.kill()
        _, err = self._proc.communicate(timeout=5)
        return err.strip()

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ViewerRequest:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
