// Budget table: line amounts and totals update as you type (the server recomputes on save).
(function () {
  var table = document.getElementById("budget-table");
  if (!table) { return; }
  function cents(text) {
    var m = String(text || "").trim().match(/^(\d+)(?:\.(\d{1,2}))?$/);
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function qty100(text) {
    var m = String(text || "").trim().match(/^(\d+)(?:\.(\d{1,2}))?$/);
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function show(c) { return (c / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function recompute() {
    var grant = 0, cofunding = 0;
    table.querySelectorAll("tbody tr.budget-row").forEach(function (row) {
      var price = cents(row.querySelector("[name$='-unit_price']").value);
      var qty = qty100(row.querySelector("[name$='-quantity']").value);
      var cell = row.querySelector(".line-amount");
      if (price === null || qty === null) { cell.textContent = "—"; return; }
      var amount = Math.round(price * qty / 100);  // integer fen, half away from zero like the server
      cell.textContent = show(amount);
      if (row.querySelector("[name$='-funded_by']").value === "cofunding") { cofunding += amount; } else { grant += amount; }
    });
    document.getElementById("total-grant").textContent = show(grant);
    document.getElementById("total-cofunding").textContent = show(cofunding);
    document.getElementById("total-all").textContent = show(grant + cofunding);
    var all = grant + cofunding;
    document.getElementById("cofunding-pct").textContent = all ? (Math.round(cofunding * 10000 / all) / 100) + "%" : "";
  }
  table.addEventListener("input", recompute);
  table.addEventListener("change", recompute);
  document.getElementById("add-line").addEventListener("click", function () {
    var rows = table.querySelectorAll("tbody tr.budget-row");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var n = rows.length;
    copy.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(/^line-\d+-/, "line-" + n + "-");
      if (el.tagName === "INPUT") { el.value = el.name.endsWith("quantity") ? "1" : ""; }
    });
    last.parentNode.appendChild(copy);
    recompute();
  });
  recompute();
})();
