// Partitions: the asset page's status bar (pick a partition, shift-click a range, hover for the
// key under the pointer) and the backfill form (counts what will run, posts to the API).
// Without this script the bar's segments are links and the form posts to /backfills/new.
"use strict";

(() => {
  const LABELS = { m: "materialized", f: "failed", i: "in progress", "-": "missing" };
  let range = null; // {from, to} indices picked with shift-click, kept across live refreshes
  let anchor = null;

  function data(root, selector) {
    const el = root && root.querySelector(selector);
    try { return el ? JSON.parse(el.textContent) : null; } catch (_) { return null; }
  }

  function card() { return document.getElementById("partitions"); }

  // The partition index under the pointer: segments are proportional inside themselves.
  function indexAt(seg, clientX) {
    const rect = seg.getBoundingClientRect();
    const start = +seg.dataset.start, count = +seg.dataset.count;
    const frac = Math.min(Math.max((clientX - rect.left) / Math.max(rect.width, 1), 0), 0.9999);
    return start + Math.floor(frac * count);
  }

  function xOf(bar, index, end) {
    for (const seg of bar.querySelectorAll(".pseg")) {
      const start = +seg.dataset.start, count = +seg.dataset.count;
      if (index >= start && index < start + count) {
        return seg.offsetLeft + ((index - start + (end ? 1 : 0)) / count) * seg.offsetWidth;
      }
    }
    return 0;
  }

  function drawRange() {
    const root = card();
    if (!root) return;
    const bar = root.querySelector("[data-partition-bar]");
    const note = root.querySelector("[data-selection-note]");
    const info = data(root, "[data-partition-data]");
    let box = bar && bar.querySelector(".pbar-range");
    if (!bar || !info) return;
    if (!range || range.to >= info.keys.length) { if (box) box.remove(); return; }
    if (!box) { box = document.createElement("div"); box.className = "pbar-range"; bar.appendChild(box); }
    const left = xOf(bar, range.from, false), right = xOf(bar, range.to, true);
    box.style.left = left + "px";
    box.style.width = Math.max(right - left, 3) + "px";
    const n = range.to - range.from + 1;
    if (note) {
      note.textContent = n + " partition" + (n === 1 ? "" : "s") + " picked: " + info.keys[range.from] +
        (n > 1 ? " … " + info.keys[range.to] : "") + ". Launch backfill uses them.";
      note.dataset.picked = String(n);
    }
  }

  function choose(key) {
    const holder = document.getElementById("asset-partitions");
    if (!holder) return;
    const src = new URL(holder.dataset.src, window.location.href);
    src.searchParams.set("partition", key);
    holder.dataset.src = src.pathname + src.search;
    const page = new URL(window.location.href);
    page.searchParams.set("partition", key);
    history.replaceState(null, "", page.pathname + page.search + "#partitions");
    if (holder._refresh) holder._refresh();
  }

  function tip() {
    let el = document.getElementById("partition-tip");
    if (!el) {
      el = document.createElement("div");
      el.id = "partition-tip";
      el.className = "partition-tip";
      el.setAttribute("role", "tooltip");
      document.body.appendChild(el);
    }
    return el;
  }

  document.addEventListener("click", (event) => {
    const seg = event.target.closest(".pseg");
    if (seg) {
      const info = data(card(), "[data-partition-data]");
      if (!info) return;
      event.preventDefault();
      const index = indexAt(seg, event.clientX);
      if (event.shiftKey && anchor !== null) {
        range = { from: Math.min(anchor, index), to: Math.max(anchor, index) };
        drawRange();
        return;
      }
      anchor = index;
      range = { from: index, to: index };
      drawRange();
      choose(info.keys[index]);
      return;
    }
    const open = event.target.closest("[data-open-backfill]");
    if (open) {
      event.preventDefault();
      openBackfill(open.href, open.dataset.dialogTitle);
    }
  });

  document.addEventListener("mousemove", (event) => {
    const seg = event.target.closest && event.target.closest(".pseg");
    const el = tip();
    if (!seg) { el.hidden = true; return; }
    const info = data(card(), "[data-partition-data]");
    if (!info) return;
    const index = indexAt(seg, event.clientX);
    el.textContent = info.keys[index] + ": " + LABELS[info.states[index]];
    el.hidden = false;
    el.style.left = event.clientX + 12 + "px";
    el.style.top = event.clientY + 14 + "px";
  });

  // The partitions card was re-rendered (live): draw the picked range again.
  document.addEventListener("bh:refreshed", (event) => {
    if (event.target.id === "asset-partitions") drawRange();
  });

  // The backfill form of the page at `href` (/backfills/new?selection=...) in the dialog.
  async function openBackfill(href, title) {
    const dialog = document.getElementById("dialog");
    const url = new URL(href, window.location.href);
    url.searchParams.set("part", "form");
    let html;
    try {
      const response = await fetch(url.pathname + url.search, { headers: { accept: "text/html" } });
      html = await response.text();
      if (!response.ok) { BH.toast(html, "bad"); return; }
    } catch (_) {
      BH.toast("The server did not answer. Is bh dev still running?", "bad");
      return;
    }
    dialog.querySelector(".dialog-title").textContent = title || "Launch a backfill";
    const body = dialog.querySelector(".dialog-body");
    body.innerHTML = html;
    const form = body.querySelector("[data-backfill-form]");
    const info = data(card(), "[data-partition-data]");
    if (form && info && range && range.to > range.from) {
      form.querySelector("[data-mode][value=keys]").checked = true;
      form.querySelector("[data-chosen-keys]").value = info.keys.slice(range.from, range.to + 1).join("\n");
    } else if (form && info && range) {
      form.querySelector("[data-mode][value=keys]").checked = true;
      form.querySelector("[data-chosen-keys]").value = info.keys[range.from];
    }
    if (form) count(form);
    dialog.showModal();
  }

  // What the form would launch: {keys} or {error}.
  function planned(form) {
    const info = data(form, "[data-backfill-data]");
    if (!info) return { error: "" };
    const index = new Map(info.keys.map((k, i) => [k, i]));
    const mode = (form.querySelector("[data-mode]:checked") || {}).value || "range";
    let picked = [];
    if (mode === "range") {
      const start = form.querySelector("[data-range-start]").value.trim();
      const end = form.querySelector("[data-range-end]").value.trim();
      for (const key of [start, end]) if (!index.has(key)) return { error: "No partition " + JSON.stringify(key) };
      if (index.get(start) > index.get(end)) return { error: start + " comes after " + end };
      for (let i = index.get(start); i <= index.get(end); i++) picked.push(i);
    } else {
      const keys = form.querySelector("[data-chosen-keys]").value.split(/[\n,]/).map((k) => k.trim()).filter(Boolean);
      if (!keys.length) return { error: "Pick partitions: type keys, or shift-click the status bar" };
      for (const key of keys) if (!index.has(key)) return { error: "No partition " + JSON.stringify(key) };
      picked = [...new Set(keys.map((k) => index.get(k)))].sort((a, b) => a - b);
    }
    if (form.querySelector("[data-only]").checked) picked = picked.filter((i) => info.codes[i] !== "m");
    return { mode, keys: picked.map((i) => info.keys[i]) };
  }

  function count(form) {
    const plan = planned(form);
    const out = form.querySelector("[data-backfill-count]");
    const button = form.querySelector("[data-launch-backfill]");
    if (plan.error !== undefined) {
      out.textContent = plan.error;
      out.dataset.state = "error";
      button.disabled = true;
      return;
    }
    const n = plan.keys.length;
    out.textContent = n === 0 ? "Nothing to run: every partition picked is materialized or in progress"
      : n.toLocaleString("en") + " partition" + (n === 1 ? "" : "s") + " will run";
    out.dataset.state = n === 0 ? "error" : "ok";
    out.dataset.count = String(n);
    button.disabled = n === 0;
  }

  ["input", "change"].forEach((name) => document.addEventListener(name, (event) => {
    const form = event.target.closest && event.target.closest("[data-backfill-form]");
    if (form) count(form);
  }));

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-backfill-form]")) return;
    event.preventDefault();
    const plan = planned(form);
    if (plan.error !== undefined || !plan.keys.length) { count(form); return; }
    const body = { selection: form.elements.selection.value };
    if (plan.mode === "range") {
      body.partition_range = {
        start: form.querySelector("[data-range-start]").value.trim(),
        end: form.querySelector("[data-range-end]").value.trim(),
      };
    } else {
      body.partition_keys = form.querySelector("[data-chosen-keys]").value
        .split(/[\n,]/).map((k) => k.trim()).filter(Boolean);
    }
    if (form.querySelector("[data-only]").checked) body.only = "failed_and_missing";
    const button = form.querySelector("[data-launch-backfill]");
    button.setAttribute("aria-busy", "true");
    try {
      const result = await BH.api("POST", "/api/backfills", body);
      window.location.href = "/backfills/" + encodeURIComponent(result.backfill_id);
    } catch (err) {
      let box = form.querySelector("[data-backfill-error]");
      if (!box) {
        box = document.createElement("p");
        box.className = "error-message";
        box.setAttribute("role", "alert");
        box.dataset.backfillError = "";
        form.insertBefore(box, form.querySelector("fieldset"));
      }
      box.textContent = err.message;
    } finally {
      button.removeAttribute("aria-busy");
    }
  });

  window.BHPartitions = { openBackfill };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-backfill-form]").forEach(count);
    const root = card();
    const info = data(root, "[data-partition-data]");
    if (root && info && root.dataset.chosen) {
      const i = info.keys.indexOf(root.dataset.chosen);
      if (i >= 0) { anchor = i; range = { from: i, to: i }; drawRange(); }
    }
  });
})();
