// Code locations page and a location's page: a row shows Loading as soon as its reload is asked
// for; the outcome arrives with the answer (and by the locations stream, which re-renders the
// rows). Each reload, asked here or not (a file change, a restart), shows a toast with what it
// changed ("+2 assets, −1 schedule, 3 changed"); clicking it lists the changes.
"use strict";
(() => {
  const LOADING = '<span class="pill pill-info" data-status="LOADING">Loading</span>';
  const NOUNS = { asset: "asset", check: "check", job: "job", schedule: "schedule", sensor: "sensor", resource: "resource" };
  const shown = new Set(); // reloads toasted already: "<location> <started_at>"

  function markLoading(row) {
    const cell = row.querySelector(".status-cell");
    if (cell) cell.innerHTML = LOADING;
    row.dataset.status = "LOADING";
    row.querySelectorAll("button").forEach((b) => (b.disabled = true));
  }

  function keyOf(s) {
    return s.last_reload ? s.name + " " + s.last_reload.started_at : null;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The dialog listing one reload's changes, built from the API's diff (text only, no markup).
  function showChanges(name, reload) {
    const dialog = document.getElementById("dialog");
    if (!dialog || !dialog.showModal) return;
    dialog.querySelector(".dialog-title").textContent = name + ": " + reload.summary;
    const body = dialog.querySelector(".dialog-body");
    const list = el("ul", "diff-list");
    list.dataset.reloadChanges = name;
    const diff = reload.diff || { added: [], removed: [], changed: [] };
    [["added", "+", "diff-added"], ["removed", "\u2212", "diff-removed"], ["changed", "~", "diff-changed"]].forEach(([part, sign, cls]) => {
      diff[part].forEach((change) => {
        const item = el("li", cls, sign + " " + (NOUNS[change.kind] || change.kind) + " ");
        item.dataset.change = part;
        item.appendChild(el("code", "", change.name));
        if (change.fields && change.fields.length) {
          item.appendChild(document.createTextNode(": " + change.fields.map((f) => {
            const moved = (f.added || []).map((x) => "+" + x).concat((f.removed || []).map((x) => "\u2212" + x));
            if (moved.length) return f.field + " (" + moved.join(", ") + ")";
            return f.before !== null && f.after !== null ? f.field + " " + f.before + " \u2192 " + f.after : f.field;
          }).join(", ")));
        }
        list.appendChild(item);
      });
    });
    const link = el("a", "btn btn-sm", "Reload history of " + name);
    link.href = "/locations/" + encodeURIComponent(name) + "#reload-history";
    const foot = el("p");
    foot.style.marginTop = "12px";
    foot.appendChild(link);
    body.replaceChildren(list, foot);
    dialog.showModal();
  }

  function toastReload(s) {
    const reload = s.last_reload;
    const key = keyOf(s);
    if (!reload || shown.has(key)) return;
    shown.add(key);
    if (!reload.loaded) {
      const kept = s.serving_last_good ? " Its last good definitions still serve." : "";
      BH.toast(s.name + " failed to load: " + (s.error ? s.error.message : "see View error") + "." + kept, "bad");
      return;
    }
    if (s.status === "LOADED_WITH_ERRORS") {
      // The rest serves; say which modules were left out (the row lists them with tracebacks).
      const n = (s.module_errors || []).length;
      const first = n ? " (" + s.module_errors[0].where + ": " + s.module_errors[0].message + ")" : "";
      BH.toast(s.name + " loaded with errors: " + n + " module" + (n === 1 ? "" : "s") + " failed to load and " + (n === 1 ? "was" : "were") + " left out" + first + ".", "bad");
    }
    const box = document.getElementById("toasts");
    if (!box) return;
    const what = reload.summary || s.asset_count + " asset" + (s.asset_count === 1 ? "" : "s");
    const changed = reload.diff && (reload.diff.added.length || reload.diff.removed.length || reload.diff.changed.length);
    const toast = el(changed ? "button" : "div", "toast toast-ok toast-reload", s.name + " reloaded (" + reload.trigger_label.toLowerCase() + "): " + what + (changed ? ". Click for the list." : "."));
    toast.dataset.reloadToast = s.name;
    toast.setAttribute("role", "status");
    if (changed) {
      toast.type = "button";
      toast.addEventListener("click", () => { toast.remove(); showChanges(s.name, reload); });
    }
    box.appendChild(toast);
    setTimeout(() => toast.remove(), changed ? 12000 : 5000);
  }

  function report(states) {
    (Array.isArray(states) ? states : [states]).forEach(toastReload);
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
  // Reloads nobody here asked for (a file change, a restart, another user): the stream says so.
  // Those the page was drawn with happened before it, and get no toast.
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-reload-key]").forEach((node) => shown.add(node.dataset.reloadKey));
    BH.on("locations", (states) => {
      states.forEach((s) => { if (s.status !== "LOADING") toastReload(s); });
    });
  });
})();
