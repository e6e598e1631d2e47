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
