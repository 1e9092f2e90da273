"""Vectorised text building with Arrow compute: HTML table rows, numbers, JSON records, CSV.

The site's big tables (the leaderboard of every archived date, 1,000 brands × 365 dates) are
built here column-wise in C++ instead of row by row in Python or Jinja. Every text that
comes from data goes through `html_escape`, which escapes exactly like markupsafe (the
templates' autoescape), so a brand named `<script>` shows as text whichever path renders it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from barometer.publish.i18n import MISSING, STRINGS

_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;"))
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _arr(x: pa.Array | pa.ChunkedArray) -> pa.Array:
    return x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x


def html_escape(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """HTML-escape a string array (null → empty), as markupsafe.escape does."""
    def escape(v: pa.Array) -> pa.Array:
        out = pc.fill_null(pc.cast(v, pa.string()), "")
        for a, b in _HTML_ESCAPES:
            out = pc.replace_substring(out, a, b)
        return out

    return by_value(values, escape)


def safe_slug(brand_id: str) -> str:
    """A URL path segment for a brand id: the id itself when it is a valid panel id, else a hash."""
    if SLUG_RE.match(brand_id or ""):
        return brand_id
    return "b-" + hashlib.sha256((brand_id or "").encode()).hexdigest()[:12]


def slugs(brand_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    enc = pc.dictionary_encode(_arr(brand_ids).cast(pa.string()))
    mapped = pa.array([safe_slug(v) for v in enc.dictionary.to_pylist()], pa.string())
    return mapped.take(enc.indices)


def _finite(x: pa.Array) -> pa.Array:
    x = pc.cast(x, pa.float64())
    return pc.if_else(pc.is_finite(x), x, pa.scalar(None, pa.float64()))


DISTINCT_MIN_ROWS = 2048  # from this many values, texts are made once per distinct value (see `by_value`)


def by_value(values: pa.Array | pa.ChunkedArray, text: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`text(values)` for a function that makes each value's text from the value alone, computed
    once per distinct value when the values repeat (a column of a few hundred dates, brands or
    rounded scores over a long history): the same array, for a hash pass and a take."""
    v = _arr(values)
    if len(v) < DISTINCT_MIN_ROWS:
        return text(v)
    enc = pc.dictionary_encode(v, null_encoding="encode")
    if 2 * len(enc.dictionary) > len(v):
        return text(v)
    return text(enc.dictionary).take(enc.indices)


def _scaled(values: pa.Array | pa.ChunkedArray, digits: int) -> pa.Array:
    """The values × 10**digits, rounded (half to even); null for null, NaN and infinities."""
    x = pc.cast(_arr(values), pa.float64())
    if x.null_count > 0 or not pc.all(pc.is_finite(x)).as_py():
        x = _finite(x)
    return pc.round(pc.multiply(x, float(10**digits)))


def _scaled_text(v: pa.Array, digits: int, dec: str, missing: str, minus: str | None) -> pa.Array:
    """Fixed-point text of `_scaled` values, each from its value alone (see `fixed`)."""
    scale = 10**digits
    lowest = pc.min(v).as_py()
    neg = lowest is not None and lowest < 0
    a = pc.cast(pc.fill_null(pc.abs(v) if neg else v, 0.0), pa.int64())
    ip = pc.divide(a, scale)  # integer division
    text = pc.cast(ip, pa.string())
    if digits:
        fp = pc.cast(pc.subtract(a, pc.multiply(ip, scale)), pa.string())
        if digits > 1:
            fp = pc.utf8_lpad(fp, digits, "0")
        text = pc.binary_join_element_wise(text, fp, dec)
    if neg:
        minus = minus or ("−" if dec == "," else "-")
        text = pc.if_else(pc.and_(pc.fill_null(pc.less(v, 0.0), False), pc.not_equal(a, 0)),
                          pc.binary_join_element_wise(minus, text, ""), text)
    return pc.if_else(pc.is_null(v), missing, text) if v.null_count else text


def fixed(values: pa.Array | pa.ChunkedArray, digits: int = 1, dec: str = ".", missing: str = MISSING,
          minus: str | None = None) -> pa.Array:
    """Fixed-point text of numbers (1 digit: 84.25 → '84.3'); null/NaN → `missing`. Minus is '−'
    when `dec` is ',' (display), '-' otherwise (machine values), unless `minus` says."""
    return by_value(_scaled(values, digits), lambda v: _scaled_text(v, digits, dec, missing, minus))


