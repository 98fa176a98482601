// Reloads the page every data-refresh seconds, unless the reader is typing in a form.
// Optional: every page works without it (the CSP allows this file, never inline script).
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!(seconds > 0)) {
    return;
  }
  window.setInterval(function () {
    var active = document.activeElement;
    var busy = active && (active.tagName === "INPUT" || active.tagName === "SELECT");
    if (!busy && document.visibilityState !== "hidden") {
      window.location.reload();
    }
  }, seconds * 1000);
})();
