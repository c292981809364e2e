// Dead letters: Retry, Discard and "switch callbacks back on", through the API; then reload.
"use strict";

(function () {
  const C = window.Console;

  async function act(path, okMessage) {
    C.hideAlert();
    try {
      await C.api("POST", path, {});
      C.showAlert(okMessage, "info");
      window.setTimeout(function () { window.location.reload(); }, 600);
    } catch (err) {
      C.reportError(err);
    }
  }

  document.querySelectorAll("button.retry").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      act("/api/dead-letters/" + encodeURIComponent(button.dataset.id) + "/retry",
        "Queued again.").finally(function () { button.disabled = false; });
    });
  });
  document.querySelectorAll("button.discard").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!confirm("Discard this dead letter? It will not be sent.")) return;
      act("/api/dead-letters/" + encodeURIComponent(button.dataset.id) + "/discard",
        "Discarded.");
    });
  });
  const enable = document.getElementById("enable-callbacks");
  if (enable) {
    enable.addEventListener("click", function () {
      enable.disabled = true;
      act("/api/callbacks/enable", "Callbacks are on; held callbacks are being sent.")
        .finally(function () { enable.disabled = false; });
    });
  }
})();
