/* Pactboard dashboards: draw Vega-Lite charts (vega-embed bundle) and keep live pages calm.
 *
 * A chart is a <div data-vega-spec="ID"> next to a <script type="application/json" id="ID"> holding
 * its spec (made by pactboard/dashboards/charts.py). Live regions ([data-live]) are replaced by
 * HTMX when their data changes; new charts in them are drawn on htmx:load.
 */
(function () {
  "use strict";

  // The Content-Security-Policy allows no eval and no injected <style>: expressions run in Vega's
  // interpreter (ast), and the embed and tooltip styles come from static/css/vega-embed.css.
  var EMBED_OPTIONS = {
    renderer: "svg",
    ast: true,
    defaultStyle: false,
    forceActionsMenu: true,
    tooltip: { disableDefaultStyle: true },
    actions: { export: true, source: false, compiled: false, editor: false },
    i18n: { PNG_ACTION: "Save as PNG", SVG_ACTION: "Save as SVG" },
  };

  function drawCharts(root) {
    if (!root || !root.querySelectorAll) return;
    var charts = root.matches && root.matches("[data-vega-spec]") ? [root] : root.querySelectorAll("[data-vega-spec]");
    Array.prototype.forEach.call(charts, function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.vegaSpec);
      if (!source) return;
      if (typeof window.vegaEmbed !== "function") {
        el.textContent = "The chart could not be loaded; the table has every value.";
        return;
      }
      el.dataset.drawn = "1";
      window
        .vegaEmbed(el, JSON.parse(source.textContent), EMBED_OPTIONS)
        .then(function () {
          el.classList.add("is-drawn");
        })
        .catch(function (err) {
          el.textContent = "The chart could not be drawn (" + err.message + "); the table has every value.";
        });
    });
  }

  function announce(text) {
    var status = document.getElementById("live-status");
    if (status) status.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });

  document.addEventListener("htmx:load", function (evt) {
    var el = evt.target;
    drawCharts(el);
    if (el && el.matches && el.matches("[data-live]") && document.readyState === "complete") {
      // The server writes the time of the render in the engagement's zone, the zone named
      // (docs/formatting.md); the browser's own clock and zone would disagree with the page.
      if (el.dataset.updated) announce("Updated at " + el.dataset.updated + ".");
    }
  });

  // The values table under a KPI chart reloads when new values land, but never while someone is
  // typing in its entry form, nor right after they posted through it (its own answer is on screen).
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var slot = evt.detail.elt;
    if (!slot || !slot.hasAttribute || !slot.hasAttribute("data-live-reload")) return;
    var cause = evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent;
    if (!cause || cause.type === "load") return;
    var active = document.activeElement;
    var typing = active && slot.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    var justPosted = Date.now() - Number(slot.dataset.postedAt || 0) < 4000;
    if (typing || justPosted) evt.preventDefault();
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var cfg = evt.detail.requestConfig;
    if (!cfg || cfg.verb !== "post") return;
    var slot = evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("[data-live-reload]");
    if (slot) slot.dataset.postedAt = String(Date.now());
  });
})();