def ints(values: pa.Array | pa.ChunkedArray, missing: str = MISSING) -> pa.Array:
    v = _arr(values)
    return pc.fill_null(pc.cast(pc.cast(v, pa.int64()), pa.string()), missing)


def join(*parts: Any) -> pa.Array:
    """Concatenate string arrays and scalars element-wise."""
    return pc.binary_join_element_wise(*parts, "")


NO_PREV = -(10**9)
BAND_BASE = 10**7
SCORE_COLUMNS = ("leadership", "relational", "expression", "engagement")


@dataclass(frozen=True)
class Keyed:
    """A column as its distinct values and, per row, the index of its value: a text made for
    each distinct value becomes the column's text with one take."""

    values: pa.Array
    index: pa.Array

    @classmethod
    def of(cls, values: pa.Array | pa.ChunkedArray) -> Keyed:
        enc = pc.dictionary_encode(_arr(values), null_encoding="encode")
        return cls(enc.dictionary, enc.indices)

    def take(self, texts: pa.Array | list[str]) -> pa.Array:
        """The rows' texts from `texts`, one per distinct value (in `values` order)."""
        return (texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())).take(self.index)


def leaderboard_columns(scores: pa.Table) -> dict[str, Keyed]:
    """The language-independent parts of the leaderboard rows (computed once for all languages):
    each as distinct values and an index, so that a language's texts are made per distinct value."""
    out = {f"num:{c}": Keyed.of(_scaled(scores[c], 1)) for c in SCORE_COLUMNS}
    name = html_escape(pc.coalesce(_arr(scores["brand_name"]), _arr(scores["brand_id"])))
    out["brand"] = Keyed.of(join(slugs(scores["brand_id"]), '/">', name, "</a></th>"))
    out["rank"] = Keyed.of(ints(scores["rank"]))
    rank = _arr(scores["rank"])
    out["change"] = Keyed.of(pc.fill_null(pc.subtract(_arr(scores["rank_prev"]), rank), NO_PREV))
    low = pc.fill_null(_arr(scores["rank_low"]), -1)
    high = pc.fill_null(_arr(scores["rank_high"]), -1)
    out["band"] = Keyed.of(pc.add(pc.multiply(pc.add(low, 1), BAND_BASE), pc.add(high, 1)))
    return out


def _change_cell(t: dict[str, str], d: int) -> str:
    if d == NO_PREV:
        return f'<td data-v="" class="new">{t["new"]}</td>'
    if d == 0:
        return ('<td data-v="0" class="eq"><span aria-hidden="true">=</span>'
                f'<span class="vh">{t["same"]}</span></td>')
    cls, sym, text = ("up", "▲", t["up"]) if d > 0 else ("dn", "▼", t["down"])
    return (f'<td data-v="{d}" class="{cls}"><span aria-hidden="true">{sym} {abs(d)}</span>'
            f'<span class="vh">{text.format(n=abs(d))}</span></td>')


def _band_cell(k: int) -> str:
    lo, hi = divmod(k, BAND_BASE)
    lo, hi = lo - 1, hi - 1
    if lo < 0 or hi < 0:
        return f"<td>{MISSING}</td>"
    return f"<td>{lo}</td>" if lo == hi else f"<td>{lo}–{hi}</td>"


def _score_cells(scaled: pa.Array, dec: str, bars: bool) -> pa.Array:
    """The cells of rounded scores (`_scaled`, 1 digit): a meter with the machine value when
    `bars`, the value shown with `dec` (and a '−' with a decimal comma)."""
    machine = _scaled_text(scaled, 1, ".", "", None)
    shown = machine
    if dec != ".":
        shown = pc.replace_substring(pc.replace_substring(machine, ".", dec), "-", "−")
    if bars:
        cell = join('<td><meter max="100" value="', machine, '" aria-hidden="true"></meter>', shown, "</td>")
    else:
        cell = join("<td>", shown, "</td>")
    return pc.if_else(pc.equal(machine, ""), f"<td>{MISSING}</td>", cell)


