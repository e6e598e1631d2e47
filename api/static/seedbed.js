// Seedbed: progressive enhancement only; every page works without it.
// An irreversible action asks first: data-confirm on the button that submitted, or on the form.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
