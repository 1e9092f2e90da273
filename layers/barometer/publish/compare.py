"""The compare page (`comparer/`, `en/compare/`): two to four brands side by side.

Without JavaScript the page shows the default pair (the first two of the ranking), rendered at
build time: index, rank, attributes and the eight indicators in one table, and their index
history overlaid in one chart. With JavaScript (`compare.js`), the brands come from the query
string (`?b=sanofi,msd-france`, or the form's repeated `b`): the script fetches each brand's
`downloads/brands/<slug>.json` (same site) and redraws the table and the chart.
"""

from __future__ import annotations

from html import escape as esc
from typing import Any

from markupsafe import Markup

from barometer.definitions import ATTRIBUTES, INDICATORS
from barometer.publish import charts
from barometer.publish.base import VALUE_FORMAT, BuilderBase
from barometer.publish.i18n import STRINGS, Fmt, relative_root
from barometer.publish.ranks import history

MAX_BRANDS = 4
QUICK_PAIRS = ((0, 1), (0, 2), (1, 2), (2, 3))


class ComparePages(BuilderBase):
    def compare_page(self, lang: str) -> None:
        f, t = Fmt(lang), STRINGS[lang]
        key = self.path(lang, "compare")
        rows = self.brand_rows
        chosen = list(range(min(2, len(rows))))
        measures = self.measures(lang)
        table = self.compare_table(lang, chosen, measures)
        chart = self.compare_chart(lang, chosen)
        options = "".join(f'<option value="{self.slug[r["brand_id"]]}">{esc(r["brand_name"] or r["brand_id"])}'
                          f"</option>" for r in rows)
        pickers = []
        for i in range(MAX_BRANDS):
            sel = self.slug[rows[chosen[i]]["brand_id"]] if i < len(chosen) else ""
            opts = options if not sel else options.replace(f'value="{sel}">', f'value="{sel}" selected>', 1)
            none = f'<option value=""{"" if sel else " selected"}>{t["compare_none"]}</option>'
            pickers.append({"n": i + 1, "options": Markup(none + opts)})
        quick = []
        for a, b in QUICK_PAIRS:
            if b < len(rows):
                ra, rb = rows[a], rows[b]
                quick.append({"href": f"?b={self.slug[ra['brand_id']]},{self.slug[rb['brand_id']]}",
                              "label": t["compare_pair"].format(a=ra["brand_name"] or ra["brand_id"],
                                                                b=rb["brand_name"] or rb["brand_id"])})
        brand_prefix = relative_root(key) + self.path(lang, "brand", "\0").split("\0")[0]
        self.page(key, "compare.html.j2", lang, "compare", "", table=table, chart=chart, pickers=pickers,
                  quick=quick, measures=measures, brand_prefix=brand_prefix, title=t["compare_title"],
                  styles=[{"color": s.color, "dash": s.dash, "width": s.width} for s in charts.SERIES],
                  geometry={"left": charts.LEFT, "right": charts.RIGHT, "top": charts.TOP,
                            "bottom": charts.BOTTOM},
                  first=f.date(self.d.dates[0]) if self.d.dates else "")

    def measures(self, lang: str) -> list[dict[str, str]]:
        """The table's rows: (key, label, format) — the index, rank, attributes, indicators."""
        t = STRINGS[lang]
        out = [{"key": "leadership", "label": t["col_leadership"], "fmt": "score"},
               {"key": "rank", "label": t["rank"], "fmt": "rank"}]
        out += [{"key": a.id, "label": a.name_fr if lang == "fr" else a.name_en, "fmt": "score"} for a in ATTRIBUTES]
        out += [{"key": f"ind:{i.id}", "label": (i.name_fr if lang == "fr" else i.name_en)
                 + f" ({t[f'unit_{i.id}']})", "fmt": VALUE_FORMAT.get(i.id, "float")} for i in INDICATORS]
        return out

    def compare_table(self, lang: str, chosen: list[int], measures: list[dict[str, str]]) -> dict[str, Any]:
        f = Fmt(lang)
        inds: dict[str, dict[str, Any]] = {}
        ind = self.d.indicators
        if ind.num_rows:
            import pyarrow as pa
            import pyarrow.compute as pc

            ids = [self.brand_rows[i]["brand_id"] for i in chosen]
            now = ind.filter(pc.and_(pc.equal(ind["dt"], pa.scalar(self.d.dt, pa.date32())),
                                     pc.is_in(ind["brand_id"], pa.array(ids, pa.string()))))
            for b, i, v in zip(*(now[c].to_pylist() for c in ("brand_id", "indicator", "value")), strict=True):
                inds.setdefault(b, {})[i] = v
        heads = [{"name": r["brand_name"] or r["brand_id"], "slug": self.slug[r["brand_id"]]}
                 for r in (self.brand_rows[i] for i in chosen)]
        body = []
        for m in measures:
            cells = []
            for i in chosen:
                r = self.brand_rows[i]
                if m["key"] == "rank":
                    cells.append(str(r["rank"]))
                elif m["key"].startswith("ind:"):
                    cells.append(self.fmt_value(f, m["key"][4:], inds.get(r["brand_id"], {}).get(m["key"][4:])))
                else:
                    cells.append(f.num(r[m["key"]]))
            body.append({"key": m["key"], "label": m["label"], "cells": cells})
        return {"heads": heads, "rows": body}

    def compare_chart(self, lang: str, chosen: list[int]) -> Markup:
        t, f = STRINGS[lang], Fmt(lang)
        h = history(self)
        names = [self.brand_rows[i]["brand_name"] or self.brand_rows[i]["brand_id"] for i in chosen]
        x = charts.x_positions(h.dates)
        pts = charts.series_points(x, h.lead[chosen]) if chosen else []
        desc = t["compare_chart_desc"].format(start=f.date(h.dates[0]) if h.dates else "",
                                              end=f.date(h.dates[-1]) if h.dates else "")
        return charts.lines_svg("cmp", t["compare_chart_title"].format(names=", ".join(names)), desc,
                                charts.axes_svg(h.dates, lang), pts, charts.SERIES)
