"""Downloads that open: per date and for the whole history, for spreadsheets and for analysts' tools.

Per published date (`downloads/<date>/`, built in the incremental data units): each table
(`scores`, `indicators`, `topics`) as
- `<table>.csv`: UTF-8 with a byte-order mark, `,` and a decimal point, rounded values;
- `<table>-fr.csv`: the same for French Excel: `;` and a decimal comma;
- `<table>.json`: an array of objects, full values.
On a panel of several networks these files, the workbook and the history's Parquet carry every
network's rows: the combined ones (`network` = `all`, the leaderboard's) then each network's
alone, by date then network (see `SiteData.downloads`); the wide CSV files and the brands' JSON
follow the leaderboard (`all`).
Per edition (the run date): `edition.xlsx`, a workbook of the edition (its scores, indicators,
topics; one sheet each, see `xlsx`). For the whole history (`downloads/history/`):
`scores.parquet` (every published date), and the index and the rank by brand and date as wide
CSV files (a row per brand, a column per date; `-fr` variants). Per brand
(`downloads/brands/<slug>.json`): its latest figures and its history, for the compare page.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from barometer.publish.base import DOWNLOAD_TABLES, DOWNLOADS, BuilderBase
from barometer.publish.i18n import STRINGS, Fmt
from barometer.publish.ranks import history
from barometer.publish.vector import (
    BOM,
    concat_groups,
    excel_csv_groups,
    fixed,
    group_bounds,
    json_documents,
)
from barometer.publish.xlsx import workbook

XLSX = "edition.xlsx"
HISTORY = f"{DOWNLOADS}/history"
CSV_VARIANTS = (("", ",", "."), ("-fr", ";", ","))  # (file suffix, separator, decimal mark)


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def wide_csv(brands: list[str], names: list[str], dates: list[date], m: np.ndarray, digits: int,
             sep: str, dec: str) -> bytes:
    """A brands × dates matrix as CSV: brand_id, brand_name, then one column per date."""
    head = sep.join(["brand_id", "brand_name", *(d.isoformat() for d in dates)]) + "\r\n"
    if not brands or not dates:
        return BOM + head.encode()
    cells = fixed(pa.array(m.ravel()), digits, dec, missing="", minus="-")
    k = len(dates)
    rows = concat_groups(cells, [(i, i * k, (i + 1) * k) for i in range(len(brands))], sep)
    quoted = ['"' + n.replace('"', '""') + '"' for n in names]
    body = "".join(f"{b}{sep}{n}{sep}{r}\r\n" for b, n, r in zip(brands, quoted, rows, strict=True))
    return BOM + (head + body).encode()


class DataFiles(BuilderBase):
    def downloads(self) -> None:
        """Each date's tables, for the dates the plan builds."""
        for table in DOWNLOAD_TABLES:
            t = self.data_tables[table]
            if t.num_rows == 0:
                continue
            bounds = group_bounds(t["dt"])
            docs = json_documents(t, bounds)
            csvs = excel_csv_groups(t, bounds, tuple((sep, dec) for _, sep, dec in CSV_VARIANTS))
            for i, ((day, _, _), doc) in enumerate(zip(bounds, docs, strict=True)):
                base = f"{DOWNLOADS}/{day.isoformat()}/{table}"
                for (suffix, _, _), files in zip(CSV_VARIANTS, csvs, strict=True):
                    self.site.files[f"{base}{suffix}.csv"] = files[i]
                    self.data_keys[day].append(f"{base}{suffix}.csv")
                self.site.files[base + ".json"] = doc
                self.data_keys[day].append(base + ".json")

    def edition_files(self) -> None:
        """The edition's workbook, the history files and the brands' JSON (every run)."""
        dt = self.d.dt
        key = f"{DOWNLOADS}/{dt.isoformat()}/{XLSX}"
        one = pa.scalar(dt, pa.date32())
        sheets = {name: (t.filter(pc.equal(t["dt"], one)) if t.num_rows else t)
                  for name, t in ((name, self.d.download_table(name)) for name in DOWNLOAD_TABLES)}
        created = self.d.updated_at or datetime.combine(dt, datetime.min.time())
        self.site.files[key] = workbook(sheets, created, f"{self.d.panel.name} {dt.isoformat()}")
        self.data_keys[dt].append(key)
        self.xlsx_dates.add(dt)
        self.site.files[f"{HISTORY}/scores.parquet"] = parquet_bytes(self.d.download_table("scores"))
        h = history(self)
        names = [r["brand_name"] or r["brand_id"] for r in self.brand_rows]
        for suffix, sep, dec in CSV_VARIANTS:
            self.site.files[f"{HISTORY}/leadership{suffix}.csv"] = wide_csv(h.brands, names, h.dates, h.lead, 2,
                                                                            sep, dec)
            self.site.files[f"{HISTORY}/ranks{suffix}.csv"] = wide_csv(h.brands, names, h.dates, h.rank, 0,
                                                                       sep, dec)
        self.brand_json()

    def brand_json(self) -> None:
        """`downloads/brands/<slug>.json`: the brand's figures of the edition and its history."""
        h = history(self)
        if not h.brands:
            return
        k = len(h.dates)
        dates = json.dumps([d.isoformat() for d in h.dates])
        bounds = [(i, i * k, (i + 1) * k) for i in range(len(h.brands))]
        lead = concat_groups(fixed(pa.array(h.lead.ravel()), 2, ".", missing="null"), bounds, ",")
        rank = concat_groups(fixed(pa.array(h.rank.ravel()), 0, ".", missing="null"), bounds, ",")
        inds: dict[str, dict[str, Any]] = {}
        ind = self.d.indicators
        if ind.num_rows:
            now = ind.filter(pc.equal(ind["dt"], pa.scalar(self.d.dt, pa.date32())))
            for b, i, v, s in zip(*(now[c].to_pylist() for c in ("brand_id", "indicator", "value", "score")),
                                  strict=True):
                inds.setdefault(b, {})[i] = {"value": _num(v), "score": _num(s, 2)}
        for bi, r in enumerate(self.brand_rows):
            bid = r["brand_id"]
            head = json.dumps({
                "id": bid, "name": r["brand_name"] or bid, "slug": self.slug[bid], "date": self.d.dt.isoformat(),
                "rank": r["rank"], "rank_prev": r.get("rank_prev"), "n": len(self.brand_rows),
                **{c: _num(r[c], 2) for c in ("leadership", "relational", "expression", "engagement")},
                "indicators": inds.get(bid, {}), "handles": self.d.handles.get(bid, [])}, ensure_ascii=False)
            doc = f'{head[:-1]},"history":{{"dates":{dates},"leadership":[{lead[bi]}],"rank":[{rank[bi]}]}}}}\n'
            self.site.files[f"{DOWNLOADS}/brands/{self.slug[bid]}.json"] = doc.encode()

    def download_links(self, lang: str, day: date) -> list[dict[str, Any]]:
        """The date's files per table (CSV for French Excel, CSV, JSON); the workbook when there."""
        t = STRINGS[lang]
        when = Fmt(lang).date(day)
        out = []
        for table in DOWNLOAD_TABLES:
            name = t[f"table_{table}"]
            links = []
            if day in self.plan.downloads and day in self.d.table_dates.get(table, ()):
                base = f"{DOWNLOADS}/{day.isoformat()}/{table}"
                links = [{"fmt": label, "path": path, "label": t["download"].format(table=name, date=when, fmt=label)}
                         for label, path in ((t["csv_fr"], f"{base}-fr.csv"), (t["csv_en"], f"{base}.csv"),
                                             ("JSON", f"{base}.json"))]
            out.append({"table": name, "links": links, "pending": day in self.plan.pending
                        and day not in self.plan.downloads})
        if day in self.xlsx_dates:
            label = "XLSX"
            out.append({"table": "XLSX", "links": [{"fmt": label, "label": t["xlsx"].format(date=when),
                                                    "path": f"{DOWNLOADS}/{day.isoformat()}/{XLSX}"}],
                        "pending": False})
        else:
            out.append({"table": "XLSX", "links": [], "pending": False})
        return out

    def history_links(self, lang: str) -> list[dict[str, str]]:
        t = STRINGS[lang]
        out = [{"path": f"{HISTORY}/scores.parquet", "label": t["history_parquet"]}]
        for name, key in (("leadership", "history_leadership"), ("ranks", "history_ranks")):
            for suffix, label in (("-fr", t["csv_fr"]), ("", t["csv_en"])):
                out.append({"path": f"{HISTORY}/{name}{suffix}.csv", "label": f"{t[key]} ({label})"})
        return out


def _num(v: Any, digits: int = 6) -> float | None:
    if v is None:
        return None
    x = float(v)
    return round(x, digits) if np.isfinite(x) else None
