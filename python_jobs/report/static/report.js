// Sorting and filtering of the picks table (no dependencies, works from file://).
(function () {
  "use strict";
  function cellValue(td) {
    var v = td.getAttribute("data-value");
    if (v === null) { v = td.textContent.trim(); }
    return v;
  }
  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a), y = parseFloat(b);
      var xn = isNaN(x), yn = isNaN(y);
      if (xn && yn) { return 0; } if (xn) { return 1; } if (yn) { return -1; }
      return x - y;
    }
    return a.localeCompare(b);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var asc = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(cellValue(r1.cells[index]), cellValue(r2.cells[index]), numeric);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var table = document.getElementById("picks");
  if (!table) { return; }
  var controls = {
    search: document.getElementById("f-search"),
    system: document.getElementById("f-system"),
    rec: document.getElementById("f-rec"),
    minConf: document.getElementById("f-minconf"),
    hideNoLine: document.getElementById("f-hide-noline"),
    staleOnly: document.getElementById("f-stale")
  };
  var counter = document.getElementById("f-count");
  function apply() {
    var q = controls.search.value.trim().toLowerCase();
    var sys = controls.system.value, rec = controls.rec.value;
    var minConf = parseFloat(controls.minConf.value);
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var d = row.dataset;
      // one row per player: with a system chosen, the recommendation filter reads that system's
      var recs = {};
      d.recs.split(" ").forEach(function (pair) { var i = pair.lastIndexOf(":"); if (i > 0) { recs[pair.slice(0, i)] = pair.slice(i + 1); } });
      var r = sys ? recs[sys] : d.rec;
      var ok = (!q || d.player.indexOf(q) !== -1) &&
        (!sys || recs[sys] !== undefined) &&
        (!rec || r === rec || (rec === "BET" && (r === "OVER" || r === "UNDER"))) &&
        (isNaN(minConf) || (d.confidence !== "" && parseFloat(d.confidence) >= minConf)) &&
        (!controls.hideNoLine.checked || d.rec !== "NO_LINE") &&
        (!controls.staleOnly.checked || d.stale === "1");
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    counter.textContent = shown + " of " + table.tBodies[0].rows.length + " players shown";
  }
  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener("input", apply);
    controls[k].addEventListener("change", apply);
  });
  apply();
})();
// Plots are drawn while the page is still laid out; fit them to their final boxes once loaded.
window.addEventListener("load", function () {
  "use strict";
  if (!window.Plotly) { return; }
  document.querySelectorAll("div.plotly-graph-div").forEach(function (div) { window.Plotly.Plots.resize(div); });
});
