/* The progress bar of a privacy request's running job (the request page, the account
   page): polls the status endpoint, moves the bar, and once the job has finished shows
   the full bar and then reloads the page to show the result. Served by the app (CSP: script-src 'self'). */
(function () {
  "use strict";
  var page = document.getElementById("privacy-request");
  if (!page || page.getAttribute("data-status") !== "in_progress") {
    return;
  }
  var url = page.getAttribute("data-status-url");
  var bar = document.getElementById("privacy-progress-bar");
  var text = document.getElementById("privacy-progress-text");
  var delay = 2000;

  function show(state) {
    if (bar) {
      bar.style.width = state.percent + "%";
      bar.setAttribute("aria-valuenow", state.percent);
      bar.textContent = state.percent + "%";
    }
    if (text) {
      text.textContent = (state.phase_label || state.phase || "") + " " + state.progress_done + " / " + state.progress_total;
    }
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) {
        return;  // signed out or no longer visible: stop quietly
      }
      var state = JSON.parse(xhr.responseText);
      if (state.status === "completed") {
        state.percent = 100;  // the last batch may not have been polled
      }
      show(state);
      if (state.status !== "in_progress") {
        // Let the full bar be seen, then show the result (download, certificate).
        page.setAttribute("data-status", state.status);
        window.setTimeout(function () { window.location.reload(); }, 1200);
        return;
      }
      window.setTimeout(poll, delay);
    };
    xhr.onerror = function () {
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(poll, delay);
    };
    xhr.send();
  }

  window.setTimeout(poll, delay);
})();
