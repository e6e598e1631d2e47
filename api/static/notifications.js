// Seedbed: fills the unread count of the notification bell (the link works without it).
(function () {
  var badge = document.getElementById("unread-count");
  if (!badge || !window.fetch) { return; }
  fetch("/api/v1/notifications/unread-count", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (data && data.unread > 0) { badge.textContent = String(data.unread); badge.hidden = false; }
    })
    .catch(function () {});
})();
