// Bulk edit: show only the inputs the chosen change uses (the page works without it).
(function () {
  "use strict";
  var choice = document.getElementById("bulk-change");
  if (!choice) {
    return;
  }
  function showRelevant() {
    document.querySelectorAll("[data-bulk-for]").forEach(function (group) {
      var kinds = group.getAttribute("data-bulk-for").split(" ");
      group.hidden = kinds.indexOf(choice.value) === -1;
    });
  }
  choice.addEventListener("change", showRelevant);
  showRelevant();
})();
