/* The progress bar of an import being applied: polls the progress endpoint and reloads
   the page once the job has finished. Served by the app (CSP: script-src 'self'). */
(function () {
  "use strict";
  var page = document.getElementById("import-preview");
  if (!page || page.getAttribute("data-status") !== "queued") {
    return;
  }
  var url = page.getAttribute("data-progress-url");
  var bar = document.getElementById("import-progress-bar");
  var delay = 1000;

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) {
        return;
      }
      var state = JSON.parse(xhr.responseText);
      if (bar) {
        bar.style.width = state.percent + "%";
        bar.setAttribute("aria-valuenow", state.percent);
        bar.textContent = state.percent + "%";
      }
      if (state.status !== "queued") {
        window.location.reload();
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
