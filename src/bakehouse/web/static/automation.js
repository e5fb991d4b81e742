// Automation page: the rows re-render on every `automation` event; keep the tick panels and
// tracebacks the user opened or closed as they were, and show a switch's new state at once.
"use strict";
(() => {
  const chosen = new Map(); // details key -> open, for panels the user toggled

  function keyOf(details) {
    if (details.dataset.key) return "ticks:" + details.dataset.key;
    const panel = details.closest("details.ticks");
    const row = details.closest("tr[data-tick-status]");
    if (!panel || !row) return null;
    const index = Array.prototype.indexOf.call(row.parentNode.children, row);
    return "tb:" + panel.dataset.key + ":" + index;
  }

  // `toggle` does not bubble: listen while it is captured.
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || details._restoring) return;
    const key = keyOf(details);
    if (key) chosen.set(key, details.open);
  }, true);

  document.addEventListener("bh:refreshed", (event) => {
    event.target.querySelectorAll("details").forEach((details) => {
      const key = keyOf(details);
      if (key && chosen.has(key) && details.open !== chosen.get(key)) {
        details._restoring = true;
        details.open = chosen.get(key);
        setTimeout(() => { details._restoring = false; }, 0);
      }
    });
  });

  document.addEventListener("bh:submitting", (event) => {
    const button = event.target.querySelector(".switch");
    if (!button) return;
    const on = button.getAttribute("aria-checked") !== "true";
    button.setAttribute("aria-checked", on ? "true" : "false");
    const label = button.querySelector(".switch-label");
    if (label) label.textContent = on ? "On" : "Off";
  });
})();
