// Asset catalog: filters and sorts the rows the server embedded, as you type, and keeps the
// filters in the address. The rules match `CatalogQuery` in web/catalog.py (keep them alike):
// q is a case-insensitive part of the key; group, location, kind, owner and status must each
// hold; a sort on a column puts rows without a value last in either direction, ties by key.
// The whole filtered and sorted list stays in memory, but only the rows in (and a little
// around) the viewport are in the table: rows have one fixed height and the table body's
// padding stands for the rest, so the scrollbar is that of every row. 50,000 rows in the DOM
// took seconds to write and lay out; a window of them takes a millisecond.
"use strict";
(() => {
  const FILTERS = ["group", "location", "kind", "owner", "status"];
  const STATUS_ORDER = { failed: 0, running: 1, queued: 2, never: 3, materialized: 4 };
  const STATUS_PILL = {
    materialized: ["ok", "Materialized"], never: ["muted", "Never"],
    failed: ["bad", "Failed"], running: ["info", "Running"], queued: ["muted", "Queued"],
  };
  const form = document.getElementById("catalog-filters");
  const search = document.getElementById("catalog-search");
  const sortInput = document.getElementById("catalog-sort");
  const table = document.getElementById("catalog");
  const body = document.getElementById("catalog-body");
  const count = document.getElementById("catalog-count");
  const empty = document.getElementById("catalog-empty");

  let data, F, rows = [], shown = [];

  const LISTS = { group: "groups", location: "locations", kind: "kinds", owner: "owners" };

  // One style rule per location colour, so rows carry a class rather than a style to parse.
  const colorSheet = document.head.appendChild(document.createElement("style"));
  let locIndex = new Map();

  function load(payload) {
    const first = !data;
    data = payload;
    F = Object.fromEntries(data.fields.map((name, i) => [name, i]));
    rows = data.rows;
    // Repeated values (group, location, kinds, owners, state, run) come as indexes into the
    // payload's tables (`catalog.page_payload`); put the values back in place, once.
    Object.entries(data.interned).forEach(([name, values]) => {
      const i = F[name];
      for (const r of rows) if (r[i] !== null) r[i] = values[r[i]];
    });
    locIndex = new Map(data.locations.map((name, i) => [name, i]));
    colorSheet.textContent = data.locations.map((name, i) => "#catalog-body .loc-" + i + "{background:" + data.colors[name] + "}").join("\n");
    // The server rendered the options of the first payload; a later one may add or drop some.
    if (!first) Object.entries(LISTS).forEach(([name, list]) => fillOptions(name, data[list]));
  }

  function fillOptions(name, values) {
    const select = document.getElementById("filter-" + name);
    const chosen = select.value;
    const wanted = values.includes(chosen) || !chosen ? values : values.concat([chosen]);
    const have = [...select.options].slice(1).map((o) => o.value);
    if (have.join("\n") === wanted.join("\n")) return;
    select.length = 1;
    wanted.forEach((v) => select.add(new Option(v, v, false, v === chosen)));
  }

  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);
  // 12,345: by hand, as Intl formatting thousands of numbers costs a visible delay.
  const grouped = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const assetUrl = (key) => "/assets/" + key.split("/").map(encodeURIComponent).join("/");

  // ---- filtering and sorting -------------------------------------------------------------
  function query() {
    const q = { q: search.value.trim().toLowerCase(), sort: sortInput.value || "key" };
    FILTERS.forEach((name) => { q[name] = document.getElementById("filter-" + name).value || null; });
    return q;
  }

  function matches(r, q) {
    return (!q.q || r[F.key].toLowerCase().includes(q.q)) &&
      (q.group === null || r[F.group] === q.group) &&
      (q.location === null || r[F.location] === q.location) &&
      (q.kind === null || r[F.kinds].includes(q.kind)) &&
      (q.owner === null || r[F.owners].includes(q.owner)) &&
      (q.status === null || r[F.state] === q.status);
  }

  const SORT_VALUE = {
    key: (r) => r[F.key],
    group: (r) => r[F.group],
    location: (r) => r[F.location],
    status: (r) => (r[F.state] in STATUS_ORDER ? STATUS_ORDER[r[F.state]] : 9),
    partitions: (r) => (r[F.partitions] ? (r[F.partitions][1] ? r[F.partitions][0] / r[F.partitions][1] : 0) : null),
    materialized: (r) => r[F.materialized_at],
    checks: (r) => (r[F.checks] ? [r[F.checks][2], r[F.checks][1]] : null),
  };

  function compare(a, b) {
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i++) { const c = compare(a[i], b[i]); if (c) return c; }
      return 0;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function apply(q) {
    const field = q.sort.replace(/^-/, "");
    const value = SORT_VALUE[field] || SORT_VALUE.key;
    const desc = q.sort.startsWith("-");
    const kept = rows.filter((r) => matches(r, q));
    // Rows arrive in key order; stable sorts keep it for ties, also when descending.
    const present = [], absent = [];
    kept.forEach((r) => (value(r) === null || value(r) === undefined ? absent : present).push(r));
    const withValue = present.map((r) => [value(r), r]);
    withValue.sort((x, y) => (desc ? compare(y[0], x[0]) : compare(x[0], y[0])));
    return withValue.map((p) => p[1]).concat(absent);
  }

  // ---- drawing ---------------------------------------------------------------------------
  function partitionsCell(p) {
    if (!p) return '<td class="muted">—</td>';
    const pct = p[1] ? Math.round((p[0] / p[1]) * 100) : 0;
    return '<td title="' + p[0] + " of " + p[1] + ' partitions materialized"><span class="part-count">' +
      grouped(p[0]) + "/" + grouped(p[1]) + '</span><span class="part-bar"><i style="width:' + pct + '%"></i></span></td>';
  }

  function checksCell(c) {
    if (!c) return '<td class="muted">—</td>';
    const [total, passed, failed] = c;
    const rest = total - passed - failed;
    return '<td title="' + passed + " passed, " + failed + " failed, " + rest + ' not run of ' + total + '">' +
      (passed ? '<span class="check-ok">✓ ' + passed + "</span> " : "") +
      (failed ? '<span class="check-bad">✗ ' + failed + "</span> " : "") +
      (rest ? '<span class="muted">' + rest + " not run</span>" : "") + "</td>";
  }

  const FRESHNESS_PILL = { PASS: "ok", WARN: "warn", FAIL: "bad", UNKNOWN: "muted" };
  function freshnessCell(f) {
    if (!f) return '<td class="muted">—</td>';
    const [state, label, reason] = f;
    return '<td><span class="pill pill-' + (FRESHNESS_PILL[state] || "muted") + '" data-freshness="' + esc(state) +
      '" title="' + esc(reason) + '">' + esc(label) + "</span></td>";
  }

  // Row `i` of the list (0-based); aria-rowindex counts the header as row 1.
  function rowHtml(r, i) {
    const key = r[F.key], loc = r[F.location], state = r[F.state];
    const [style, label] = STATUS_PILL[state] || ["muted", state];
    const at = r[F.materialized_at];
    return '<tr role="row" aria-rowindex="' + (i + 2) + '" data-key="' + esc(key) + '">' +
      '<td class="key-cell"><a href="' + esc(assetUrl(key)) + '">' + esc(key) + "</a>" + (r[F.external] ? ' <span class="tag">external</span>' : "") + "</td>" +
      "<td>" + esc(r[F.group]) + "</td>" +
      (loc === null ? '<td class="muted">none</td>' : '<td><i class="loc-dot loc-' + locIndex.get(loc) + '"></i>' + esc(loc) + "</td>") +
      "<td>" + r[F.kinds].map((k) => '<span class="tag kind-tag" data-kind="' + esc(String(k).toLowerCase()) + '">' + esc(k) + "</span>").join(" ") + "</td>" +
      '<td class="owners-cell">' + esc(r[F.owners].join(", ")) + "</td>" +
      '<td><span class="pill pill-' + style + '" data-status="' + state + '">' + label + "</span></td>" +
      partitionsCell(r[F.partitions]) +
      (at === null ? '<td class="muted">—</td>' : '<td><a class="ago" data-at="' + at + '" href="/runs/' + encodeURIComponent(r[F.materialized_run]) + '">' + BH.ago(at) + "</a></td>") +
      checksCell(r[F.checks]) + freshnessCell(r[F.freshness]) + "</tr>";
  }

  // ---- the window of rows in the DOM ---------------------------------------------------------
  // Every row is rowPx high (app.css fixes it at 37 px); the rows drawn are those in the
  // viewport and OVERSCAN more each side, redrawn when the viewport comes within MARGIN rows of
  // an edge of them, so scrolling redraws every few dozen rows and Tab always has a next row.
  let rowPx = 37;
  const OVERSCAN = 30, MARGIN = 8;
  let drawn = { start: 0, end: 0 };
  let measured = false;
  const timings = {};

  // The rows of `shown` the viewport shows now, [first, last).
  function inView() {
    const top = body.getBoundingClientRect().top; // where row 0 is (the padding stands for it)
    const n = shown.length;
    let first = Math.min(n, Math.max(0, Math.floor(-top / rowPx)));
    let last = Math.min(n, Math.max(0, Math.ceil((window.innerHeight - top) / rowPx)));
    // Scrolled past the end (the list just got shorter): the browser will clamp the scroll to
    // the end of the page, which shows the list's last rows.
    if (first >= n) { first = Math.max(0, n - Math.ceil(window.innerHeight / rowPx)); last = n; }
    return [first, last];
  }

  // Draw the rows around the viewport, unless those drawn still cover it (or `force`).
  function drawWindow(force) {
    const n = shown.length;
    const [first, last] = inView();
    if (!force && (drawn.start === 0 || first - MARGIN >= drawn.start) &&
        (drawn.end === n || last + MARGIN <= drawn.end) && drawn.end <= n) return;
    const start = Math.max(0, first - OVERSCAN), end = Math.min(n, last + OVERSCAN);
    // Keep the focus on the link it was on (Tab through rows redraws the window under it).
    const active = body.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = active && active.closest("tr") ? active.closest("tr").dataset.key : null;
    const focusAgo = !!(active && active.classList.contains("ago"));
    let html = "";
    for (let i = start; i < end; i++) html += rowHtml(shown[i], i);
    body.style.paddingTop = start * rowPx + "px";
    body.style.paddingBottom = (n - end) * rowPx + "px";
    body.innerHTML = html;
    drawn = { start, end };
    if (focusKey !== null) {
      const row = [...body.rows].find((tr) => tr.dataset.key === focusKey);
      const link = row && row.querySelector(focusAgo ? "a.ago" : ".key-cell a");
      if (link) link.focus({ preventScroll: true });
    }
    // The height app.css gives a row, measured once: zoom or a font may round it otherwise.
    if (body.rows.length && !measured) {
      measured = true;
      const height = body.rows[0].getBoundingClientRect().height;
      if (height > 0 && Math.abs(height - rowPx) > 0.1) { rowPx = height; drawWindow(true); }
    }
  }

  let scrolling = 0;
  function onScroll() {
    if (scrolling) return;
    scrolling = requestAnimationFrame(() => { scrolling = 0; drawWindow(false); });
  }

  function render() {
    const started = performance.now();
    const q = query();
    shown = apply(q);
    const applied = performance.now();
    table.setAttribute("aria-rowcount", String(shown.length + 1)); // with the header row
    drawWindow(true);
    Object.assign(timings, { apply: applied - started, draw: performance.now() - applied });
    // The scroll position may have been clamped by a shorter list: check the window next frame.
    onScroll();
    empty.hidden = shown.length > 0;
    count.textContent = (shown.length === rows.length ? "" : grouped(shown.length) + " of ") +
      grouped(rows.length) + " asset" + (rows.length === 1 ? "" : "s");
    const field = q.sort.replace(/^-/, "");
    document.querySelectorAll("#catalog th[aria-sort]").forEach((th) => {
      const on = th.querySelector("[data-sort]").dataset.sort === field;
      th.setAttribute("aria-sort", on ? (q.sort.startsWith("-") ? "descending" : "ascending") : "none");
    });
    // The view lives in the address, so it can be linked and survives a reload.
    const params = new URLSearchParams();
    if (search.value.trim()) params.set("q", search.value.trim());
    FILTERS.forEach((name) => { if (q[name] !== null) params.set(name, q[name]); });
    if (q.sort !== "key") params.set("sort", q.sort);
    const url = "/assets" + (params.toString() ? "?" + params : "");
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
    document.body.dataset.catalog = "ready";
  }

  let frame = 0;
  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; render(); });
  }

  // ---- events ----------------------------------------------------------------------------
  search.addEventListener("input", schedule);
  FILTERS.forEach((name) => document.getElementById("filter-" + name).addEventListener("change", schedule));
  form.addEventListener("submit", (e) => { e.preventDefault(); render(); });
  document.getElementById("catalog-clear").addEventListener("click", (e) => {
    e.preventDefault();
    search.value = "";
    FILTERS.forEach((name) => { document.getElementById("filter-" + name).value = ""; });
    sortInput.value = "key";
    render();
  });
  document.querySelector("#catalog thead").addEventListener("click", (e) => {
    const button = e.target.closest("[data-sort]");
    if (!button) return;
    const field = button.dataset.sort;
    sortInput.value = sortInput.value === field ? "-" + field : field;
    render();
  });
  // The exact time on hover, computed then: 5,000 formatted dates would cost a first draw.
  body.addEventListener("mouseover", (e) => {
    const a = e.target.closest("a[data-at]");
    if (a && !a.title) a.title = BH.exact(parseFloat(a.dataset.at));
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== search && !e.target.closest("input, select, textarea")) {
      e.preventDefault();
      search.focus();
    }
  });

  // Live: runs and materializations change statuses and counts; read the rows again (at most
  // every 2 s), keeping the filters and the scroll position (the window is drawn where it is).
  let refreshTimer = 0;
  function refresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = 0;
      try {
        load(await BH.api("GET", "/assets?part=data"));
        render();
      } catch (_) { /* the next event asks again */ }
    }, 2000);
  }
  ["runs", "materializations", "locations"].forEach((name) => BH.on(name, refresh));
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll);
  setInterval(() => body.querySelectorAll("a[data-at]").forEach((a) => { a.textContent = BH.ago(parseFloat(a.dataset.at)); }), 30000);

  // ---- start -----------------------------------------------------------------------------
  const parsing = performance.now();
  load(JSON.parse(document.getElementById("catalog-data").textContent));
  timings.parse = performance.now() - parsing;
  render();

  // A small handle for tests and the bench.
  window.bhCatalog = {
    shownKeys: () => shown.map((r) => r[F.key]),
    // Rows in the DOM (a window of shownKeys), and where that window starts in it.
    renderedRows: () => body.rows.length,
    renderedFrom: () => drawn.start,
    rowHeight: () => rowPx,
    total: () => rows.length,
    // Milliseconds of the last draw's steps (apply: filter and sort; draw: the window;
    // parse: the embedded rows, on load).
    timings: () => ({ ...timings }),
  };
})();
