// The proposal form: rows added and removed, Enter does not send the long form, drafts kept in
// this browser until they are saved (so an expired session loses nothing), printing.
(function () {
  var clearing = document.querySelector("[data-clear-keys]");
  function storageKey(key) { return "seedbed-draft:" + key; }
  function store() { try { return window.localStorage; } catch (e) { return null; } }
  if (clearing && store()) {
    (clearing.getAttribute("data-clear-keys") || "").split(" ").forEach(function (key) {
      if (key) { store().removeItem(storageKey(key)); }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".print-page");
    if (button) { window.print(); }
  });

  var form = document.getElementById("application-form");
  if (!form) { return; }

  // --- repeating rows ---------------------------------------------------------------------
  function renumber(table) {
    var prefix = table.getAttribute("data-prefix");
    table.querySelectorAll("tbody tr.repeat-row").forEach(function (row, n) {
      row.querySelectorAll("[name], [for], [id]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && value.indexOf(prefix + "-") === 0) {
            el.setAttribute(attr, value.replace(new RegExp("^" + prefix + "-\\d+-"), prefix + "-" + n + "-"));
          }
        });
      });
      var remove = row.querySelector(".remove-row");
      if (remove) { remove.setAttribute("aria-label", remove.textContent + " " + (n + 1)); }
    });
    table.dispatchEvent(new Event("rows-changed"));
  }
  function addRow(table) {
    var rows = table.querySelectorAll("tbody tr.repeat-row");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.classList.remove("has-error", "has-hint");
    copy.querySelectorAll(".row-error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("input").forEach(function (el) { el.value = /quantity$/.test(el.name) ? "1" : ""; el.removeAttribute("aria-invalid"); });
    copy.querySelectorAll(".line-amount").forEach(function (el) { el.textContent = "—"; });
    last.parentNode.appendChild(copy);
    renumber(table);
    return copy;
  }
  form.addEventListener("click", function (event) {
    var add = event.target.closest(".add-row");
    if (add) {
      var table = document.getElementById(add.getAttribute("data-table"));
      var row = addRow(table);
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
      saveSoon();
      return;
    }
    var remove = event.target.closest(".remove-row");
    if (remove) {
      var row2 = remove.closest("tr");
      var table2 = row2.closest("table");
      if (table2.querySelectorAll("tbody tr.repeat-row").length > 1) {
        row2.remove();
      } else {
        row2.querySelectorAll("input").forEach(function (el) { el.value = ""; });
        row2.querySelectorAll(".row-error").forEach(function (el) { el.remove(); });
      }
      renumber(table2);
      var heading = document.getElementById(table2.getAttribute("aria-labelledby"));
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      saveSoon();
    }
  });

  // --- Enter in a one-line field moves on instead of sending the whole form ----------------
  form.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key === "Enter" && el.tagName === "INPUT" && el.type !== "submit" && el.type !== "button") {
      event.preventDefault();
    }
  });

  // --- drafts kept in this browser ---------------------------------------------------------
  var key = storageKey(form.getAttribute("data-draft-key") || form.getAttribute("action"));
  var timer = null;
  function snapshot() {
    var values = [];
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "hidden" || el.type === "file" || el.type === "submit") { return; }
      values.push([el.name, el.value]);
    });
    var counts = {};
    form.querySelectorAll("table.repeat").forEach(function (t) { counts[t.id] = t.querySelectorAll("tbody tr.repeat-row").length; });
    return { at: new Date().toISOString(), counts: counts, values: values };
  }
  function save() {
    if (!store()) { return; }
    try { store().setItem(key, JSON.stringify(snapshot())); } catch (e) { /* storage full or off */ }
  }
  function saveSoon() { window.clearTimeout(timer); timer = window.setTimeout(save, 400); }
  function restore(saved) {
    Object.keys(saved.counts || {}).forEach(function (id) {
      var table = document.getElementById(id);
      if (!table) { return; }
      while (table.querySelectorAll("tbody tr.repeat-row").length < saved.counts[id]) { addRow(table); }
    });
    var changed = false;
    (saved.values || []).forEach(function (pair) {
      var el = form.querySelector("[name='" + pair[0].replace(/'/g, "") + "']");
      if (el && el.value !== pair[1]) { el.value = pair[1]; changed = true; }
    });
    form.querySelectorAll("table.repeat").forEach(function (t) { t.dispatchEvent(new Event("rows-changed")); });
    return changed;
  }
  var existing = store() && store().getItem(key);
  if (existing) {
    try {
      if (restore(JSON.parse(existing))) {
        var banner = document.getElementById("draft-restored");
        if (banner) { banner.hidden = false; }
      }
    } catch (e) { store().removeItem(key); }
  }
  var discard = document.getElementById("discard-draft");
  if (discard) {
    discard.addEventListener("click", function () {
      if (window.confirm(discard.getAttribute("data-confirm") || discard.textContent)) {
        store().removeItem(key);
        window.location.reload();
      }
    });
  }
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);
})();
