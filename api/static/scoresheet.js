// Score sheet: the running total updates as the evaluator types (the server recomputes on save).
(function () {
  var form = document.getElementById("sheet-form");
  var total = document.getElementById("running-total");
  if (form && total && total.hasAttribute("data-live")) {
    var update = function () {
      var sum = 0;
      form.querySelectorAll(".score-input").forEach(function (input) { var v = parseFloat(input.value); if (!isNaN(v)) { sum += v; } });
      total.textContent = (Math.round(sum * 100) / 100).toString();
    };
    form.addEventListener("input", update);
    update();
  }
  var print = document.getElementById("print-sheet");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
})();
