// Code locations page: a row shows Loading as soon as its reload is asked for; the outcome
// arrives with the answer (and by the locations stream, which re-renders the rows).
"use strict";
(() => {
  const LOADING = '<span class="pill pill-info" data-status="LOADING">Loading</span>';

  function markLoading(row) {
    const cell = row.querySelector(".status-cell");
    if (cell) cell.innerHTML = LOADING;
    row.dataset.status = "LOADING";
    row.querySelectorAll("button").forEach((b) => (b.disabled = true));
  }

  function report(states) {
    (Array.isArray(states) ? states : [states]).forEach((s) => {
      if (s.status === "FAILED") {
        const kept = s.serving_last_good ? " Its last good definitions still serve." : "";
        BH.toast(s.name + " failed to load: " + (s.error ? s.error.message : "see View error") + "." + kept, "bad");
      } else if (s.status === "LOADED") {
        BH.toast(s.name + " loaded: " + s.asset_count + " asset" + (s.asset_count === 1 ? "" : "s") + ".", "ok");
      }
    });
  }

  document.addEventListener("bh:submitting", (event) => {
    const form = event.target;
    if (form.id === "reload-all-form") {
      document.querySelectorAll("tr[data-location]").forEach(markLoading);
    } else {
      const row = form.closest("tr[data-location]");
      if (row) markLoading(row);
    }
  });
  document.addEventListener("bh:done", (event) => {
    if (event.detail) report(event.detail);
  });
})();
