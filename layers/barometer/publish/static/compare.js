/* Opinion Barometer: the compare page's brands from the query string (?b=a,b or repeated b=).
   Without it the page shows its default pair, rendered at build time. */
(function () {
  "use strict";
  var box = document.getElementById("compare");
  if (!box || !window.fetch || !window.URLSearchParams) { return; }
  var SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
  var slugs = [];
  new URLSearchParams(window.location.search).getAll("b").forEach(function (v) {
    v.split(",").forEach(function (s) {
      s = s.trim();
      if (SLUG.test(s) && slugs.indexOf(s) < 0 && slugs.length < 4) { slugs.push(s); }
    });
  });
  if (slugs.length < 2) { return; }
  var lang = box.getAttribute("data-lang");
  var root = box.getAttribute("data-root");
  var prefix = box.getAttribute("data-brand-prefix");
  var styles = JSON.parse(box.getAttribute("data-styles"));
  var geo = JSON.parse(box.getAttribute("data-geometry"));
  var selects = document.querySelectorAll("form.pick select");
  Array.prototype.forEach.call(selects, function (sel, i) { sel.value = slugs[i] || ""; });
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.textContent = box.getAttribute("data-loading");
  box.insertBefore(status, box.firstChild);
  Promise.all(slugs.map(function (s) {
    return fetch(root + "downloads/brands/" + s + ".json").then(function (r) {
      if (!r.ok) { throw new Error(s); }
      return r.json();
    });
  })).then(function (brands) {
    render(brands);
    status.textContent = "";
  }).catch(function () { status.textContent = box.getAttribute("data-failed"); });

  function number(v, digits) {
    return new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB",
      {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(v).replace("-", "\u2212");
  }
  function format(v, fmt) {
    if (v === null || v === undefined || !isFinite(v)) { return "\u2014"; }
    var pct = lang === "fr" ? "\u202f%" : "%";
    if (fmt === "rank") { return String(v); }
    if (fmt === "int") { return number(v, 0); }
    if (fmt === "growth") { return (v >= 0 ? "+" : "\u2212") + number(Math.abs(v * 100), 0) + pct; }
    if (fmt === "rate") { return number(v, 3) + pct; }
    if (fmt === "float4") { return number(v, 4); }
    if (fmt === "score") { return number(v, 1); }
    return number(v, 2);
  }
  function value(b, key) {
    if (key === "rank") { return b.rank; }
    if (key.indexOf("ind:") === 0) { return (b.indicators[key.slice(4)] || {}).value; }
    return b[key];
  }
  function render(brands) {
    var table = box.querySelector("table.cmp");
    var head = table.tHead.rows[0];
    while (head.cells.length > 1) { head.deleteCell(1); }
    brands.forEach(function (b) {
      var th = document.createElement("th");
      th.scope = "col";
      var a = document.createElement("a");
      a.href = prefix + b.slug + "/";
      a.textContent = b.name;
      th.appendChild(a);
      head.appendChild(th);
    });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      while (tr.cells.length > 1) { tr.deleteCell(1); }
      brands.forEach(function (b) {
        var td = document.createElement("td");
        td.textContent = format(value(b, tr.getAttribute("data-key")), tr.getAttribute("data-fmt"));
        tr.appendChild(td);
      });
    });
    var names = brands.map(function (b) { return b.name; }).join(", ");
    var svg = box.querySelector("svg.chart");
    var ns = "http://www.w3.org/2000/svg";
    Array.prototype.forEach.call(svg.querySelectorAll("polyline"), function (p) { p.remove(); });
    svg.querySelector("title").textContent = box.getAttribute("data-title").replace("{names}", names);
    brands.forEach(function (b, i) {
      var dates = b.history.dates.map(function (d) { return Date.parse(d); });
      var t0 = dates[0], span = dates[dates.length - 1] - t0;
      var pts = [];
      b.history.leadership.forEach(function (v, j) {
        if (v === null) { return; }
        var x = span > 0 ? geo.left + (dates[j] - t0) / span * (geo.right - geo.left) : (geo.left + geo.right) / 2;
        var y = geo.bottom - Math.max(0, Math.min(100, v)) / 100 * (geo.bottom - geo.top);
        pts.push(x.toFixed(1) + "," + y.toFixed(1));
      });
      var line = document.createElementNS(ns, "polyline");
      var st = styles[i];
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", st.color);
      line.setAttribute("stroke-width", st.width);
      if (st.dash) { line.setAttribute("stroke-dasharray", st.dash); }
      line.setAttribute("points", pts.join(" "));
      svg.appendChild(line);
    });
    var legend = box.querySelector(".legend");
    var items = legend.querySelectorAll("li");
    var model = items[0];
    Array.prototype.forEach.call(items, function (li) { li.remove(); });
    brands.forEach(function (b, i) {
      var li = model.cloneNode(true);
      var line = li.querySelector("line");
      line.setAttribute("stroke", styles[i].color);
      line.setAttribute("stroke-width", styles[i].width);
      if (styles[i].dash) { line.setAttribute("stroke-dasharray", styles[i].dash); }
      else { line.removeAttribute("stroke-dasharray"); }
      li.lastChild.textContent = " " + b.name;
      legend.appendChild(li);
    });
  }
}());
