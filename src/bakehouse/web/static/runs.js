// The Runs page: its filter form leaves empty filters out of the URL, so the URL reads as the
// filters chosen (/runs?job=bake&status=failed) and can be shared or bookmarked as it is.
(function () {
  "use strict";
  const form = document.getElementById("run-filters");
  if (!form) return;
  form.addEventListener("submit", () => {
    for (const field of form.querySelectorAll("input, select")) {
      // Disabled fields are not submitted; the page that loads next renders them afresh.
      if (field.name && !field.value.trim()) field.disabled = true;
    }
  });
})();
