// Pulse pages: a little behaviour on top of plain forms and links. Every
// page works without this file; htmx (boosting links and forms) is loaded
// beside it.
(function () {
  "use strict";

  // Filters apply as soon as a select, checkbox or date changes; text
  // fields apply on Enter or with the Apply button.
  document.addEventListener("change", function (e) {
    var t = e.target;
    var form = t && t.form;
    if (!form || !form.hasAttribute("data-autosubmit")) return;
    if (t.tagName === "SELECT" || t.type === "checkbox" || t.type === "date") {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });

  // "/" jumps to the search field, as in most web apps.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var a = document.activeElement;
    if (a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT" || a.isContentEditable)) return;
    var s = document.getElementById("f-search");
    if (s) { e.preventDefault(); s.focus(); s.select(); }
  });

  // After htmx swaps a page in, move focus to its content so keyboard and
  // screen-reader users start at the top of the new page.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.boosted) {
      var err = document.querySelector(".field.invalid input, .field.invalid select, [role=alert]");
      var main = document.getElementById("main");
      if (err && err.focus && err.tagName !== "P") err.focus();
      else if (main) main.focus({ preventScroll: true });
    }
  });

  // ----- Telecaller desk (/desk, issue 21) -----
  // After an outcome swaps a lead's card, focus moves to the card's message,
  // so a keyboard or screen-reader user hears what was recorded and goes on
  // from that card (the button they pressed was replaced).
  // (After the other settle handlers, which move focus to <main> on boosted
  // swaps: the card's forms are boosted, and the figures settle too.)
  document.addEventListener("htmx:afterSettle", function () {
    setTimeout(function () {
      var f = document.querySelector("[data-desk-focus]");
      if (f) { f.removeAttribute("data-desk-focus"); f.focus({ preventScroll: true }); }
    }, 0);
  });
  // ----- end of the telecaller desk -----
})();
