"""Screenshots of a built site (leaderboard + one brand page, desktop and phone widths) for the README.

Uses Playwright's Python API with Debian's Chromium (`/usr/bin/chromium` by default), serving
the folder on 127.0.0.1 with the standard library's HTTP server.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@contextlib.contextmanager
def serve(site_dir: str | Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port); yields the base URL, ending with '/'."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    with running(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url


@contextlib.contextmanager
def running(server: http.server.HTTPServer) -> Iterator[str]:
    """Serve with `server` (bound to 127.0.0.1) in a daemon thread; yields its base URL, ending
    with '/'; shut down and closed at the end."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def take(site_dir: str | Path, out_dir: str | Path, executable_path: str = CHROMIUM,
         full_page: bool = True) -> list[Path]:
    """Save leaderboard-{desktop,phone}.png and brand-{desktop,phone}.png (the leader's page)."""
    from playwright.sync_api import sync_playwright

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with serve(site_dir) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable_path, args=list(CHROMIUM_ARGS))
        try:
            brand_url = None
            for label, (w, h) in WIDTHS.items():
                page = browser.new_page(viewport={"width": w, "height": h}, device_scale_factor=1)
                page.goto(base, wait_until="load")
                if brand_url is None:
                    href = page.get_attribute("table.lb tbody tr th a", "href")
                    brand_url = base + (href or "")
                path = out / f"leaderboard-{label}.png"
                page.screenshot(path=str(path), full_page=full_page)
                saved.append(path)
                page.goto(brand_url, wait_until="load")
                path = out / f"brand-{label}.png"
                page.screenshot(path=str(path), full_page=full_page)
                saved.append(path)
                page.close()
        finally:
            browser.close()
    return saved
