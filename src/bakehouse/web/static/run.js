// Run page: shows the log's last page and loads earlier pages on request (/api/runs/{id}/events,
// by cursor), streams new events into it (/api/runs/{id}/stream), draws the step timeline from
// the steps' marks (windows of /api/runs/{id}/steps, paged by Previous and Next, then the
// streamed events), filters the log by step, level and text, and refreshes the header (status,
// actions, failures) when the status changes.
"use strict";
(() => {
  const info = JSON.parse(document.getElementById("run-data").textContent);
  const log = document.getElementById("log");
  const wrap = document.getElementById("log-wrap");
  const stepSelect = document.getElementById("filter-step");
  const levelSelect = document.getElementById("filter-level");
  const textInput = document.getElementById("filter-text");
  const empty = document.getElementById("log-empty");
  const status = document.getElementById("log-status");
  const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };
  let running = !info.finished;
  let ended = info.ended_at;

  // ---- log rows ---------------------------------------------------------------------------
  function pad(n, w) { return String(n).padStart(w || 2, "0"); }
  function clock(ts) {
    const d = new Date(ts * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  }
  function renderError(e) {
    const parts = [];
    if (e.cause) {
      parts.push(renderError(e.cause));
      parts.push("\nThe above exception was the direct cause of the following exception:\n");
    }
    if (e.stack && e.stack.length) parts.push("Traceback (most recent call last):\n" + e.stack.join("").replace(/\n+$/, ""));
    parts.push(e.message);
    return parts.join("\n");
  }
  function summary(metadata) {
    const items = Object.entries(metadata || {});
    const span = document.createElement("span");
    items.slice(0, 3).forEach(([k, v]) => {
      const kv = document.createElement("span");
      kv.className = "kv";
      const key = document.createElement("span");
      key.className = "k";
      key.textContent = k;
      let text = v && typeof v === "object" && "value" in v ? v.value : v;
      if (v && v.type === "table" && text) text = "table, " + (text.records || []).length + " rows";
      else if (typeof text === "object") text = JSON.stringify(text);
      text = String(text);
      kv.append(key, " " + (text.length > 48 ? text.slice(0, 47) + "…" : text));
      span.append(kv, " ");
    });
    if (items.length > 3) {
      const more = document.createElement("span");
      more.className = "muted";
      more.textContent = "+" + (items.length - 3) + " more";
      span.append(more);
    }
    return span;
  }
  function cell(cls, text, title) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text != null) td.textContent = text;
    if (title) td.title = title;
    return td;
  }
  function row(e) {
    const tr = document.createElement("tr");
    tr.className = "lvl-" + e.level + (e.event_type === "ASSET_MATERIALIZATION" ? " ev-mat" : "") +
      (e.event_type === "STEP_FAILURE" || e.event_type === "RUN_FAILURE" ? " ev-fail" : "");
    tr.dataset.id = e.storage_id;
    tr.dataset.step = e.step_key || "";
    tr.dataset.level = e.level;
    tr.dataset.type = e.event_type;
    tr.dataset.time = e.timestamp;
    const lvl = document.createElement("span");
    lvl.className = "lvl";
    lvl.textContent = e.level;
    const levelCell = cell("", null);
    levelCell.append(lvl);
    const msg = cell("msg", e.message);
    if (e.event_type === "ASSET_MATERIALIZATION" && e.asset_key) {
      const div = document.createElement("div");
      div.style.marginTop = "4px";
      const a = document.createElement("a");
      a.href = "/assets/" + e.asset_key.split("/").map(encodeURIComponent).join("/");
      a.textContent = e.asset_key;
      div.append(a, " ", summary((e.data || {}).metadata));
      msg.append(div);
    }
    if (e.data && e.data.error && typeof e.data.error === "object") {
      const details = document.createElement("details");
      details.open = e.event_type === "STEP_FAILURE";
      const s = document.createElement("summary");
      s.textContent = "Traceback";
      const pre = document.createElement("pre");
      pre.className = "traceback";
      pre.textContent = renderError(e.data.error);
      details.append(s, pre);
      msg.append(details);
    }
    tr.append(cell("t", clock(e.timestamp), BH.exact(e.timestamp)), levelCell, cell("ty", e.event_type),
      cell("st", e.step_key || "", e.step_key || ""), msg);
    return tr;
  }

  // ---- filters ----------------------------------------------------------------------------
  function matches(tr) {
    const step = stepSelect.value, min = LEVELS[levelSelect.value] || 0, text = textInput.value.trim().toLowerCase();
    if (step && tr.dataset.step !== step) return false;
    if ((LEVELS[tr.dataset.level] || 20) < min) return false;
    if (text && !tr.textContent.toLowerCase().includes(text)) return false;
    return true;
  }
  const earlierButton = document.getElementById("log-earlier");
  function counted(total) {
    return total + " events" + (earlierButton && !earlierButton.hidden ? " (the latest; earlier ones above)" : "");
  }
  function applyFilters() {
    let shown = 0;
    log.querySelectorAll("tr").forEach((tr) => { tr.hidden = !matches(tr); if (!tr.hidden) shown++; });
    const total = log.children.length;
    empty.hidden = shown > 0;
    empty.textContent = total ? "No events match these filters." : "No events yet.";
    status.textContent = shown === total ? counted(total) : shown + " of " + counted(total);
    const params = new URLSearchParams();
    if (stepSelect.value) params.set("step", stepSelect.value);
    if (levelSelect.value) params.set("level", levelSelect.value);
    history.replaceState(null, "", window.location.pathname + (params.toString() ? "?" + params : ""));
  }
  [stepSelect, levelSelect].forEach((el) => el.addEventListener("change", applyFilters));
  textInput.addEventListener("input", applyFilters);
  document.getElementById("log-filters").addEventListener("submit", (e) => { e.preventDefault(); applyFilters(); });
  function addStepOption(step) {
    if (!step || [...stepSelect.options].some((o) => o.value === step)) return;
    const option = document.createElement("option");
    option.value = option.textContent = step;
    stepSelect.append(option);
  }

  // ---- timeline ---------------------------------------------------------------------------
  const timeline = document.getElementById("timeline");
  const note = document.getElementById("timeline-note");
  const pager = document.getElementById("timeline-pager");
  const prevButton = document.getElementById("timeline-prev");
  const nextButton = document.getElementById("timeline-next");
  // Each step's start, end, state and attempts: from /api/runs/{id}/steps (a window of steps,
  // read from an index without the events' bodies, with the run's number of steps and their
  // span), then from each event shown or streamed, so the timeline covers steps whose events
  // are on pages not loaded.
  const byStep = new Map();
  const DRAWN = 300;
  // The windows of DRAWN steps read so far, in order: the cursor that reads each (null: the
  // first), its steps' keys in the order they first appear (null until read) and the cursor of
  // the next (null: none known). A window read is drawn again without a request: the stream
  // keeps its steps current, and only the last window grows, with steps new to the run.
  const windows = [{ cursor: null, keys: null, next: null }];
  let current = 0;
  const placed = new Set();  // the keys of the windows read
  let stepTotal = 0;  // the run's steps when a window was last read
  const fresh = new Set();  // steps first streamed since: not in stepTotal
  let firstStart = null;
  let stepsEnd = null;
  let paging = false;
  let pagingError = "";
  const STATES = { running: "info", retrying: "warn", succeeded: "ok", failed: "bad", skipped: "muted" };
  const LABELS = { ok: "succeeded", bad: "failed", muted: "skipped", info: "running", warn: "waiting to retry" };
  // The server's fold (fold_steps in api_run_events.py), event by event: one bar from a step's
  // first start to its last end over all its attempts (STEP_START, then STEP_RESTARTED per
  // retry), "warn" between a STEP_UP_FOR_RETRY and the next attempt rather than running.
  function mark(type, key, t, streamed) {
    if (!key || !type.startsWith("STEP_")) return;
    const known = byStep.get(key);
    const s = known || { key, start: null, end: null, state: "info", attempts: 0 };
    if (type === "STEP_START" || type === "STEP_RESTARTED") {
      if (s.start === null) s.start = t;
      s.end = null; s.state = "info"; s.attempts++;
    }
    else if (type === "STEP_UP_FOR_RETRY") s.state = "warn";
    else if (type === "STEP_SUCCESS") { s.end = t; s.state = "ok"; }
    else if (type === "STEP_FAILURE") { s.end = t; s.state = "bad"; }
    else if (type === "STEP_SKIPPED") { s.end = t; s.state = "muted"; if (s.start === null) s.start = t; }
    else return;
    byStep.set(key, s);
    if (streamed && !known && (type === "STEP_START" || type === "STEP_SKIPPED")) arrived(key);
  }
  function markRow(tr, streamed) { mark(tr.dataset.type, tr.dataset.step, parseFloat(tr.dataset.time), streamed); }
  log.querySelectorAll("tr").forEach((tr) => markRow(tr, false));
  // A step new to the run, streamed: it counts, and joins the last window if that one is read
  // and has room; beyond it, it waits for Next (the window drawn stays where it is).
  function arrived(key) {
    if (windows[0].keys === null) return;  // counted by the first window's answer
    fresh.add(key);
    const last = windows[windows.length - 1];
    if (last.keys !== null && last.next === null && last.keys.length < DRAWN && !placed.has(key)) {
      last.keys.push(key);
      placed.add(key);
    }
  }
  // A step as the server folded it, unless a streamed event is newer than the answer: a step
  // that ended, or started another attempt, since stays so.
  function take(step) {
    const s = byStep.get(step.step_key);
    const attempts = step.attempts || 0;
    const newer = s && ((s.end !== null && step.end === null) || s.attempts > attempts);
    byStep.set(step.step_key, newer
      ? { key: step.step_key, start: step.start, end: s.end, state: s.state, attempts: Math.max(s.attempts, attempts) }
      : { key: step.step_key, start: step.start, end: step.end, state: STATES[step.state] || "info", attempts });
  }
  // Reads window `i` (its cursor is known): its steps, the next window's cursor, the run's count.
  async function readWindow(i) {
    const w = windows[i];
    const url = "/api/runs/" + encodeURIComponent(info.run_id) + "/steps?limit=" + DRAWN +
      (w.cursor ? "&cursor=" + encodeURIComponent(w.cursor) : "");
    const response = await fetch(url);
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    const page = await response.json();
    page.steps.forEach(take);
    w.keys = page.steps.map((s) => s.step_key);
    w.keys.forEach((k) => placed.add(k));
    w.next = page.cursor;
    if (page.cursor && windows.length === i + 1) windows.push({ cursor: page.cursor, keys: null, next: null });
    stepTotal = page.total;
    firstStart = page.first_start;
    stepsEnd = page.last_end;
    fresh.clear();
    if (page.cursor === null) {
      // The last window, and every one before it read: a step in no window streamed after the
      // server read the log, so it is new to its count; it joins this window while there is room.
      const late = [...byStep.values()].filter((s) => s.start !== null && !placed.has(s.key));
      late.sort((a, b) => a.start - b.start).forEach((s) => {
        fresh.add(s.key);
        if (w.keys.length < DRAWN) { w.keys.push(s.key); placed.add(s.key); }
      });
    }
  }
  async function loadSteps() {
    try {
      await readWindow(0);
    } catch (_) { /* the streamed events still draw the steps they mention */ }
    queueTimeline();
  }
  function totalSteps(shownTo) {
    return Math.max(stepTotal + fresh.size, shownTo);
  }
  function hasNext() {
    const w = windows[current];
    if (w.keys === null) return false;
    // Known, or the last window filled with streamed steps and more followed.
    return w.next !== null || (w.keys.length >= DRAWN && totalSteps(0) > (current + 1) * DRAWN);
  }
  // Draws window `i`: at once if it was read, else after reading it (Next past the last window
  // read that has since filled with streamed steps reads that one again for its cursor first).
  async function go(i) {
    if (paging || i < 0 || i === current) return;
    if (i < windows.length && windows[i].keys !== null) {
      current = i;
      pagingError = "";
      drawTimeline();
      timeline.scrollTop = 0;  // a new window is read from its first step
      return;
    }
    paging = true;
    pagingError = "";
    const button = i > current ? nextButton : prevButton;
    button.setAttribute("aria-busy", "true");
    try {
      if (i >= windows.length) await readWindow(windows.length - 1);
      if (i < windows.length) {
        await readWindow(i);
        current = i;
      }
    } catch (err) {
      pagingError = "Could not load steps: " + err.message;
    }
    button.removeAttribute("aria-busy");
    paging = false;
    drawTimeline();
    if (current === i) timeline.scrollTop = 0;
  }
  // The window drawn read again: at the run's end, for the server's final count and states.
  async function refreshWindow() {
    if (paging || windows[current].keys === null) { drawTimeline(); return; }
    paging = true;
    try { await readWindow(current); } catch (_) { /* the streamed events stand */ }
    paging = false;
    drawTimeline();
  }
  prevButton.addEventListener("click", () => go(current - 1));
  nextButton.addEventListener("click", () => go(current + 1));
  // The rows of the window drawn: its keys once read; before the first answer, the steps the
  // log's page mentions.
  function shownSteps() {
    const keys = windows[current].keys;
    if (keys === null) {
      const list = [...byStep.values()].filter((s) => s.start !== null);
      list.sort((a, b) => a.start - b.start);
      return list.slice(0, DRAWN);
    }
    return keys.map((k) => byStep.get(k)).filter((s) => s && s.start !== null);
  }
  function count(n) { return n.toLocaleString("en"); }
  function updatePager(from, shown) {
    const read = windows[0].keys !== null;
    const total = totalSteps(from + shown);
    const paged = read && (current > 0 || total > shown);
    let text = !read ? "" : paged
      ? "Steps " + count(from + 1) + "–" + count(from + shown) + " of " + count(total)
      : count(total) + " step" + (total === 1 ? "" : "s");
    if (pagingError) text += " · " + pagingError;
    if (note.textContent !== text) note.textContent = text;
    pager.hidden = !paged;
    const focused = document.activeElement;
    prevButton.disabled = current === 0;
    nextButton.disabled = !hasNext();
    const ahead = Math.min(DRAWN, total - from - DRAWN);
    const label = "Next " + count(ahead > 0 ? ahead : DRAWN) + " ›";
    if (nextButton.textContent !== label) nextButton.textContent = label;
    // A button that turns disabled under the keyboard would drop its focus to the page.
    if (focused === nextButton && nextButton.disabled && !prevButton.disabled) prevButton.focus();
    if (focused === prevButton && prevButton.disabled && !nextButton.disabled) nextButton.focus();
  }
  function drawTimeline() {
    const list = shownSteps();
    const from = current * DRAWN;
    if (!list.length) {
      timeline.innerHTML = '<p class="muted" style="margin:12px 0 0">' + (running ? "No step has started yet." : "This run executed no steps.") + "</p>";
      updatePager(from, 0);
      return;
    }
    // The whole run's axis, whichever window is drawn, so that windows compare.
    const now = Date.now() / 1000;
    let t0 = list[0].start, t1 = Math.max(stepsEnd || 0, ended || 0);
    list.forEach((s) => {
      t0 = Math.min(t0, s.start);
      t1 = Math.max(t1, s.end !== null ? s.end : running ? now : s.start);
    });
    if (firstStart !== null) t0 = Math.min(t0, firstStart);
    if (info.started_at !== null) t0 = Math.min(t0, info.started_at);
    if (running) t1 = Math.max(t1, now);
    t1 = Math.max(t1, t0 + 0.001);
    const span = t1 - t0;
    const frag = document.createDocumentFragment();
    const axis = document.createElement("div");
    axis.className = "timeline-axis";
    axis.innerHTML = "<span></span><span class='ticks'>" + [0, 0.25, 0.5, 0.75, 1].map((f) => "<span>" + BH.duration(span * f) + "</span>").join("") + "</span><span></span>";
    frag.append(axis);
    list.forEach((s) => {
      const end = s.end !== null ? s.end : running ? now : s.start;  // running or waiting to retry
      const div = document.createElement("div");
      div.className = "timeline-row";
      div.dataset.step = s.key;
      div.dataset.state = s.state;
      const name = document.createElement("span");
      name.className = "step";
      name.textContent = s.key;
      name.title = s.key;
      const track = document.createElement("div");
      track.className = "track";
      const bar = document.createElement("div");
      bar.className = "bar bar-" + s.state;
      bar.style.left = ((s.start - t0) / span) * 100 + "%";
      bar.style.width = Math.max(0, ((end - s.start) / span) * 100) + "%";
      const tries = s.attempts > 1 ? s.attempts + " attempts" : "";
      div.dataset.attempts = s.attempts;
      bar.title = s.key + ": " + LABELS[s.state] + " in " + BH.duration(end - s.start) + (tries ? ", " + tries : "");
      track.append(bar);
      const dur = document.createElement("span");
      dur.className = "dur";
      dur.textContent = (s.state === "muted" ? "skipped" : BH.duration(end - s.start)) + (tries ? " · " + tries : "");
      dur.title = bar.title;
      div.append(name, track, dur);
      frag.append(div);
    });
    timeline.replaceChildren(frag);
    updatePager(from, list.length);
  }

  // ---- stream -----------------------------------------------------------------------------
  function atBottom() { return wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 40; }
  let timelineQueued = false;
  function queueTimeline() {
    if (timelineQueued) return;
    timelineQueued = true;
    requestAnimationFrame(() => { timelineQueued = false; drawTimeline(); });
  }
  const header = document.getElementById("run-header");
  function connect() {
    const source = new EventSource("/api/runs/" + encodeURIComponent(info.run_id) + "/stream?after=" + info.last_id);
    source.addEventListener("event", (msg) => {
      const e = JSON.parse(msg.data);
      if (e.storage_id && e.storage_id <= info.last_id) return;
      info.last_id = e.storage_id || info.last_id;
      const follow = atBottom();
      const tr = row(e);
      tr.hidden = !matches(tr);
      log.append(tr);
      markRow(tr, true);
      addStepOption(e.step_key);
      empty.hidden = !!log.querySelector("tr:not([hidden])");
      if (follow) wrap.scrollTop = wrap.scrollHeight;
      status.textContent = counted(log.children.length);
      queueTimeline();
    });
    source.addEventListener("run", (msg) => {
      const run = JSON.parse(msg.data);
      running = !["SUCCESS", "FAILURE", "CANCELED"].includes(run.status);
      ended = run.ended_at;
      if (run.status !== info.status) {
        info.status = run.status;
        if (header._refresh) header._refresh();
      }
      queueTimeline();
    });
    source.addEventListener("end", () => {
      source.close();
      running = false;
      document.body.dataset.runStream = "ended";
      if (header._refresh) header._refresh();
      refreshWindow();
    });
    source.onerror = () => {
      status.textContent = "Connection lost; reconnecting…";
    };
  }

  // ---- earlier pages ------------------------------------------------------------------------
  async function loadEarlier() {
    const cursor = earlierButton.dataset.cursor;
    if (!cursor || earlierButton.disabled) return;
    earlierButton.disabled = true;
    try {
      const url = "/api/runs/" + encodeURIComponent(info.run_id) + "/events?limit=200&cursor=" + encodeURIComponent(cursor);
      const response = await fetch(url);
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      const page = await response.json();
      const before = wrap.scrollHeight;
      const frag = document.createDocumentFragment();
      page.events.filter((e) => !e.corrupt).forEach((e) => {
        const tr = row(e);
        tr.dataset.earlier = "true";
        tr.hidden = !matches(tr);
        frag.append(tr);
        addStepOption(e.step_key);
      });
      log.prepend(frag);
      wrap.scrollTop += wrap.scrollHeight - before;  // keep what was in view in view
      earlierButton.dataset.cursor = page.cursor || "";
      earlierButton.hidden = !page.cursor;
      applyFilters();
    } catch (err) {
      status.textContent = "Could not load earlier events: " + err.message;
    }
    earlierButton.disabled = false;
  }
  if (earlierButton) earlierButton.addEventListener("click", (e) => { e.preventDefault(); loadEarlier(); });

  applyFilters();
  loadSteps();
  drawTimeline();
  wrap.scrollTop = wrap.scrollHeight;
  if (running) {
    connect();
    setInterval(() => running && drawTimeline(), 500);
  } else {
    document.body.dataset.runStream = "ended";
  }
})();
