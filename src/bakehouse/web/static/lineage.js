// Global asset lineage: draws the server's layout on a canvas, with pan, zoom, search,
// selection, filters and live asset statuses. Only what is in view is drawn, and detail
// drops as you zoom out, so thousands of assets stay smooth.
"use strict";
(() => {
  const canvas = document.getElementById("lineage-canvas");
  const wrap = document.getElementById("canvas-wrap");
  const ctx = canvas.getContext("2d");
  const panel = document.getElementById("side-panel");
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const C = {
    text: color("--text"), muted: color("--muted"), faint: color("--faint"),
    border: color("--border-strong"), accent: color("--accent"), surface: "#ffffff",
    ok: color("--ok"), info: color("--info"), bad: color("--bad"), warn: color("--warn"),
    edge: "#a9b2c1",
  };
  const STATE_COLOR = { materialized: C.ok, never: "#c5ccd6", failed: C.bad, running: C.info, queued: "#8aa4c8" };
  const STATE_TEXT = {
    materialized: "Materialized", never: "Never materialized", failed: "Failed in last run",
    running: "Running…", queued: "Queued",
  };
  const MIN_ZOOM = 0.01, MAX_ZOOM = 2.5;
  // Past this many edges in view the graph is an overview: nodes are blocks and only the
  // edges of the selection are drawn (at that zoom each edge is under a pixel; stroking tens of
  // thousands would cost frames, not show more).
  const EDGE_BUDGET = 20000;
  // A node far out is at least this many screen pixels, so every asset stays visible.
  const MIN_BLOCK_PX = 1.5;
  // Zooming out stops at MIN_ZOOM, or at the zoom that fits the whole graph if that is less.
  let minZoom = MIN_ZOOM;
  const SANS = css.getPropertyValue("--sans");

  let graph, nodes, edges, byKey, parents, children, edgesOf, locationColor, W, H;
  const view = { k: 1, x: 0, y: 0 };
  let selected = new Set();
  let focus = -1, hover = -1;
  let newestRun = new Map();
  let frameRequested = false;
  const drawn = { nodes: 0, edges: [], ms: 0, lod: 2, overview: false };
  const dpr = () => window.devicePixelRatio || 1;
  // The job page draws a job's graph with this script too, without the lineage page's toolbar.
  const byId = (id) => document.getElementById(id) || document.createElement("div");
  const listen = (id, name, fn) => { const node = document.getElementById(id); if (node) node.addEventListener(name, fn); };

  // ---- data ------------------------------------------------------------------------------
  // The lineage page fetches the structure (/api/graph, revalidated by its ETag) and the
  // statuses (/api/graph/status) apart; a job's page embeds both in one piece (#graph-data).
  const embedded = document.getElementById("graph-data");
  let statusCursor = null, helloCursor = null;

  function load(data) {
    graph = data;
    nodes = data.nodes;
    edges = data.edges;
    W = data.node_width;
    H = data.node_height;
    byKey = new Map(nodes.map((n, i) => [n.key, i]));
    parents = nodes.map(() => []);
    children = nodes.map(() => []);
    edgesOf = nodes.map(() => []);
    edges.forEach(([p, c], e) => { parents[c].push(p); children[p].push(c); edgesOf[p].push(e); edgesOf[c].push(e); });
    // Colours come from the server, derived from each location's name: the same on every load.
    locationColor = new Map(data.locations.map((b) => [b.location, b.color || "#98a2b3"]));
    nodes.forEach((n) => { n._label = null; });
    selected = new Set([...selected].filter((k) => byKey.has(k)));
    focus = -1;
    hover = -1;
    byId("lineage-stats").textContent =
      nodes.length + " of " + data.total + " assets · " + data.locations.length +
      " location" + (data.locations.length === 1 ? "" : "s");
    byId("lineage-empty").hidden = nodes.length > 0;
    const all = document.querySelector("#materialize-all button");
    if (all) all.disabled = !nodes.some((n) => !n.external);
    emptyText();
  }

  function emptyText() {
    if (nodes.length) return;
    const stillLoading = (graph.locations_state || []).some((l) => l.status === "LOADING");
    if (stillLoading) {
      byId("empty-title").textContent = "Loading code locations…";
      byId("empty-text").textContent = "The graph appears as soon as they have loaded.";
    }
  }

  // Live updates that arrive before the graph has loaded wait for it (applying one twice is
  // harmless: each sets the newest state).
  let early = [];
  const whenLoaded = (fn) => (data) => { if (graph && early === null) fn(data); else if (early) early.push(() => fn(data)); };

  // Statuses arrive as arrays in the order of the structure's nodes (see graph_view.py).
  function applyStatus(st) {
    if (st.version !== graph.version) { refreshGraph(); return; }
    nodes.forEach((n, i) => {
      n.state = st.states[st.state[i]];
      n.materialized_at = st.materialized_at[i];
      const made = st.materialized_run[i];
      n.materialized_run = made === null ? null : st.runs[made][0];
      const r = st.run[i];
      n.run_id = r === null ? null : st.runs[r][0];
      if (r !== null && st.runs[r][1]) {
        const [run_id, status, created_at] = st.runs[r];
        const known = newestRun.get(n.key);
        if (!known || known.created_at <= created_at) newestRun.set(n.key, { run_id, status, created_at, asset_selection: [] });
      }
      n.partitions = st.partitions[String(i)] || null;
      n.unsynced = st.unsynced[String(i)] || [];
      n.unsynced_reasons = st.unsynced_reasons[String(i)] || [];
    });
    graph.locations_state = st.locations_state;
    emptyText();
    statusCursor = st.cursor;
    checkGap();
  }

  // A status read before the stream started misses what changed in between: read it again.
  let gapTimer = 0;
  function checkGap() {
    if (embedded || statusCursor === null || helloCursor === null || statusCursor >= helloCursor) return;
    if (gapTimer) return;
    gapTimer = setTimeout(() => { gapTimer = 0; refreshStatus(); }, 50);
  }

  async function refreshStatus() {
    try {
      applyStatus(await fetchStatus(filter));
      invalidate();
      renderPanel();
    } catch (_) { /* the next change asks again */ }
  }

  function assetState(n) {
    const run = newestRun.get(n.key);
    if (run && n.materialized_run !== run.run_id) {
      if (run.status === "QUEUED") return "queued";
      if (run.status === "STARTING" || run.status === "STARTED" || run.status === "CANCELING") return "running";
      if (run.status === "FAILURE" || run.status === "CANCELED") return "failed";
    }
    if (run && run.status === "SUCCESS" && n.materialized_at == null) return "materialized";
    return n.materialized_at != null ? "materialized" : "never";
  }

  // The stream sends the runs whose status changed (a catch-up sends the newest runs): each
  // becomes the newest run of its assets unless a newer run of theirs is already known.
  function onRuns(runs) {
    const touched = new Set();
    runs.forEach((run) => run.asset_selection.forEach((key) => {
      const known = newestRun.get(key);
      if (!known || known.run_id === run.run_id || run.created_at >= known.created_at) {
        newestRun.set(key, run);
        touched.add(key);
      }
    }));
    touched.forEach((key) => {
      const i = byKey.get(key);
      if (i !== undefined) { nodes[i].state = assetState(nodes[i]); nodes[i].run_id = newestRun.get(key).run_id; }
    });
    invalidate();
    renderPanel();
  }

  function onMaterializations(changed) {
    Object.entries(changed).forEach(([key, m]) => {
      const i = byKey.get(key);
      if (i === undefined) return;
      nodes[i].materialized_at = m.timestamp;
      nodes[i].materialized_run = m.run_id;
      nodes[i].state = assetState(nodes[i]);
      // Its partition counts, and whether it and what is downstream are in sync, are read
      // again from the server rather than guessed.
      countsStale = true;
    });
    if (countsStale) refreshPartitionCounts();
    invalidate();
    renderPanel();
  }

  // A partition materialized: its asset's "7/12" is read again (once a second at most) rather
  // than guessed, since the partition may have been materialized before. Each read rebuilds
  // every node's status on the server (tens of thousands of assets: a large share of a
  // second), so the reads are spaced by at least three times what the last one took: a
  // long run seen on a huge graph costs the server at most about a quarter of a core.
  let countsStale = false, countsTimer = 0, lastReadMs = 0;
  function refreshPartitionCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(async () => {
      countsTimer = 0;
      countsStale = false;
      const started = performance.now();
      try {
        if (embedded) {
          const data = await fetchEmbeddedShape(filter);
          data.nodes.forEach((m) => {
            const i = byKey.get(m.key);
            if (i !== undefined) {
              nodes[i].partitions = m.partitions;
              nodes[i].unsynced = m.unsynced;
              nodes[i].unsynced_reasons = m.unsynced_reasons;
            }
          });
        } else {
          const st = await fetchStatus(filter);
          if (st.version === graph.version) applyStatus(st);
        }
        invalidate();
        renderPanel();
      } catch (_) { /* the next materialization asks again */ }
      lastReadMs = performance.now() - started;
    }, Math.max(1000, 3 * lastReadMs));
  }

  // Never materialized shows as the state already; the mark is for what was and is now behind.
  function isUnsynced(n) {
    return !!n.unsynced && n.unsynced.some((c) => c === "upstream" || c === "code");
  }

  function partitionText(n) {
    return n.partitions ? n.partitions[0].toLocaleString("en") + "/" + n.partitions[1].toLocaleString("en") : "";
  }

  // ---- view ------------------------------------------------------------------------------
  function resize() {
    const r = wrap.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(r.width * dpr()));
    canvas.height = Math.max(1, Math.round(r.height * dpr()));
    invalidate();
  }

  function size() { return { w: canvas.width / dpr(), h: canvas.height / dpr() }; }

  function fit() {
    animation++;
    const { w, h } = size();
    if (!nodes.length) return;
    const pad = 40;
    const k = Math.min((w - pad * 2) / graph.width, (h - pad * 2) / graph.height, 1);
    // A graph too large for MIN_ZOOM still fits whole: far out, every node is a block.
    minZoom = Math.min(MIN_ZOOM, k);
    view.k = Math.max(minZoom, k);
    view.x = (w - graph.width * view.k) / 2;
    view.y = Math.max(pad, (h - graph.height * view.k) / 2);
    if (graph.height * view.k > h) view.y = pad;
    invalidate();
  }

  function zoomAt(factor, sx, sy) {
    animation++;
    const k = Math.min(MAX_ZOOM, Math.max(minZoom, view.k * factor));
    view.x = sx - ((sx - view.x) * k) / view.k;
    view.y = sy - ((sy - view.y) * k) / view.k;
    view.k = k;
    invalidate();
  }

  function centerOn(i, minZoom) {
    const { w, h } = size();
    const n = nodes[i];
    const target = { k: Math.max(view.k, minZoom || 0.8) };
    target.x = w / 2 - (n.x + W / 2) * target.k;
    target.y = h / 2 - (n.y + H / 2) * target.k;
    animateTo(target);
  }

  let animation = 0; // bumped by any other move, which stops a running animation
  function animateTo(target) {
    const start = { ...view }, t0 = performance.now(), ms = 260, token = ++animation;
    function step(now) {
      if (token !== animation) return;
      const t = Math.min(1, (now - t0) / ms), e = 1 - Math.pow(1 - t, 3);
      view.k = start.k + (target.k - start.k) * e;
      view.x = start.x + (target.x - start.x) * e;
      view.y = start.y + (target.y - start.y) * e;
      draw();
      if (t < 1) requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  }

  function toWorld(sx, sy) { return { x: (sx - view.x) / view.k, y: (sy - view.y) / view.k }; }

  function hit(sx, sy) {
    const p = toWorld(sx, sy);
    // Far out a node is drawn larger than it is (MIN_BLOCK_PX): it is hit where it is drawn.
    const w = Math.max(W, MIN_BLOCK_PX / view.k), h = Math.max(H, MIN_BLOCK_PX / view.k);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (p.x >= n.x && p.x <= n.x + w && p.y >= n.y && p.y <= n.y + h) return i;
    }
    return -1;
  }

  // ---- drawing ---------------------------------------------------------------------------
  function invalidate() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => { frameRequested = false; draw(); });
  }

  function roundRect(x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  function fitText(text, max) {
    if (ctx.measureText(text).width <= max) return text;
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + "…").width <= max) lo = mid; else hi = mid - 1;
    }
    return text.slice(0, lo) + "…";
  }

  function draw() {
    if (!graph) return;
    const started = performance.now();
    const { w: sw, h: sh } = size();
    const k = view.k;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr() * k, 0, 0, dpr() * k, dpr() * view.x, dpr() * view.y);
    const vx0 = -view.x / k, vy0 = -view.y / k, vx1 = vx0 + sw / k, vy1 = vy0 + sh / k;
    const visible = (x, y, w, h) => x + w >= vx0 && x <= vx1 && y + h >= vy0 && y <= vy1;
    const states = new Map((graph.locations_state || []).map((s) => [s.name, s]));

    // Location boxes, then group lanes.
    graph.locations.forEach((b) => {
      if (!visible(b.x, b.y, b.width, b.height)) return;
      const c = locationColor.get(b.location);
      roundRect(b.x, b.y, b.width, b.height, 12);
      ctx.fillStyle = c + "0d";
      ctx.fill();
      ctx.lineWidth = 1.5 / Math.max(k, 0.35);
      ctx.strokeStyle = c + "66";
      ctx.stroke();
    });
    graph.lanes.forEach((b) => {
      if (!visible(b.x, b.y, b.width, b.height)) return;
      roundRect(b.x, b.y, b.width, b.height, 8);
      ctx.fillStyle = "rgba(255,255,255,0.72)";
      ctx.fill();
      ctx.lineWidth = 1 / Math.max(k, 0.35);
      ctx.strokeStyle = "#dfe3ea";
      ctx.stroke();
    });

    // Edges: plain, cross-location (dashed, accent) and those touching the selection.
    const lod = k < 0.28 ? 0 : k < 0.5 ? 1 : 2;
    const buckets = { plain: [], cross: [], hot: [] };
    drawn.edges = [];
    const inView = (e) => {
      const a = nodes[edges[e][0]], b = nodes[edges[e][1]];
      const x0 = a.x + W, y0 = a.y + H / 2, x1 = b.x, y1 = b.y + H / 2;
      return !(Math.max(x0, x1) < vx0 || Math.min(x0, x1) > vx1 || Math.max(y0, y1) < vy0 || Math.min(y0, y1) > vy1);
    };
    // Level of detail: count the edges in view first; past the budget only the selection's.
    let edgesInView = 0;
    if (lod === 0) for (let e = 0; e < edges.length && edgesInView <= EDGE_BUDGET; e++) if (inView(e)) edgesInView++;
    const overview = lod === 0 && edgesInView > EDGE_BUDGET;
    let candidates = null;
    if (overview) {
      const near = new Set();
      selected.forEach((key) => near.add(byKey.get(key)));
      if (focus >= 0) near.add(focus);
      candidates = [];
      near.forEach((i) => { if (i !== undefined) edgesOf[i].forEach((e) => candidates.push(e)); });
    }
    const edgeCount = candidates ? candidates.length : edges.length;
    for (let j = 0; j < edgeCount; j++) {
      const e = candidates ? candidates[j] : j;
      if (!inView(e)) continue;
      const [p, c] = edges[e];
      const a = nodes[p], b = nodes[c];
      drawn.edges.push(e);
      const hot = selected.has(a.key) || selected.has(b.key) || p === focus || c === focus;
      (hot ? buckets.hot : a.location !== b.location ? buckets.cross : buckets.plain).push([a.x + W, a.y + H / 2, b.x, b.y + H / 2]);
    }
    drawn.lod = lod;
    drawn.overview = overview;
    function strokeEdges(list, style, width, dash) {
      if (!list.length) return;
      ctx.beginPath();
      list.forEach(([x0, y0, x1, y1]) => {
        ctx.moveTo(x0, y0);
        if (lod === 0) { ctx.lineTo(x1, y1); return; }
        const dx = Math.max(40, Math.abs(x1 - x0) / 2);
        ctx.bezierCurveTo(x0 + dx, y0, x1 - dx, y1, x1, y1);
      });
      ctx.setLineDash(dash ? dash.map((d) => d / Math.max(k, 0.3)) : []);
      ctx.lineWidth = width / Math.max(k, 0.3);
      ctx.strokeStyle = style;
      ctx.stroke();
      ctx.setLineDash([]);
      if (lod === 2) {
        ctx.fillStyle = style;
        ctx.beginPath();
        list.forEach(([, , x1, y1]) => {
          ctx.moveTo(x1, y1);
          ctx.lineTo(x1 - 7, y1 - 4);
          ctx.lineTo(x1 - 7, y1 + 4);
          ctx.closePath();
        });
        ctx.fill();
      }
    }
    strokeEdges(buckets.plain, C.edge, 1.3);
    strokeEdges(buckets.cross, C.accent, 1.6, [6, 4]);
    strokeEdges(buckets.hot, C.accent, 2.4);

    // Nodes. Far out (tens of thousands in view) each is a block in its state's colour: one
    // path and one fill per colour, not a fill per node.
    let count = 0;
    const blocks = new Map();
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (!visible(n.x, n.y, W, H)) continue;
      count++;
      const state = n.state || "never";
      const isSel = selected.has(n.key);
      if (lod === 0) {
        const fill = isSel || i === focus ? C.accent : STATE_COLOR[state];
        let list = blocks.get(fill);
        if (!list) blocks.set(fill, (list = []));
        list.push(n);
        continue;
      }
      roundRect(n.x, n.y, W, H, 8);
      ctx.fillStyle = n.external ? "#f6f7f9" : C.surface;
      ctx.fill();
      if (i === focus) {
        ctx.save();
        ctx.shadowColor = C.accent;
        ctx.shadowBlur = 16;
        ctx.strokeStyle = C.accent;
        ctx.lineWidth = 3;
        ctx.stroke();
        ctx.restore();
      }
      ctx.lineWidth = isSel ? 2.5 : i === hover ? 1.8 : 1;
      ctx.strokeStyle = isSel ? C.accent : i === hover ? "#8d96a7" : C.border;
      if (n.external) ctx.setLineDash([4, 3]);
      ctx.stroke();
      ctx.setLineDash([]);
      // Status stripe on the left edge.
      ctx.save();
      roundRect(n.x, n.y, W, H, 8);
      ctx.clip();
      ctx.fillStyle = STATE_COLOR[state];
      ctx.fillRect(n.x, n.y, 5, H);
      ctx.restore();
      ctx.fillStyle = C.text;
      if (lod === 1) {
        // Zoomed out: the key alone, in a font that stays about 11 px on screen.
        const size = Math.min(30, Math.round(11 / k / 2) * 2);
        ctx.font = "600 " + size + "px " + SANS;
        if (n._labelSize !== size) { n._labelSize = size; n._label1 = fitText(n.key, W - 22); }
        ctx.fillText(n._label1, n.x + 13, n.y + H / 2 + size * 0.36);
        continue;
      }
      ctx.font = "600 13px " + SANS;
      const unsynced = isUnsynced(n);
      if (!n._label) n._label = fitText(n.key, W - (unsynced ? 40 : 26));
      ctx.fillText(n._label, n.x + 14, n.y + 22);
      if (unsynced && lod === 2) {
        // Unsynced (an upstream changed since, or its code version did): a warning mark.
        ctx.beginPath();
        ctx.arc(n.x + W - 14, n.y + 17, 7, 0, Math.PI * 2);
        ctx.fillStyle = C.warn;
        ctx.fill();
        ctx.fillStyle = "#ffffff";
        ctx.font = "700 10px " + SANS;
        ctx.fillText("!", n.x + W - 15.6, n.y + 20.6);
        ctx.fillStyle = C.text;
      }
      if (lod === 2) {
        ctx.font = "12px " + SANS;
        ctx.fillStyle = state === "failed" ? C.bad : state === "running" ? C.info : C.muted;
        let sub = n.external ? "External asset" : STATE_TEXT[state];
        // Missing because the module defining it failed to load: say where (file:line).
        if (n.failed_module) { ctx.fillStyle = C.bad; sub = fitText("Module failed: " + n.failed_module.split("/").pop(), W - 28); }
        if (n.partitions) {
          // Partitioned: how many of its partitions are materialized ("7/12 partitions").
          sub = (state === "materialized" || state === "never" ? "" : sub + " · ") + partitionText(n) + " partitions";
          if (state === "materialized" && n.materialized_at) sub += " · " + BH.ago(n.materialized_at);
          sub = fitText(sub, W - 28 - (n.kinds && n.kinds.length ? 60 : 0));
        } else if (state === "materialized" && n.materialized_at) sub += " " + BH.ago(n.materialized_at);
        ctx.fillText(sub, n.x + 14, n.y + 41);
        if (n.kinds && n.kinds.length) {
          const kind = n.kinds[0];
          ctx.font = "600 10.5px " + SANS;
          // The kind's icon (static/kinds.js) before its name, once the picture has loaded.
          const icon = BH.kindIcon ? BH.kindIcon(String(kind).toLowerCase()) : null;
          const iw = icon ? 14 : 0;
          const tw = ctx.measureText(kind).width + 10 + iw;
          roundRect(n.x + W - tw - 8, n.y + 31, tw, 15, 4);
          ctx.fillStyle = "#f2f4f7";
          ctx.fill();
          if (icon) {
            if (icon.complete) ctx.drawImage(icon, n.x + W - tw - 4, n.y + 32.5, 12, 12);
            else icon.onload = invalidate;
          }
          ctx.fillStyle = C.muted;
          ctx.fillText(kind, n.x + W - tw - 3 + iw, n.y + 42);
        }
      }
    }
    const bw = Math.max(W, MIN_BLOCK_PX / k), bh = Math.max(H, MIN_BLOCK_PX / k);
    blocks.forEach((list, fill) => {
      ctx.beginPath();
      list.forEach((n) => ctx.rect(n.x, n.y, bw, bh));
      ctx.fillStyle = fill;
      ctx.fill();
    });
    drawn.nodes = count;

    // Labels in screen space, so they stay readable at any zoom.
    ctx.setTransform(dpr(), 0, 0, dpr(), 0, 0);
    graph.locations.forEach((b) => {
      if (!visible(b.x, b.y, b.width, b.height)) return;
      const sx = b.x * k + view.x, sy = b.y * k + view.y;
      if (b.width * k < 40) return;
      const name = b.location === null ? "Not defined in any location" : b.location;
      const st = states.get(b.location);
      ctx.font = "700 13px " + SANS;
      ctx.fillStyle = locationColor.get(b.location);
      const label = fitText(name, Math.max(30, b.width * k - 24));
      ctx.fillText(label, Math.max(sx + 12, 8), Math.max(sy + 20, 16));
      if (st && st.status === "FAILED" && st.serving_last_good) {
        const lw = ctx.measureText(label).width;
        ctx.font = "600 11.5px " + SANS;
        ctx.fillStyle = C.warn;
        ctx.fillText("reload failed · serving last good", Math.max(sx + 12, 8) + lw + 10, Math.max(sy + 20, 16));
      }
    });
    graph.lanes.forEach((b) => {
      if (!visible(b.x, b.y, b.width, b.height) || b.width * k < 50 || b.height * k < 14) return;
      const sx = b.x * k + view.x, sy = b.y * k + view.y, sw2 = b.width * k, sh2 = b.height * k;
      if (k >= 0.45) {
        ctx.font = "600 11.5px " + SANS;
        ctx.fillStyle = C.muted;
        ctx.fillText(fitText(b.group, sw2 - 16), sx + 10, sy + Math.min(19, 19 * k + 2));
        return;
      }
      // Zoomed out: the group's name large across the middle of its box, over the nodes.
      const size = Math.max(12, Math.min(26, sh2 / 4));
      ctx.font = "700 " + size + "px " + SANS;
      const text = fitText(b.group, sw2 - 12);
      const tw = ctx.measureText(text).width;
      const cx = Math.min(Math.max(sx + sw2 / 2, 8 + tw / 2), sx + sw2 - tw / 2);
      const cy = Math.min(Math.max(sy + sh2 / 2, 40), sy + sh2 - 8);
      ctx.lineJoin = "round";
      ctx.lineWidth = 5;
      ctx.strokeStyle = "rgba(255,255,255,0.92)";
      ctx.strokeText(text, cx - tw / 2, cy);
      ctx.fillStyle = "#475467";
      ctx.fillText(text, cx - tw / 2, cy);
    });

    drawn.ms = performance.now() - started;
    canvas.dataset.drawnNodes = String(count);
    if (!document.body.dataset.lineage) {
      document.body.dataset.lineage = "ready";
      byId("lineage-loading").hidden = true;
    }
  }

  // ---- selection and the side panel ------------------------------------------------------
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  const assetUrl = (key) => "/assets/" + key.split("/").map(encodeURIComponent).join("/");

  function pill(state) {
    const style = { materialized: "ok", never: "muted", failed: "bad", running: "info", queued: "muted" }[state] || "muted";
    return '<span class="pill pill-' + style + '">' + escapeHtml(STATE_TEXT[state] || state) + "</span>";
  }

  function keyButtons(list) {
    if (!list.length) return '<p class="muted" style="padding:0 16px">None</p>';
    return '<ul class="dep-list">' + list.map((i) => {
      const n = nodes[i];
      const cross = n.location !== (focus >= 0 ? nodes[focus].location : n.location);
      return '<li><button class="btn btn-sm btn-ghost" data-goto="' + escapeHtml(n.key) + '">' + escapeHtml(n.key) +
        "</button>" + (cross ? '<span class="tag tag-accent" title="Defined in ' + escapeHtml(n.location) + '">' + escapeHtml(n.location || "external") + "</span>" : "") + "</li>";
    }).join("") + "</ul>";
  }

  function renderPanel() {
    const materializeButton = byId("materialize-selected");
    const count = selected.size;
    materializeButton.disabled = count === 0;
    materializeButton.textContent = count ? "Materialize selected (" + count + ")" : "Materialize selected";
    if (count === 0) {
      const locs = graph.locations.map((b) =>
        '<li><button class="btn btn-sm btn-ghost" data-zoom-location="' + escapeHtml(b.location === null ? "" : b.location) + '"><i style="display:inline-block;width:10px;height:10px;border-radius:3px;background:' +
        locationColor.get(b.location) + '"></i>' + escapeHtml(b.location === null ? "Not defined in any location" : b.location) + "</button></li>").join("");
      panel.innerHTML = '<div class="card-head"><h2>Lineage</h2></div>' +
        '<div class="section-label">Locations</div><ul class="dep-list">' + (locs || '<li class="muted">None loaded</li>') + "</ul>" +
        '<div class="card-body muted" style="font-size:13px">Click an asset to select it; shift- or ctrl-click to select several. ' +
        "Drag to pan, scroll to zoom, double-click to open an asset. Press <kbd>/</kbd> to search.</div>";
      return;
    }
    if (count > 1) {
      const keys = [...selected];
      panel.innerHTML = '<div class="card-head"><h2>' + count + ' assets selected</h2><button class="btn btn-sm btn-ghost" data-clear>Clear</button></div>' +
        '<ul class="dep-list">' + keys.slice(0, 200).map((key) => '<li><a href="' + assetUrl(key) + '">' + escapeHtml(key) + "</a>" + pill(nodes[byKey.get(key)].state) + "</li>").join("") + "</ul>";
      return;
    }
    const i = byKey.get([...selected][0]);
    const n = nodes[i];
    const when = n.materialized_at ? ' <time data-ts="' + n.materialized_at + '" title="' + escapeHtml(BH.exact(n.materialized_at)) + '">' + BH.ago(n.materialized_at) + "</time>" : "";
    panel.innerHTML = '<div class="card-head"><h2 style="overflow-wrap:anywhere">' + escapeHtml(n.key) + '</h2><button class="btn btn-sm btn-ghost" data-clear aria-label="Clear selection">✕</button></div>' +
      '<div class="card-body"><dl class="facts">' +
      "<dt>Status</dt><dd>" + pill(n.state) + when + "</dd>" +
      (isUnsynced(n) ? '<dt>Sync</dt><dd data-unsynced="' + escapeHtml(n.unsynced.join(" ")) + '"><span class="pill pill-warn">Unsynced</span><ul class="unsynced-reasons">' +
        n.unsynced_reasons.filter((r) => r !== "never materialized").map((r) => "<li>" + escapeHtml(r) + "</li>").join("") + "</ul></dd>" : "") +
      "<dt>Location</dt><dd>" + escapeHtml(n.location || "not defined") + "</dd>" +
      "<dt>Group</dt><dd>" + escapeHtml(n.group) + "</dd>" +
      (n.partitions ? "<dt>Partitions</dt><dd data-partitions>" + partitionText(n) + " materialized</dd>" : "") +
      (n.kinds && n.kinds.length ? "<dt>Kinds</dt><dd>" + n.kinds.map((x) => '<span class="tag kind-tag" data-kind="' + escapeHtml(String(x).toLowerCase()) + '">' + escapeHtml(x) + "</span>").join(" ") + "</dd>" : "") +
      (n.run_id ? '<dt>Last run</dt><dd><a class="run-id" href="/runs/' + encodeURIComponent(n.run_id) + '">' + escapeHtml(n.run_id.slice(0, 8)) + "</a></dd>" : "") +
      '</dl><p style="margin:14px 0 0"><a class="btn btn-sm" href="' + assetUrl(n.key) + '">Open asset page →</a></p></div>' +
      '<div class="section-label">Upstream (' + parents[i].length + ")</div>" + keyButtons(parents[i]) +
      '<div class="section-label">Downstream (' + children[i].length + ")</div>" + keyButtons(children[i]);
  }

  function select(i, additive) {
    if (i < 0) {
      if (!additive) selected.clear();
    } else {
      const key = nodes[i].key;
      if (additive) { if (selected.has(key)) selected.delete(key); else selected.add(key); }
      else selected = new Set([key]);
    }
    focus = selected.size === 1 ? byKey.get([...selected][0]) : -1;
    invalidate();
    renderPanel();
  }

  panel.addEventListener("click", (event) => {
    const go = event.target.closest("[data-goto]");
    if (go) { const i = byKey.get(go.dataset.goto); if (i !== undefined) { select(i, false); centerOn(i); } return; }
    if (event.target.closest("[data-clear]")) { select(-1, false); return; }
    const loc = event.target.closest("[data-zoom-location]");
    if (loc) {
      const name = loc.dataset.zoomLocation || null;
      const b = graph.locations.find((x) => x.location === name);
      if (!b) return;
      const { w, h } = size();
      const k = Math.max(minZoom, Math.min(1, (w - 80) / b.width, (h - 80) / b.height));
      animateTo({ k, x: (w - b.width * k) / 2 - b.x * k, y: (h - b.height * k) / 2 - b.y * k });
    }
  });

  // ---- pointer, wheel, keys --------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    animation++;
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
  });
  canvas.addEventListener("pointermove", (e) => {
    const r = canvas.getBoundingClientRect();
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        canvas.classList.add("dragging");
        view.x = drag.vx + dx;
        view.y = drag.vy + dy;
        invalidate();
      }
      return;
    }
    const i = hit(e.clientX - r.left, e.clientY - r.top);
    if (i !== hover) {
      hover = i;
      canvas.classList.toggle("over-node", i >= 0);
      canvas.title = i >= 0 ? nodes[i].key : "";
      invalidate();
    }
  });
  canvas.addEventListener("pointerup", (e) => {
    canvas.classList.remove("dragging");
    if (drag && !drag.moved) {
      const r = canvas.getBoundingClientRect();
      select(hit(e.clientX - r.left, e.clientY - r.top), e.shiftKey || e.ctrlKey || e.metaKey);
    }
    drag = null;
  });
  canvas.addEventListener("dblclick", (e) => {
    const r = canvas.getBoundingClientRect();
    const i = hit(e.clientX - r.left, e.clientY - r.top);
    if (i >= 0) window.location.href = assetUrl(nodes[i].key);
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(Math.exp(-delta * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  const zoomCenter = (f) => { const { w, h } = size(); zoomAt(f, w / 2, h / 2); };
  listen("zoom-in", "click", () => zoomCenter(1.3));
  listen("zoom-out", "click", () => zoomCenter(1 / 1.3));
  listen("zoom-fit", "click", fit);
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, textarea, select")) return;
    if (e.key === "/") { e.preventDefault(); search.focus(); }
    else if (e.key === "+" || e.key === "=") zoomCenter(1.3);
    else if (e.key === "-") zoomCenter(1 / 1.3);
    else if (e.key === "0") fit();
    else if (e.key === "Escape") select(-1, false);
  });

  // ---- search ----------------------------------------------------------------------------
  const search = byId("lineage-search");
  const suggest = byId("search-suggest");
  let matches = [], active = 0;
  function showMatches() {
    const q = search.value.trim().toLowerCase();
    if (!q) { suggest.hidden = true; return; }
    const prefix = [], inner = [];
    for (let i = 0; i < nodes.length && prefix.length < 12; i++) {
      const key = nodes[i].key.toLowerCase();
      if (key.startsWith(q)) prefix.push(i);
      else if (inner.length < 12 && key.includes(q)) inner.push(i);
    }
    matches = prefix.concat(inner).slice(0, 12);
    active = 0;
    suggest.innerHTML = matches.length
      ? matches.map((i, j) => '<button type="button" role="option" data-i="' + i + '" class="' + (j === 0 ? "on" : "") + '"><span>' +
        escapeHtml(nodes[i].key) + '</span><span class="muted">' + escapeHtml(nodes[i].location || "") + "</span></button>").join("")
      : '<div class="muted" style="padding:8px 10px">No asset key contains “' + escapeHtml(search.value.trim()) + "”.</div>";
    suggest.hidden = false;
  }
  function pick(i) {
    suggest.hidden = true;
    search.value = nodes[i].key;
    select(i, false);
    centerOn(i);
  }
  search.addEventListener("input", showMatches);
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!matches.length) return;
      active = (active + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      suggest.querySelectorAll("button").forEach((b, j) => b.classList.toggle("on", j === active));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (matches.length) pick(matches[active]);
    } else if (e.key === "Escape") {
      suggest.hidden = true;
      search.blur();
    }
  });
  suggest.addEventListener("mousedown", (e) => {
    const b = e.target.closest("button[data-i]");
    if (b) { e.preventDefault(); pick(parseInt(b.dataset.i, 10)); }
  });
  search.addEventListener("blur", () => setTimeout(() => (suggest.hidden = true), 150));

  // ---- filter, reload, materialize -------------------------------------------------------
  const filterForm = byId("lineage-filter");
  const filterInput = byId("lineage-selection");
  const filterError = byId("selection-error");
  // The job page has no filter: its graph is its job's selection, kept on the data.
  // A selection the server refused shows its error and the whole graph, as the page says.
  let filter = (byId("selection-error").hidden === false ? "" : filterInput.value ||
    (embedded && embedded.dataset.selection) || "").trim();

  const query = (selection) => (selection ? "?selection=" + encodeURIComponent(selection) : "");
  const fetchGraph = (selection) => BH.api("GET", "/api/graph" + query(selection));
  const fetchStatus = (selection) => BH.api("GET", "/api/graph/status" + query(selection));
  // A job's graph: structure and statuses merged into its nodes, as the page embeds them.
  async function fetchEmbeddedShape(selection) {
    const [data, st] = await Promise.all([fetchGraph(selection), fetchStatus(selection)]);
    data.nodes.forEach((n, i) => {
      n.state = st.states[st.state[i]];
      n.materialized_at = st.materialized_at[i];
      n.materialized_run = st.materialized_run[i] === null ? null : st.runs[st.materialized_run[i]][0];
      n.run_id = st.run[i] === null ? null : st.runs[st.run[i]][0];
      n.partitions = st.partitions[String(i)] || null;
      n.unsynced = st.unsynced[String(i)] || [];
      n.unsynced_reasons = st.unsynced_reasons[String(i)] || [];
    });
    data.locations_state = st.locations_state;
    return data;
  }
  // Structure and statuses, applied: what a filter, a reload or new definitions draw.
  async function fetchAll(selection) {
    if (embedded) return { data: await fetchEmbeddedShape(selection), st: null };
    const [data, st] = await Promise.all([fetchGraph(selection), fetchStatus(selection)]);
    return { data, st };
  }
  function show({ data, st }) {
    load(data);
    if (st) applyStatus(st);
  }

  filterForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const selection = filterInput.value.trim();
    try {
      const fetched = await fetchAll(selection);
      filterError.hidden = true;
      filter = selection;
      show(fetched);
      fit();
      renderPanel();
      history.replaceState(null, "", selection ? "/lineage?selection=" + encodeURIComponent(selection) : "/lineage");
      document.getElementById("clear-filter").hidden = !selection;
      const all = document.querySelector("#materialize-all button");
      all.textContent = selection ? "Materialize all shown" : "Materialize all";
    } catch (err) {
      filterError.textContent = err.message;
      filterError.hidden = false;
    }
  });
  listen("clear-filter", "click", (e) => {
    e.preventDefault();
    filterInput.value = "";
    filterForm.requestSubmit();
  });

  async function refreshGraph() {
    try {
      const fetched = await fetchAll(filter);
      const wasEmpty = !nodes || !nodes.length;
      show(fetched);
      if (wasEmpty) fit(); else invalidate();
      renderPanel();
    } catch (err) {
      BH.toast("Could not refresh the graph: " + err.message, "bad");
    }
  }

  listen("reload-defs", "submit", async (e) => {
    e.preventDefault();
    const button = e.target.querySelector("button");
    button.setAttribute("aria-busy", "true");
    try {
      const states = await BH.api("POST", "/api/reload");
      const failed = states.filter((s) => s.status === "FAILED");
      if (failed.length) {
        BH.toast(failed.map((s) => s.name + " failed to load: " + (s.error ? s.error.message : "")).join("\n") + "\nSee Code locations for the traceback.", "bad");
      } else {
        BH.toast("Reloaded " + states.length + " code location" + (states.length === 1 ? "" : "s") + ".", "ok");
      }
      await refreshGraph();
    } catch (err) {
      BH.toast(err.message, "bad");
    } finally {
      button.removeAttribute("aria-busy");
    }
  });

  // Both go through the launchpad: it launches at once when nothing is needed, else asks for
  // config and (for partitioned assets) a partition.
  listen("materialize-selected", "click", (e) => {
    const keys = [...selected].filter((key) => !nodes[byKey.get(key)].external);
    if (!keys.length) { BH.toast("External assets are not materialized by bakehouse; select another asset.", "bad"); return; }
    window.BHLaunchpad.open({ asset_keys: keys }, { button: e.currentTarget, title: "Materialize " + (keys.length === 1 ? keys[0] : keys.length + " assets") });
  });
  listen("materialize-all", "submit", (e) => {
    e.preventDefault();
    window.BHLaunchpad.open({ selection: filter || "*" }, { button: e.target.querySelector("button"), title: filter ? "Materialize all shown" : "Materialize all" });
  });

  // ---- live updates ----------------------------------------------------------------------
  BH.on("materializations", whenLoaded(onMaterializations));
  BH.on("runs", whenLoaded(onRuns));
  function onLocations(locations) {
    if (!graph) return;
    const version = locations.filter((l) => l.version).map((l) => l.name + "=" + l.version).join(";");
    graph.locations_state = locations.map((l) => ({ name: l.name, status: l.status, serving_last_good: l.serving_last_good }));
    if (version !== graph.version) refreshGraph(); else invalidate();
  }
  BH.on("locations", whenLoaded(onLocations));
  // The stream's first event says where it starts; a resumed stream sent what was missed.
  BH.on("hello", (hello) => {
    if (hello.resumed) return;
    helloCursor = hello.cursor;
    checkGap();
  });
  document.addEventListener("bh:stream-open", async () => {
    // Catch up with what happened between rendering the page and the stream's first event
    // (the lineage page's statuses: by the cursors above; a job's embedded graph: its runs).
    try {
      const [locations, runs] = await Promise.all([
        BH.api("GET", "/api/locations"), embedded ? BH.api("GET", "/api/runs?limit=50") : null,
      ]);
      onLocations(locations);
      if (runs) onRuns(runs);
    } catch (_) { /* the next event brings the news */ }
  });
  setInterval(invalidate, 30000); // keep "materialized 3 min ago" fresh

  // ---- start -----------------------------------------------------------------------------
  function start() {
    new ResizeObserver(resize).observe(wrap);
    resize();
    fit();
    renderPanel();
    draw();
    const wanted = new URLSearchParams(window.location.search).get("focus");
    if (wanted && byKey.has(wanted)) {
      select(byKey.get(wanted), false);
      centerOn(byKey.get(wanted), 0.9);
    }
  }
  function replayEarly() {
    const waiting = early || [];
    early = null;
    waiting.forEach((fn) => fn());
  }
  if (embedded) {
    load(JSON.parse(embedded.textContent));
    start();
    replayEarly();
  } else {
    fetchAll(filter).then((fetched) => { show(fetched); start(); replayEarly(); }).catch((err) => {
      byId("lineage-loading").hidden = true;
      BH.toast("Could not load the graph: " + err.message, "bad");
    });
  }

  // A small handle for tests and the bench: where a node is on screen, what was drawn.
  window.bhLineage = {
    get count() { return nodes ? nodes.length : 0; },
    get selected() { return [...selected]; },
    drawnNodes: () => drawn.nodes,
    lastDrawMs: () => drawn.ms,
    // The level of detail of the last frame: 0 blocks, 1 keys only, 2 everything; overview:
    // too many edges in view to stroke, so only the selection's were.
    lod: () => ({ lod: drawn.lod, overview: drawn.overview, zoom: view.k, edges: drawn.edges.length }),
    redraw: () => { draw(); return drawn.ms; },
    zoom(k) { const { w, h } = size(); zoomAt(k / view.k, w / 2, h / 2); },
    edgeDrawn(from, to) {
      const p = byKey.get(from), c = byKey.get(to);
      return drawn.edges.some((e) => edges[e][0] === p && edges[e][1] === c);
    },
    screenPoint(key) {
      const n = nodes[byKey.get(key)];
      const r = canvas.getBoundingClientRect();
      return { x: r.left + view.x + (n.x + W / 2) * view.k, y: r.top + view.y + (n.y + H / 2) * view.k };
    },
    state: (key) => nodes[byKey.get(key)].state,
    unsynced: (key) => nodes[byKey.get(key)].unsynced || [],
    partitions: (key) => partitionText(nodes[byKey.get(key)]),
    locationColor: (name) => locationColor.get(name),
    centerOn: (key) => centerOn(byKey.get(key)),
    fit,
  };
})();
