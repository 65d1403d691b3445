// Filters and lazy chain pictures. Written for plain browsers: no library, no network.
(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("details.finding"));
  var text = document.getElementById("filter-text");
  var suppressed = document.getElementById("filter-suppressed");
  var count = document.getElementById("shown-count");
  var selects = Array.prototype.slice.call(document.querySelectorAll(".filters select"));
  if (!text) { return; }

  function apply() {
    var needles = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.dataset.key] = s.value; } });
    var shown = 0;
    findings.forEach(function (f) {
      var ok = suppressed.checked || f.dataset.suppressed === "no";
      for (var key in wanted) { if (f.dataset[key] !== wanted[key]) { ok = false; } }
      for (var i = 0; ok && i < needles.length; i++) { if (f.dataset.text.indexOf(needles[i]) < 0) { ok = false; } }
      f.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + findings.length + " finding(s)";
    document.querySelectorAll(".summary tr[data-filter-key]").forEach(function (row) {
      row.classList.toggle("active", wanted[row.dataset.filterKey] === row.dataset.filterValue);
    });
  }

  // A finding's picture and source are drawn the first time it is opened.
  function draw(finding) {
    var body = finding.querySelector("script.finding-body");
    if (!body) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = body.textContent;
    body.replaceWith.apply(body, Array.prototype.slice.call(holder.childNodes));
  }

  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("details.finding") && event.target.open) { draw(event.target); }
  }, true);
  text.addEventListener("input", apply);
  suppressed.addEventListener("change", apply);
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.querySelectorAll(".summary tr[data-filter-key]").forEach(function (row) {
    function choose() {
      var select = document.getElementById("filter-" + row.dataset.filterKey);
      select.value = select.value === row.dataset.filterValue ? "" : row.dataset.filterValue;
      apply();
    }
    row.addEventListener("click", choose);
    row.addEventListener("keydown", function (event) { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(); } });
  });
  apply();
  if (location.hash.length > 1) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.matches("details.finding")) { target.hidden = false; target.open = true; draw(target); }
  }
}());
