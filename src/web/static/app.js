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

  // An approval's button names the role it grants, also after another
  // role is chosen.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!t || !t.hasAttribute || !t.hasAttribute("data-approve-role")) return;
    var b = t.form && t.form.querySelector("button.approve");
    var o = t.options[t.selectedIndex];
    if (b && o) b.textContent = "Approve as " + o.textContent;
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
})();