def leaderboard_rows(scores: pa.Table, lang: str, brand_prefix: str, bars: bool,
                     columns: dict[str, Keyed] | None = None) -> pa.Array:
    """One `<tr>` per scores row (in table order): rank, change, brand, leadership, the three
    attributes, rank band. `brand_prefix` is the relative href prefix of brand pages;
    `columns` = `leaderboard_columns(scores)` when already computed."""
    t = STRINGS[lang]
    dec = "," if lang == "fr" else "."
    if scores.num_rows == 0:
        return pa.array([], pa.string())
    cols = columns if columns is not None else leaderboard_columns(scores)
    rank, change, brand, band = cols["rank"], cols["change"], cols["brand"], cols["band"]
    parts = [rank.take(join("<tr><td>", rank.values, "</td>")),
             change.take([_change_cell(t, d) for d in change.values.to_pylist()]),
             brand.take(join('<th scope="row"><a href="', brand_prefix, brand.values))]
    for col in SCORE_COLUMNS:
        k = cols[f"num:{col}"]
        parts.append(k.take(_score_cells(k.values, dec, bars)))
    parts.append(band.take([_band_cell(k) for k in band.values.to_pylist()]))
    return join(*parts, "</tr>\n")


def group_bounds(keys: pa.Array | pa.ChunkedArray) -> list[tuple[Any, int, int]]:
    """(key, start, stop) of each run of equal values in a sorted array."""
    k = _arr(keys)
    n = len(k)
    if n == 0:
        return []
    if n == 1:
        return [(k[0].as_py(), 0, 1)]
    change = pc.not_equal(k.slice(1), k.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(change) + 1])
    stops = np.concatenate([starts[1:], [n]])
    vals = k.take(pa.array(starts)).to_pylist()
    return list(zip(vals, starts.tolist(), stops.tolist(), strict=True))


def concat_groups(rows: pa.Array, bounds: list[tuple[Any, int, int]], sep: str = "") -> list[str]:
    """Join `rows` within each group into one string (vectorised through a list array)."""
    if not bounds:
        return []
    offsets = pa.array([b[1] for b in bounds] + [bounds[-1][2]], pa.int32())
    lists = pa.ListArray.from_arrays(offsets, rows)
    return pc.binary_join(lists, sep).to_pylist()


def concat_groups_bytes(rows: pa.Array, bounds: list[tuple[Any, int, int]], sep: str = "") -> list[bytes]:
    """`concat_groups` as UTF-8 bytes (no round trip through Python strings)."""
    if not bounds:
        return []
    offsets = pa.array([b[1] for b in bounds] + [bounds[-1][2]], pa.int32())
    lists = pa.ListArray.from_arrays(offsets, rows)
    return pc.cast(pc.binary_join(lists, sep), pa.binary()).to_pylist()


def concat_groups_views(rows: pa.Array, bounds: list[tuple[Any, int, int]], sep: str = "") -> list[memoryview]:
    """`concat_groups` as UTF-8 views into one Arrow buffer (no copy per group): for bodies that
    are copied once more anyway (`b"".join` with a page's head and tail)."""
    if not bounds:
        return []
    offsets = pa.array([b[1] for b in bounds] + [bounds[-1][2]], pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, rows), sep)
    if joined.null_count or not pa.types.is_string(joined.type):
        return [memoryview(b) for b in pc.cast(joined, pa.binary()).to_pylist()]
    ends = np.frombuffer(joined.buffers()[1], np.int32, len(joined) + 1, joined.offset * 4).tolist()
    data = memoryview(joined.buffers()[2] or b"")
    return [data[a:b] for a, b in pairwise(ends)]


# -- downloads -------------------------------------------------------------------------------
_CTRL = re.compile(r"[\x00-\x1f]")


def _json_strings(v: pa.Array) -> pa.Array:
    s = pc.cast(v, pa.string())
    if pc.any(pc.match_substring_regex(pc.fill_null(s, ""), r"[\x00-\x08\x0b\x0c\x0e-\x1f]")).as_py():
        return pa.array([None if x is None else json.dumps(x, ensure_ascii=False) for x in s.to_pylist()],
                        pa.string())
    s = pc.replace_substring(s, "\\", "\\\\")
    s = pc.replace_substring(s, '"', '\\"')
    for a, b in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        s = pc.replace_substring(s, a, b)
    return join('"', s, '"')


