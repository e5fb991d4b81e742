// bakehouse UI: shared behaviour for every page. No framework, no build step.
// - relative times (<time data-ts>) kept fresh, exact time on hover
// - one EventSource on /api/stream shared by the page (BH.on(name, fn)); "runs" carries the
//   runs whose status changed, "materializations" the assets newly materialized
// - [data-refresh-on="runs locations"][data-src]: re-fetch that fragment when the event arrives,
//   and swap it in only when it says something new (or a form asks for it)
// - form[data-api]: post to the JSON API instead, then follow the result
// - a[data-dialog-template]: open the template's content in the shared dialog
"use strict";

const BH = (() => {
  const listeners = {};
  let source = null;

  // "3 min ago", or "in 3 min" for a time to come (a schedule's next tick).
  function ago(ts) {
    const delta = Date.now() / 1000 - ts, s = Math.abs(delta);
    if (s < 10) return "just now";
    let words;
    if (s < 60) words = Math.floor(s) + " s";
    else if (s < 3600) words = Math.floor(s / 60) + " min";
    else if (s < 86400) words = Math.floor(s / 3600) + " h";
    else if (s < 30 * 86400) words = Math.floor(s / 86400) + (Math.floor(s / 86400) === 1 ? " day" : " days");
    else return new Date(ts * 1000).toISOString().slice(0, 10);
    return delta < 0 ? "in " + words : words + " ago";
  }

  function exact(ts) {
    return new Date(ts * 1000).toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
    });
  }

  function duration(seconds) {
    if (seconds == null || isNaN(seconds)) return "—";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    if (m < 60) return m + " min " + s + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function timeEl(ts) {
    const el = document.createElement("time");
    el.dataset.ts = ts;
    el.dateTime = new Date(ts * 1000).toISOString();
    el.title = exact(ts);
    el.textContent = ago(ts);
    return el;
  }

  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-ts]").forEach((el) => {
      const ts = parseFloat(el.dataset.ts);
      if (!el.hasAttribute("data-absolute")) el.textContent = ago(ts);
      el.title = exact(ts);
    });
    (root || document).querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = duration(Date.now() / 1000 - parseFloat(el.dataset.since));
    });
  }

  function on(name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
    connect();
    if (source && !source._names.has(name)) {
      source._names.add(name);
      source.addEventListener(name, (e) => dispatch(name, e.data));
    }
  }

  function dispatch(name, raw) {
    let data = null;
    try { data = JSON.parse(raw); } catch (_) { return; }
    (listeners[name] || []).forEach((fn) => {
      try { fn(data); } catch (err) { console.error(err); }
    });
  }

  function setLive(state, label) {
    const dot = document.getElementById("live-status");
    const text = document.getElementById("live-label");
    if (dot) dot.dataset.state = state;
    if (text) text.textContent = label;
  }

  function connect() {
    if (source || !window.EventSource) return;
    source = new EventSource("/api/stream");
    source._names = new Set();
    // On every (re)connection, catch up with what changed before the stream was listening:
    // the stream only sends changes, and the page was rendered a moment earlier.
    source.onopen = () => {
      setLive("live", "Live updates on");
      refreshAll();
      document.dispatchEvent(new CustomEvent("bh:stream-open"));
    };
    source.onerror = () => setLive("down", "Reconnecting…");
    // The stream resumes from the last event's id after a reconnection; when that is too far
    // back it says "resync", and the page re-reads what it shows, as on a first connection.
    source.addEventListener("resync", () => {
      refreshAll();
      document.dispatchEvent(new CustomEvent("bh:stream-open"));
    });
    Object.keys(listeners).forEach((name) => {
      source._names.add(name);
      source.addEventListener(name, (e) => dispatch(name, e.data));
    });
  }

  async function api(method, url, body) {
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error("The server did not answer. Is bh dev still running?");
    }
    let data = null;
    const text = await response.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (!response.ok) {
      let detail = data && data.detail !== undefined ? data.detail : data;
      if (Array.isArray(detail)) {
        detail = detail.map((d) => (d.loc ? d.loc.join(".") + ": " : "") + d.msg).join("\n");
      }
      const error = new Error(typeof detail === "string" && detail ? detail : response.status + " " + response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.setAttribute("role", kind === "bad" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(() => el.remove(), kind === "bad" ? 9000 : 4000);
  }

  // What the user typed into a fragment's fields (those with an id) and where the focus was, so
  // that a live refresh does not throw away a partition key half typed.
  function typedValues(el) {
    const fields = [...el.querySelectorAll("input[id], textarea[id]")]
      .filter((f) => f.value !== f.defaultValue)
      .map((f) => [f.id, f.value]);
    const active = document.activeElement;
    return { fields, focus: active && el.contains(active) && active.id ? active.id : null };
  }

  function restoreTyped(el, typed) {
    typed.fields.forEach(([id, value]) => {
      const field = el.querySelector("#" + CSS.escape(id));
      if (field) field.value = value;
    });
    const focus = typed.focus && el.querySelector("#" + CSS.escape(typed.focus));
    if (focus) focus.focus();
  }

  // Each fragment's HTML as the page was rendered, kept before any script changes it (this
  // script is deferred and runs first: the document is parsed, no other script has run).
  const asRendered = new Map(
    [...document.querySelectorAll("[data-refresh-on][data-src]")].map((el) => [el, comparable(el.cloneNode(true))])
  );

  // What to compare of a fragment: its HTML as the parser reads it (so the server's text and
  // the page it rendered compare equal when they say the same), without the words and titles
  // of its times and durations, which `refreshTimes` rewrites every second anyway ("12 s ago").
  function comparable(root) {
    const scope = root.content || root;
    scope.querySelectorAll("time[data-ts]").forEach((time) => {
      time.textContent = "";
      time.removeAttribute("title");
    });
    scope.querySelectorAll("[data-since]").forEach((el) => { el.textContent = ""; });
    return root.innerHTML.trim();
  }

  function comparableText(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return comparable(template);
  }

  // Re-fetch server-rendered fragments when their event arrives; one fetch in flight each.
  function bindFragments() {
    document.querySelectorAll("[data-refresh-on][data-src]").forEach((el) => {
      let busy = false, again = false;
      // What the server last sent for this fragment: an answer that says the same is not
      // swapped in, so nothing the user is doing in the card (a dropdown open, text selected,
      // a key being typed) is disturbed for nothing.
      let shown = asRendered.get(el) ?? comparable(el.cloneNode(true));
      // `force`: swap even the same HTML in, undoing what scripts changed in the card (a switch
      // flipped before its request failed, say).
      let againForced = false;
      async function refresh(force = false) {
        if (busy) { again = true; againForced = againForced || force; return; }
        busy = true;
        try {
          const response = await fetch(el.dataset.src, { headers: { accept: "text/html" } });
          if (response.ok) {
            const html = await response.text();
            const seen = comparableText(html);
            const changed = seen !== shown;
            if (changed || force) {
              // Read what was typed only now, in the same task as the swap: keys pressed
              // while the body was still arriving would otherwise be lost.
              const typed = typedValues(el);
              el.innerHTML = html;
              shown = seen;
              restoreTyped(el, typed);
              refreshTimes(el);
            }
            // changed: the server's HTML differs from what it sent before; forced: swapped anyway.
            el.dispatchEvent(new CustomEvent("bh:refreshed", { bubbles: true, detail: { changed, forced: force } }));
          }
        } catch (_) { /* the stream reconnects and triggers the next refresh */ }
        busy = false;
        if (again) {
          const forced = againForced;
          again = againForced = false;
          refresh(forced);
        }
      }
      el._refresh = refresh;
      // data-refresh-key: only events about that asset (a runs list or a materializations map).
      const key = el.dataset.refreshKey;
      const concerns = (data) => !key || (Array.isArray(data)
        ? data.some((run) => (run.asset_selection || []).includes(key))
        : data !== null && typeof data === "object" && key in data);
      el.dataset.refreshOn.split(/\s+/).filter(Boolean).forEach((name) => on(name, (data) => concerns(data) && refresh()));
    });
  }

  // Fetch every fragment of the page again; `force` swaps them in even when unchanged.
  function refreshAll(force = false) {
    document.querySelectorAll("[data-refresh-on][data-src]").forEach((el) => el._refresh && el._refresh(force));
  }

  // form[data-api="/api/..."] posts JSON (data-body) to the API; a run_id answer opens the run.
  function bindForms() {
    document.addEventListener("submit", async (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
      event.preventDefault();
      const button = form.querySelector("button");
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      if (button) button.setAttribute("aria-busy", "true");
      form.dispatchEvent(new CustomEvent("bh:submitting", { bubbles: true }));
      try {
        const body = form.dataset.body ? JSON.parse(form.dataset.body) : undefined;
        const result = await api("POST", form.dataset.api, body);
        if (result && result.run_id && form.dataset.then !== "stay") {
          window.location.href = "/runs/" + encodeURIComponent(result.run_id);
          return;
        }
        if (form.dataset.done) toast(form.dataset.done, "ok");
        form.dispatchEvent(new CustomEvent("bh:done", { bubbles: true, detail: result }));
        refreshAll(true);
      } catch (err) {
        toast(err.message, "bad");
        form.dispatchEvent(new CustomEvent("bh:failed", { bubbles: true, detail: err }));
        refreshAll(true);
      } finally {
        if (button) button.removeAttribute("aria-busy");
      }
    });
  }

  // a[data-dialog-template="id"]: show the <template id> in the shared dialog.
  function bindDialogs() {
    const dialog = document.getElementById("dialog");
    if (!dialog || !dialog.showModal) return;
    document.addEventListener("click", (event) => {
      const link = event.target.closest("[data-dialog-template]");
      if (link) {
        const template = document.getElementById(link.dataset.dialogTemplate);
        if (!template) return;
        event.preventDefault();
        dialog.querySelector(".dialog-title").textContent = link.dataset.dialogTitle || "";
        const body = dialog.querySelector(".dialog-body");
        body.replaceChildren(template.content.cloneNode(true));
        dialog.showModal();
        return;
      }
      if (event.target === dialog || event.target.closest("[data-close-dialog]")) dialog.close();
    });
  }

  function failedBadge() {
    const show = (locations) => {
      const badge = document.querySelector("[data-failed-badge]");
      if (!badge) return;
      const failed = locations.filter((l) => l.status === "FAILED").length;
      badge.textContent = failed;
      badge.hidden = failed === 0;
      badge.title = failed + " code location" + (failed === 1 ? "" : "s") + " failed to load";
    };
    on("locations", show);
    // A location may have failed between the page's render and the stream's start: catch up,
    // as the fragments do.
    document.addEventListener("bh:stream-open", () => {
      api("GET", "/api/locations").then(show).catch(() => {});
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    refreshTimes();
    setInterval(refreshTimes, 1000);
    bindFragments();
    bindForms();
    bindDialogs();
    failedBadge();
  });

  return { ago, exact, duration, timeEl, refreshTimes, on, api, toast, refreshAll };
})();
window.BH = BH;
