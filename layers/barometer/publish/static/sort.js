/* Opinion Barometer: optional table sorting. The tables are complete and readable without it. */
(function () {
  "use strict";
  function value(cell, type) {
    var v = cell.getAttribute("data-v");
    if (type === "text") { return (cell.textContent || "").trim().toLocaleLowerCase(); }
    if (v === null) {
      v = (cell.textContent || "").replace(/[\s\u202f\u00a0]/g, "").replace("\u2212", "-").replace(",", ".");
    }
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(table, index, type, th) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var keyed = rows.map(function (row, i) { return [value(row.cells[index], type), i, row]; });
    keyed.sort(function (a, b) {
      var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
      if (type === "text") { c = String(a[0]).localeCompare(String(b[0])); }
      return (dir === "ascending" ? c : -c) || a[1] - b[1];
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[2]); });
    tbody.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  function init(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(head.cells, function (th, index) {
      var type = th.getAttribute("data-type") || "num";
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      if (index === 0) { th.setAttribute("aria-sort", "ascending"); }
      button.addEventListener("click", function () { sortBy(table, index, type, th); });
    });
    var hint = table.parentNode.parentNode.querySelector(".js-only");
    if (hint) { hint.hidden = false; }
  }
  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), init);
}());
