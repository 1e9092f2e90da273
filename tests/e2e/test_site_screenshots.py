"""`barometer.publish.screenshots.take`: leaderboard + a brand page, desktop and phone, as PNG."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from _site_fixtures import CHROMIUM, make_site_lake, publish_local

from barometer.publish.screenshots import take

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


def png_size(p: Path) -> tuple[int, int]:
    head = p.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return w, h


def test_take_screenshots(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=3)
    site = publish_local(panel, lake, dates[-1], tmp_path / "site")
    shots = take(site, tmp_path / "shots")
    assert sorted(p.name for p in shots) == ["brand-desktop.png", "brand-phone.png",
                                             "leaderboard-desktop.png", "leaderboard-phone.png"]
    assert png_size(tmp_path / "shots" / "leaderboard-desktop.png")[0] == 1280
    assert png_size(tmp_path / "shots" / "brand-phone.png")[0] == 390
