// Pulse pages: a little behaviour on top of plain forms and links. Every
// page works without this file; htmx (boosting links and forms) is loaded
// beside it.
(function () {
  "use strict";

  // Controls that only the script makes work, and fallbacks it replaces.
  document.documentElement.classList.add("js");

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

  // 1,234,567 — the server's way of writing counts.
  function fmt(n) {
    return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // ---- Selection: row checkboxes, shift-click ranges, the page, all matching.
  var lastTicked = null;
  function ticks() { return Array.prototype.slice.call(document.querySelectorAll("input.sel")); }
  function ticked() { return ticks().filter(function (c) { return c.checked; }).length; }
  function showCount() {
    var bar = document.getElementById("bulk");
    var out = document.getElementById("sel-count");
    if (!bar || !out) return;
    var all = document.getElementById("sel-all");
    var n = ticked(), list = ticks();
    if (all && all.checked) out.textContent = "All " + fmt(+bar.getAttribute("data-total")) + " matching selected";
    else out.textContent = n === 0 ? "Tick rows to act on them" : fmt(n) + " selected";
    bar.classList.toggle("has-selection", n > 0 || (all && all.checked));
    var page = document.getElementById("sel-page");
    if (page) {
      page.checked = n > 0 && n === list.length;
      page.indeterminate = n > 0 && n < list.length;
    }
  }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.classList) return;
    if (t.classList.contains("sel")) {
      if (e.shiftKey && lastTicked && lastTicked !== t) {
        var list = ticks(), a = list.indexOf(lastTicked), b = list.indexOf(t);
        if (a >= 0 && b >= 0) {
          for (var i = Math.min(a, b); i <= Math.max(a, b); i++) list[i].checked = t.checked;
        }
      }
      lastTicked = t;
      showCount();
    } else if (t.id === "sel-page") {
      ticks().forEach(function (c) { c.checked = t.checked; });
      showCount();
    } else if (t.id === "sel-all") {
      showCount();
    }
  });
  document.addEventListener("htmx:afterSettle", function () { lastTicked = null; showCount(); });
  document.addEventListener("DOMContentLoaded", showCount);

  // ---- Bulk delete asks first, naming the count.
  var deleteForm = null;
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f || f.id !== "bulk") return;
    var by = e.submitter;
    if (!by || by.value !== "delete" || f.querySelector("input[name=confirm]")) return;
    var dialog = document.getElementById("confirm-delete");
    if (!dialog || !dialog.showModal) return; // the server's confirm page then
    var all = document.getElementById("sel-all");
    var n = all && all.checked ? +f.getAttribute("data-total") : ticked();
    if (n === 0) return; // the server says nothing was selected
    e.preventDefault();
    e.stopImmediatePropagation();
    deleteForm = f;
    document.getElementById("confirm-title").textContent = "Delete " + fmt(n) + (n === 1 ? " lead?" : " leads?");
    document.getElementById("confirm-text").textContent =
      (all && all.checked ? "Every lead matching the current filter — " + fmt(n) + " now — will be deleted. " : "") +
      "This cannot be undone.";
    document.getElementById("confirm-ok").textContent = "Delete " + fmt(n) + (n === 1 ? " lead" : " leads");
    dialog.returnValue = "";
    dialog.showModal();
  }, true);
  document.addEventListener("close", function (e) {
    var d = e.target;
    if (!d || d.id !== "confirm-delete" || !deleteForm) return;
    var f = deleteForm;
    deleteForm = null;
    if (d.returnValue !== "delete") return;
    [["action", "delete"], ["confirm", "yes"]].forEach(function (kv) {
      var i = document.createElement("input");
      i.type = "hidden"; i.name = kv[0]; i.value = kv[1];
      f.appendChild(i);
    });
    if (f.requestSubmit) f.requestSubmit(); else f.submit();
  }, true);

  // ---- Bulk Export: ask the server how the file comes, then download it,
  // follow its job, or wait out a busy server.
  function exportBox() { return document.getElementById("export-status"); }
  function exportSay(text, kind) {
    var box = exportBox();
    if (!box) return;
    box.hidden = false;
    box.classList.remove("failed", "busy", "done");
    if (kind) box.classList.add(kind);
    document.getElementById("export-msg").textContent = text;
  }
  function exportFigures(text) { var f = document.getElementById("export-figures"); if (f) f.textContent = text; }
  function exportFail(what, todo) {
    var p = document.getElementById("export-progress");
    if (p) p.hidden = true;
    exportSay(what + " " + todo, "failed");
    var b = document.getElementById("bulk-export");
    if (b) b.disabled = false;
  }
  function duration(s) {
    if (!isFinite(s)) return "";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    return m < 60 ? m + " min " + (s % 60) + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  // rows done / total, rate and time left from what the events say
  function progressText(done, total, rate) {
    var t = fmt(done) + " of " + fmt(total) + " rows";
    if (rate > 0) {
      t += " · " + fmt(rate) + " rows/s";
      if (total > done) t += " · about " + duration((total - done) / rate) + " left";
    }
    return t;
  }
  function Rate() { this.t0 = null; this.d0 = 0; }
  Rate.prototype.at = function (done) {
    var now = Date.now();
    if (this.t0 === null || done < this.d0) { this.t0 = now; this.d0 = done; return 0; }
    var s = (now - this.t0) / 1000;
    return s > 0.2 ? (done - this.d0) / s : 0;
  };
  function followExport(answer) {
    var p = document.getElementById("export-progress");
    var dl = document.getElementById("export-download");
    var rate = new Rate();
    p.hidden = false; p.max = Math.max(1, answer.total); p.value = 0;
    dl.hidden = true;
    exportSay("Exporting " + fmt(answer.total) + " leads in the background. You can leave this page; the file will be on the Exports page.");
    exportFigures(progressText(0, answer.total, 0));
    var es = new EventSource(answer.events);
    function update(ev) {
      var j;
      try { j = JSON.parse(ev.data); } catch (x) { return null; }
      var total = j.rows_total == null ? answer.total : j.rows_total;
      p.max = Math.max(1, total); p.value = j.rows_done;
      exportFigures(progressText(j.rows_done, total, rate.at(j.rows_done)));
      return j;
    }
    es.addEventListener("progress", update);
    es.addEventListener("end", function (ev) {
      es.close();
      var j = update(ev) || {};
      var b = document.getElementById("bulk-export");
      if (b) b.disabled = false;
      if (j.status === "done") {
        p.value = p.max;
        exportSay("Your export of " + fmt(j.rows_done) + " leads is ready.", "done");
        dl.href = answer.download; dl.hidden = false;
      } else if (j.status === "cancelled") {
        exportSay("The export was cancelled.", "failed");
      } else {
        exportFail("The export failed" + (j.error ? ": " + j.error + "." : "."),
          "Press Bulk Export to try again; if it fails again, the Exports page keeps the details for your admin.");
      }
    });
    es.addEventListener("error", function (ev) {
      if (ev.data) {
        es.close();
        exportFail("Following the export failed.", "The export goes on: open the Exports page to see it.");
      } else if (es.readyState === EventSource.CLOSED) {
        exportFail("The connection to the server was lost.", "The export goes on: open the Exports page to see it.");
      }
    });
  }
  function startExport(f, attempt) {
    var b = document.getElementById("bulk-export");
    if (b) b.disabled = true;
    exportSay(attempt ? "Trying again…" : "Preparing the export…");
    exportFigures("");
    fetch(f.getAttribute("action"), {
      method: "POST",
      body: new URLSearchParams(new FormData(f)),
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return [r, body]; });
    }).then(function (rb) {
      var r = rb[0], body = rb[1];
      if (r.status === 200 && body.download) {
        exportSay("Downloading " + fmt(body.total) + " leads — the file appears in your browser's downloads.", "done");
        if (b) b.disabled = false;
        var a = document.createElement("a");
        a.href = body.download;
        a.setAttribute("download", "");
        a.hidden = true;
        document.body.appendChild(a);
        a.click();
        a.remove();
      } else if (r.status === 202 && body.job) {
        followExport(body);
      } else if (r.status === 503 || r.status === 429) {
        var wait = +(body.retry_after || r.headers.get("Retry-After") || 2);
        var tick = function () {
          if (wait <= 0) { startExport(f, (attempt || 0) + 1); return; }
          exportSay("The server is busy, retrying in " + wait + " s.", "busy");
          wait -= 1;
          setTimeout(tick, 1000);
        };
        tick();
      } else if (r.status === 401) {
        exportFail("Your session has ended.", "Sign in again, then press Bulk Export.");
      } else {
        exportFail(body.detail || ("The server answered " + r.status + "."),
          r.status >= 500 ? "Press Bulk Export again in a minute; if it keeps failing, tell your admin the time it happened." : "");
      }
    }).catch(function () {
      exportFail("The server could not be reached.", "Check the connection, then press Bulk Export again.");
    });
  }
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f || f.id !== "export" || !window.fetch || !window.EventSource) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    startExport(f, 0);
  }, true);

  // ---- The Exports page: live progress of running jobs.
  function followRows() {
    Array.prototype.forEach.call(document.querySelectorAll("tr[data-events]"), function (tr) {
      if (tr.getAttribute("data-following")) return;
      tr.setAttribute("data-following", "1");
      var rate = new Rate();
      var es = new EventSource(tr.getAttribute("data-events"));
      var q = function (n) { return tr.querySelector("[data-field=" + n + "]"); };
      var update = function (ev) {
        var j;
        try { j = JSON.parse(ev.data); } catch (x) { return null; }
        var p = tr.querySelector("progress");
        var total = j.rows_total == null ? 0 : j.rows_total;
        q("status").textContent = j.status;
        if (j.status === "queued" || j.rows_total == null) {
          // not counted yet: the bar stays indeterminate
          if (p) p.removeAttribute("value");
          q("rows").textContent = j.status === "queued" ? "waiting to start" : "counting…";
          return j;
        }
        if (p) { p.max = Math.max(1, total); p.value = j.rows_done; }
        q("rows").textContent = fmt(j.rows_done) + " / " + fmt(total);
        var r = rate.at(j.rows_done);
        q("figures").textContent = r > 0 ? fmt(r) + " rows/s" + (total > j.rows_done ? " · about " + duration((total - j.rows_done) / r) + " left" : "") : "";
        return j;
      };
      es.addEventListener("progress", update);
      es.addEventListener("end", function (ev) {
        es.close();
        var j = update(ev);
        if (j && j.status === "done") q("download").hidden = false;
        // the rest of the row (size, cancel) as the server now shows it
        setTimeout(function () { window.location.reload(); }, 300);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", followRows);
  document.addEventListener("htmx:afterSettle", followRows);
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
  // ----- The import wizard's upload: drop a file on the zone; a file over
  // the size limit is refused here, beside the field, before it is sent.
  function zoneOf(t) { return t && t.closest ? t.closest(".dropzone") : null; }
  function fileCheck(input) {
    var zone = zoneOf(input), msg = document.getElementById("file-error");
    if (!zone || !msg) return true;
    var f = input.files && input.files[0], max = +zone.getAttribute("data-max-bytes");
    var bad = f && max && f.size > max ? "This file was not accepted: it is larger than " + zone.getAttribute("data-max-text") + " (the largest file an import takes)." : (f && f.size === 0 ? "This file was not accepted: the file is empty." : "");
    msg.textContent = bad; msg.hidden = !bad;
    zone.classList.toggle("invalid", !!bad);
    if (bad) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return !bad;
  }
  document.addEventListener("dragover", function (e) {
    var z = zoneOf(e.target);
    if (z) { e.preventDefault(); z.classList.add("over"); }
  });
  document.addEventListener("dragleave", function (e) {
    var z = zoneOf(e.target);
    if (z) z.classList.remove("over");
  });
  document.addEventListener("drop", function (e) {
    var z = zoneOf(e.target);
    if (!z || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    z.classList.remove("over");
    var input = z.querySelector("input[type=file]");
    if (input) { input.files = e.dataTransfer.files; fileCheck(input); }
  });
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "import-file") fileCheck(e.target);
  });
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f || f.id !== "upload-form") return;
    var input = document.getElementById("import-file");
    if (input && !fileCheck(input)) { e.preventDefault(); input.focus(); }
  }, true);
  // A running count or import: its job's server-sent progress on the bar,
  // then the page again with the result.
  function followImport() {
    var box = document.querySelector("[data-import-events]");
    if (!box || !window.EventSource || box.getAttribute("data-following")) return;
    box.setAttribute("data-following", "1");
    var es = new EventSource(box.getAttribute("data-import-events"));
    var bar = box.querySelector("progress"), rows = document.getElementById("job-rows"),
      st = document.getElementById("job-status");
    function update(ev) {
      var j;
      try { j = JSON.parse(ev.data); } catch (x) { return; }
      if (st) st.textContent = j.status === "queued" ? "Waiting" : "Running";
      if (rows) rows.textContent = (j.rows_done || 0).toLocaleString("en-IN") + " rows read";
      if (bar && j.result && j.result.rows_read) { bar.max = j.result.rows_read; bar.value = j.rows_done; }
    }
    es.addEventListener("progress", update);
    es.addEventListener("end", function () { es.close(); window.location.reload(); });
    es.addEventListener("error", function () {
      if (es.readyState === EventSource.CLOSED) setTimeout(function () { window.location.reload(); }, 2000);
    });
  }
  followImport();
  document.addEventListener("htmx:load", followImport);
  // ----- end of the import wizard -----
})();
