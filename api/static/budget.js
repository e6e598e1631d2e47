// Budget table: line amounts, totals and the programme's caps update as you type (the server
// recomputes and checks again on save and on submission).
(function () {
  var table = document.getElementById("budget-table");
  if (!table) { return; }
  var live = document.getElementById("budget-live");
  function hundredths(text) {
    var m = String(text || "").trim().match(/^(\d+)(?:\.(\d{1,2}))?$/);
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }
  function show(c) { return (c / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function pct(part, whole) { return whole ? part * 100 / whole : 0; }
  function recompute() {
    var grant = 0, cofunding = 0, personnel = 0, management = 0;
    table.querySelectorAll("tbody tr.budget-row").forEach(function (row) {
      var price = hundredths(row.querySelector("[name$='-unit_price']").value);
      var qty = hundredths(row.querySelector("[name$='-quantity']").value);
      var cell = row.querySelector(".line-amount");
      if (price === null || qty === null) { cell.textContent = "—"; return; }
      var amount = Math.round(price * qty / 100);  // integer fen, half away from zero like the server
      cell.textContent = show(amount);
      if (row.querySelector("[name$='-funded_by']").value === "cofunding") { cofunding += amount; return; }
      grant += amount;
      var category = row.querySelector("[name$='-category']").value;
      if (category === "personnel") { personnel += amount; }
      if (category === "management") { management += amount; }
    });
    document.getElementById("total-grant").textContent = show(grant);
    document.getElementById("total-cofunding").textContent = show(cofunding);
    document.getElementById("total-all").textContent = show(grant + cofunding);
    var all = grant + cofunding;
    document.getElementById("cofunding-pct").textContent = all ? (Math.round(cofunding * 10000 / all) / 100) + "%" : "";
    if (!live) { return; }
    var problems = [];
    var cap = hundredths(live.getAttribute("data-cap"));
    if (cap !== null && grant > cap) { problems.push(live.getAttribute("data-msg-cap")); }
    if (all && pct(cofunding, all) < parseFloat(live.getAttribute("data-min-cofunding"))) { problems.push(live.getAttribute("data-msg-cofunding")); }
    if (grant && pct(personnel, grant) > parseFloat(live.getAttribute("data-personnel-cap"))) { problems.push(live.getAttribute("data-msg-personnel")); }
    if (grant && pct(management, grant) > parseFloat(live.getAttribute("data-management-cap"))) { problems.push(live.getAttribute("data-msg-management")); }
    live.textContent = problems.join(" ");
  }
  table.addEventListener("input", recompute);
  table.addEventListener("change", recompute);
  table.addEventListener("rows-changed", recompute);
  recompute();
})();
