/* Pactboard's page behaviour, kept out of the templates: the Content-Security-Policy runs no inline
 * script, no inline event handler (onclick=...), no hx-on code and no style attribute.
 *
 * - [data-submit-on-change]: a <select> that submits its form when changed (the organisation switcher).
 * - [data-swap-refusals]: an HTMX region whose 422 answers (a form with its errors) replace it like a 200.
 * - [data-meter="N"]: a bar N % wide; [data-min-height-rem="N"]: an element at least N rem tall.
 */
(function () {
  "use strict";

  function applySizes(root) {
    if (!root || !root.querySelectorAll) return;
    var meters = root.querySelectorAll("[data-meter]");
    Array.prototype.forEach.call(meters, function (el) {
      var pct = parseFloat(el.getAttribute("data-meter"));
      if (!isNaN(pct)) el.style.width = Math.max(0, Math.min(100, pct)) + "%";
    });
    var tall = root.querySelectorAll("[data-min-height-rem]");
    Array.prototype.forEach.call(tall, function (el) {
      var rem = parseFloat(el.getAttribute("data-min-height-rem"));
      if (!isNaN(rem)) el.style.minHeight = rem + "rem";
    });
  }

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.matches && el.matches("[data-submit-on-change]") && el.form) el.form.requestSubmit();
  });

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var host = evt.target && evt.target.closest && evt.target.closest("[data-swap-refusals]");
    if (host && evt.detail.xhr && evt.detail.xhr.status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applySizes(document);
  });
  document.addEventListener("htmx:load", function (evt) {
    applySizes(evt.target);
  });
})();
