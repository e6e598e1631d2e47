// Seedbed: progressive enhancement only; every page works without it.
// An irreversible action asks first: data-confirm on the button that submitted, or on the form.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
// "Back" on an error page returns to the previous page (without script it leads home).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-history-back]");
  if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
});
// A link that leaves unsaved work (data-confirm) asks first, like a button.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-confirm]");
  if (link && !window.confirm(link.getAttribute("data-confirm"))) { event.preventDefault(); }
});
// Report generation: show only the chooser for the chosen kind's subject; while a report is
// generated, disable the button and say so (the server answers when the PDF is archived).
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-scope-switch]")) { return; }
  var form = select.form;
  var scope = select.options[select.selectedIndex].getAttribute("data-scope");
  form.querySelectorAll("[data-scope-field]").forEach(function (field) {
    var on = field.getAttribute("data-scope-field") === scope;
    field.hidden = !on;
    field.querySelectorAll("select").forEach(function (s) { s.disabled = !on; });
  });
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-scope-switch]").forEach(function (select) {
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (event.defaultPrevented || !form.hasAttribute("data-busy")) { return; }
  var button = form.querySelector("button[type=submit]");
  var status = form.querySelector("[data-busy-status]");
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
  if (status) { status.hidden = false; status.textContent = form.getAttribute("data-busy"); }
});
// Report schedules: the fields each frequency needs; cron only for experts.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-frequency]")) { return; }
  var form = select.form;
  form.querySelectorAll("[data-for-frequency]").forEach(function (field) {
    field.hidden = field.getAttribute("data-for-frequency").split(" ").indexOf(select.value) < 0;
  });
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-frequency]").forEach(function (select) {
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
});
// A table wider than the screen scrolls inside its box: make that box reachable by keyboard
// and name it, so that people who do not use a mouse can scroll it too.
function markScrollableTables() {
  document.querySelectorAll(".table-wrap").forEach(function (box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption, th");
      box.setAttribute("aria-label", (box.getAttribute("data-label") || (caption && caption.textContent) || "").trim() || document.title);
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollableTables);
window.addEventListener("resize", markScrollableTables);
// Choosers search on the server: as one types in a chooser's search box, its list is refilled
// with the first matches (options already chosen stay). Without script, "Find" reloads the page.
(function () {
  var timers = {};
  function refill(select, items) {
    var keep = {};
    Array.prototype.slice.call(select.options).forEach(function (option) {
      if (option.value === "" || option.selected) { keep[option.value] = true; }
      else { option.remove(); }
    });
    items.forEach(function (item) {
      if (keep[String(item.id)]) { return; }
      var option = document.createElement("option");
      option.value = String(item.id);
      option.textContent = item.label;
      select.appendChild(option);
    });
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-chooser]")) { return; }
    var select = document.getElementById(box.getAttribute("data-chooser-for"));
    if (!select || !window.fetch) { return; }
    clearTimeout(timers[box.id]);
    timers[box.id] = setTimeout(function () {
      var url = box.getAttribute("data-chooser") + "?q=" + encodeURIComponent(box.value);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && data.items) { refill(select, data.items); } })
        .catch(function () {});
    }, 250);
  });
})();
