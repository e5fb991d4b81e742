// Run page, step output: a pane per step with its stdout and stderr, each streamed from
// /api/runs/{id}/logs/{step}/stream from the byte offset it has shown so far (a reconnect
// resumes there, a pane shown again reads only what is new). Follows the step that started
// last until someone picks a step. Text is added as text nodes: nothing in it is markup.
"use strict";
(() => {
  const info = JSON.parse(document.getElementById("run-data").textContent);
  const select = document.getElementById("logs-step");
  const panes = document.getElementById("logs-panes");
  const none = document.getElementById("logs-none");
  const note = document.getElementById("logs-note");
  const tabs = [...document.querySelectorAll("#compute-logs [data-stream]")];
  const byStep = new Map(); // step -> {pane, streams: {stdout: {pre, offset, done}, ...}}
  let stream = "stdout";
  let picked = false; // someone chose a step: stop following the newest
  let source = null;

  function paneOf(step) {
    let entry = byStep.get(step);
    if (entry) return entry;
    const pane = document.createElement("div");
    pane.className = "logs-pane";
    pane.dataset.step = step;
    pane.hidden = true;
    const streams = {};
    ["stdout", "stderr"].forEach((name) => {
      const pre = document.createElement("pre");
      pre.className = "compute-log";
      pre.dataset.stream = name;
      pre.setAttribute("aria-label", step + " " + name);
      pre.hidden = true;
      pane.append(pre);
      streams[name] = { pre, offset: 0, done: false, bytes: 0 };
    });
    panes.append(pane);
    entry = { pane, streams };
    byStep.set(step, entry);
    return entry;
  }

  // `earlier`: the step started on a page of the log loaded later (older events), so it is
  // listed first and does not take over from the step being followed.
  function addStep(step, earlier) {
    if (!step) return;
    if (![...select.options].some((o) => o.value === step)) {
      const option = document.createElement("option");
      option.value = option.textContent = step;
      if (earlier) select.prepend(option); else select.append(option);
    }
    none.hidden = true;
    if (!picked && !(earlier && select.value)) {
      select.value = step;
      show();
    }
  }

  function describe(entry) {
    const s = entry.streams[stream];
    const where = s.done ? "complete" : "live";
    note.textContent = s.bytes
      ? s.bytes.toLocaleString() + " bytes of " + stream + ", " + where
      : s.done ? "This step wrote nothing to " + stream + "." : "Waiting for output on " + stream + "…";
  }

  function show() {
    const step = select.value;
    if (source) { source.close(); source = null; }
    if (!step) return;
    const entry = paneOf(step);
    byStep.forEach((other) => { other.pane.hidden = other !== entry; });
    Object.entries(entry.streams).forEach(([name, s]) => { s.pre.hidden = name !== stream; });
    tabs.forEach((tab) => {
      const on = tab.dataset.stream === stream;
      tab.classList.toggle("on", on);
      tab.setAttribute("aria-selected", String(on));
    });
    describe(entry);
    const s = entry.streams[stream];
    if (s.done) return;
    const url = "/api/runs/" + encodeURIComponent(info.run_id) + "/logs/" + encodeURIComponent(step) +
      "/stream?stream=" + stream + "&offset=" + s.offset;
    const opened = new EventSource(url);
    source = opened;
    opened.addEventListener("log", (msg) => {
      const chunk = JSON.parse(msg.data);
      if (chunk.offset !== s.offset) return; // a resent chunk: this pane has it already
      const follow = s.pre.scrollHeight - s.pre.scrollTop - s.pre.clientHeight < 40;
      s.pre.append(document.createTextNode(chunk.data));
      s.offset = chunk.next_offset;
      s.bytes = chunk.next_offset;
      if (follow) s.pre.scrollTop = s.pre.scrollHeight;
      describe(entry);
    });
    opened.addEventListener("end", () => {
      opened.close();
      if (source === opened) source = null;
      s.done = true;
      describe(entry);
    });
    opened.onerror = () => {
      if (!s.done) note.textContent = "Connection lost; reconnecting…";
    };
  }

  select.addEventListener("change", () => { picked = true; show(); });
  tabs.forEach((tab) => tab.addEventListener("click", (e) => {
    e.preventDefault();
    stream = tab.dataset.stream;
    show();
  }));

  // Steps that start while the page is open: the event log's script adds a row for each event.
  const log = document.getElementById("log");
  new MutationObserver((records) => {
    records.forEach((r) => r.addedNodes.forEach((node) => {
      if (node.dataset && node.dataset.type === "STEP_START") addStep(node.dataset.step, !!node.dataset.earlier);
    }));
  }).observe(log, { childList: true });

  [...select.options].forEach((o) => paneOf(o.value));
  // Show the first step that failed, else the one that started last (the one running, while
  // the run runs).
  if (select.options.length) {
    const failed = log.querySelector("tr[data-type=STEP_FAILURE]");
    const known = failed && [...select.options].some((o) => o.value === failed.dataset.step);
    select.value = known ? failed.dataset.step : select.options[select.options.length - 1].value;
    show();
  }
})();
