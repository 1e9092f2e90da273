"""run_publish to a local folder: pages, languages, quality gate, idempotency, incremental units."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import make_site_lake

from barometer.publish import PublishOptions, SiteTarget, run_publish
from barometer.publish.data import read_runs


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file()}


def test_publish_pages_and_idempotent(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake")
    site = tmp_path / "site"
    s1 = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions(simulated=True))
    assert s1.status == "ok" and s1.details["uploaded"] == s1.details["files"]
    for key in ("index.html", "en/index.html", "marques/sanofi/index.html", "en/brands/sanofi/index.html",
                "methodologie/index.html", "en/methodology/index.html", "donnees/index.html",
                "en/data/index.html", "archives/index.html", *(f"archives/{d}/index.html" for d in dates),
                *(f"downloads/{d}/{t}.{f}" for d in dates for t in ("scores", "indicators", "topics")
                  for f in ("csv", "json")), "site-manifest.json"):
        assert (site / key).is_file(), key
    assert len(list((site / "assets").glob("site.*.css"))) == 1
    home = (site / "index.html").read_text()
    assert '<html lang="fr">' in home and "Données simulées" in home and "Mis à jour le" in home
    en = (site / "en" / "index.html").read_text()
    assert '<html lang="en">' in en and "Simulated data" in en and "Last updated" in en
    before = snapshot(site)
    s2 = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions(simulated=True))
    assert s2.status == "ok" and s2.details["uploaded"] == 0
    assert s2.details["archive_dates_built"] == 0 and s2.details["download_dates_built"] == 0
    assert snapshot(site) == before  # not even rewritten
    runs = read_runs(lake, panel.id, dates[-1], dates[-1])
    # one row per run: both publishes are recorded (the second one's cost is never lost)
    assert runs.filter(pc.equal(runs["stage"], "publish"))["status"].to_pylist() == ["ok", "ok"]


def test_no_simulated_notice_for_real_data(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2, posts=False)
    run_publish(panel, dates[-1], lake, SiteTarget.local(tmp_path / "site"), PublishOptions(simulated=False))
    assert "Données simulées" not in (tmp_path / "site" / "index.html").read_text()


def test_daily_publish_rebuilds_only_new_units(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=5, posts=False)
    site = tmp_path / "site"
    run_publish(panel, dates[-2], lake, SiteTarget.local(site), PublishOptions())
    assert not (site / "archives" / dates[-1].isoformat()).exists()
    old = (site / "downloads" / dates[0].isoformat() / "indicators.json").stat().st_mtime_ns
    s = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions())
    # archive pages of the new date and the previous one (its pager gains a "next" link);
    # downloads of the new date only
    assert s.details["archive_dates_built"] == 2 and s.details["download_dates_built"] == 1
    assert (site / "archives" / dates[-1].isoformat() / "index.html").is_file()
    prev_page = (site / "archives" / dates[-2].isoformat() / "index.html").read_text()
    assert f"archives/{dates[-1].isoformat()}/" in prev_page
    assert (site / "downloads" / dates[0].isoformat() / "indicators.json").stat().st_mtime_ns == old
    manifest = json.loads((site / "site-manifest.json").read_text())
    assert sorted(manifest["dates"]) == [d.isoformat() for d in dates]
    # a unit whose files went missing is rebuilt
    (site / "downloads" / dates[1].isoformat() / "topics.csv").unlink()
    s = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions())
    assert s.details["download_dates_built"] == 1 and s.details["archive_dates_built"] == 0
    assert (site / "downloads" / dates[1].isoformat() / "topics.csv").exists()


def test_below_threshold_keeps_previous_site(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=3)
    site = tmp_path / "site"
    ok = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions())
    assert ok.status == "ok"
    before = snapshot(site)
    # a later run with poor coverage
    bad = dates[-1] + timedelta(days=7)
    make_site_lake(tmp_path / "lake", days=1, end=bad, posts=False, coverage={bad: 0.5}, panel=panel)
    s = run_publish(panel, bad, lake, SiteTarget.local(site), PublishOptions())
    assert s.status == "skipped"
    reason = str(s.details["reason"])
    assert "coverage 0.500" in reason and "min_coverage 0.750" in reason
    assert s.details["last_published"] == dates[-1].isoformat()
    assert snapshot(site) == before
    # the page still says when it was last updated
    assert "Mis à jour le 1er mai 2018" in (site / "index.html").read_text()
    # a missing scores partition is skipped the same way
    s = run_publish(panel, bad + timedelta(days=1), lake, SiteTarget.local(site), PublishOptions())
    assert s.status == "skipped" and "no scores partition" in str(s.details["reason"])
    assert snapshot(site) == before
    # the failed date never appears in the history of a later good publish
    good = bad + timedelta(days=7)
    make_site_lake(tmp_path / "lake", days=1, end=good, posts=False, panel=panel)
    s = run_publish(panel, good, lake, SiteTarget.local(site), PublishOptions())
    assert s.status == "ok"
    assert not (site / "archives" / bad.isoformat()).exists()
    assert (site / "archives" / good.isoformat() / "index.html").exists()


def test_language_switch_links(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2, posts=False)
    site = tmp_path / "site"
    run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions())
    assert 'href="en/" hreflang="en"' in (site / "index.html").read_text()
    en_brand = (site / "en/brands/sanofi/index.html").read_text()
    assert 'href="../../../marques/sanofi/" hreflang="fr"' in en_brand
    assert 'href="../en/methodology/" hreflang="en"' in (site / "methodologie/index.html").read_text()
    d = dates[-1].isoformat()
    en_day = (site / f"en/archives/{d}/index.html").read_text()
    assert f'href="../../../archives/{d}/" hreflang="fr"' in en_day


def test_downloads_budget_spreads_a_long_history_over_runs(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=4, posts=False)
    site = tmp_path / "site"
    opts = PublishOptions(downloads_budget_bytes=1)  # one date's downloads per run
    s = run_publish(panel, dates[-1], lake, SiteTarget.local(site), opts)
    assert s.details["download_dates_built"] == 1 and s.details["download_dates_pending"] == 3
    assert s.details["archive_dates_built"] == 4  # pages are cheap: all of them
    assert (site / "downloads" / dates[-1].isoformat() / "indicators.json").exists()
    assert not (site / "downloads" / dates[0].isoformat()).exists()
    data_page = (site / "donnees" / "index.html").read_text()
    assert "en préparation" in data_page
    assert f"downloads/{dates[0].isoformat()}/" not in data_page
    for pending in (2, 1, 0):
        s = run_publish(panel, dates[-1], lake, SiteTarget.local(site), opts)
        assert s.details["download_dates_pending"] == pending
    assert all((site / "downloads" / d.isoformat() / "topics.csv").exists() for d in dates)
    data_page = (site / "donnees" / "index.html").read_text()
    assert "en préparation" not in data_page
    assert (site / "archives" / dates[0].isoformat() / "index.html").read_text().count("downloads/") == 9
    s = run_publish(panel, dates[-1], lake, SiteTarget.local(site), opts)
    assert s.details["uploaded"] == 0
