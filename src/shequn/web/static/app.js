// shequn workspace: CSRF header on every htmx request, charts drawn from data attributes.
// No inline scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  function csrf() { return document.body ? document.body.dataset.csrf || "" : ""; }
  document.addEventListener("htmx:configRequest", function (ev) {
    ev.detail.headers["X-CSRF-Token"] = csrf();
  });
  function drawCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(el.dataset.chart));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { drawCharts(ev.target); });
  // confirm buttons: <button data-confirm="...">
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.dataset.confirm)) { ev.preventDefault(); }
  });
})();