def json_values(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """JSON text of every value of a column (null → null)."""
    v = _arr(col)
    t = v.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = by_value(v, _json_strings)
    elif pa.types.is_floating(t):
        out = by_value(v, lambda x: pc.cast(_finite(x), pa.string()))
    elif pa.types.is_integer(t) or pa.types.is_boolean(t):
        out = pc.cast(v, pa.string())
    elif pa.types.is_date(t):
        out = by_value(v, lambda x: join('"', pc.cast(x, pa.string()), '"'))
    elif pa.types.is_timestamp(t):
        out = by_value(v, lambda x: join('"', pc.strftime(x, "%Y-%m-%dT%H:%M:%S"), '"'))
    else:
        out = pa.array([None if x is None else json.dumps(x, ensure_ascii=False, default=str)
                        for x in v.to_pylist()], pa.string())
    return pc.fill_null(out, "null")


def json_records(table: pa.Table) -> pa.Array:
    """One JSON object text per row, keys in column order."""
    parts: list[Any] = []
    for i, name in enumerate(table.column_names):
        parts.append(("{" if i == 0 else ",") + json.dumps(name) + ":")
        parts.append(json_values(table[name]))
    parts.append("}")
    if table.num_rows == 0:
        return pa.array([], pa.string())
    return join(*parts)


def json_documents(table: pa.Table, bounds: list[tuple[Any, int, int]]) -> list[bytes]:
    """A JSON array of objects per group of rows."""
    recs = json_records(table)
    return [b"".join((b"[\n", s, b"\n]\n")) for s in concat_groups_views(recs, bounds, ",\n")]


def csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return buf.getvalue()


# Digits of the rounded values in the spreadsheet CSV files (other float columns: 4).
CSV_DIGITS = {"leadership": 2, "relational": 2, "expression": 2, "engagement": 2, "score": 2, "contribution": 3,
              "coverage": 3}
BOM = "\ufeff".encode()


def _csv_strings(s: pa.Array) -> pa.Array:
    s = pc.replace_substring_regex(pc.cast(s, pa.string()), r"^([=+\-@\t\r])", r"'\1")
    return pc.fill_null(join('"', pc.replace_substring(s, '"', '""'), '"'), "")


def csv_text(col: pa.Array | pa.ChunkedArray, name: str, dec: str) -> pa.Array:
    """A column as CSV fields for a spreadsheet: strings quoted (and a leading `=`, `+`, `-` or `@`
    made inert with an apostrophe), numbers rounded with `dec` and an ASCII minus, null → empty."""
    v = _arr(col)
    t = v.type
    if pa.types.is_floating(t):
        return fixed(v, CSV_DIGITS.get(name, 4), dec, missing="", minus="-")
    if pa.types.is_integer(t):
        return ints(v, missing="")
    if pa.types.is_boolean(t):
        return pc.fill_null(pc.if_else(v, "true", "false"), "")
    if pa.types.is_date(t):
        return by_value(v, lambda x: pc.fill_null(pc.cast(x, pa.string()), ""))
    if pa.types.is_timestamp(t):
        return by_value(v, lambda x: pc.fill_null(pc.strftime(x, "%Y-%m-%d %H:%M:%S"), ""))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return by_value(v, _csv_strings)
    return _csv_strings(pa.array([None if x is None else json.dumps(x, ensure_ascii=False, default=str)
                                  for x in v.to_pylist()], pa.string()))


def excel_csv(table: pa.Table, sep: str = ",", dec: str = ".") -> bytes:
    """CSV that spreadsheets open right: UTF-8 with a byte-order mark, CRLF, `sep` between fields,
    rounded numbers with `dec` (French Excel: `;` and `,`)."""
    return excel_csvs(table, ((sep, dec),))[0]


def excel_csvs(table: pa.Table, variants: tuple[tuple[str, str], ...]) -> list[bytes]:
    """`excel_csv` of one table for several (separator, decimal mark) pairs."""
    return [files[0] for files in excel_csv_groups(table, [(None, 0, table.num_rows)], variants)]


def excel_csv_groups(table: pa.Table, bounds: list[tuple[Any, int, int]], variants: tuple[tuple[str, str], ...]
                     ) -> list[list[bytes]]:
    """`excel_csv` of each group of rows (`group_bounds`) for several (separator, decimal mark)
    pairs: per variant, a file per group. The columns are formatted once for every group and
    variant (a decimal comma is the decimal point's text with the point replaced)."""
    heads = [BOM + (sep.join(table.column_names) + "\r\n").encode() for sep, _ in variants]
    if table.num_rows == 0:
        return [[h for _ in bounds] for h in heads]
    texts = {name: csv_text(table[name], name, ".") for name in table.column_names}
    floats = {name for name in table.column_names if pa.types.is_floating(table[name].type)}
    out = []
    for (sep, dec), head in zip(variants, heads, strict=True):
        parts: list[Any] = []
        for i, name in enumerate(table.column_names):
            if i:
                parts.append(sep)
            text = texts[name]
            parts.append(pc.replace_substring(text, ".", dec) if dec != "." and name in floats else text)
        rows = join(*parts, "\r\n")
        out.append([b"".join((head, body)) for body in concat_groups_views(rows, bounds)])
    return out
