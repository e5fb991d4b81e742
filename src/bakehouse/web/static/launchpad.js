// The launchpad: every launch in the UI asks /api/launchpad what it needs. Nothing: it launches
// at once. Config its assets require, or a partition: it opens the shared dialog with a YAML
// editor scaffolded from their Config schemas (checked by /api/launchpad/check as you type,
// problems at their line), tags, and a partition picker (latest, one key, or a range, which
// launches a backfill). Launches go to POST /api/runs or /api/backfills: the one launch path.
// Entry points: form[data-launchpad] (its submit; without scripts the form posts itself) and
// button[data-launchpad]; data-launchpad is the target as JSON ({selection} | {asset_keys} |
// {job, job_location}); data-launchpad-force opens the dialog even when nothing is needed.
"use strict";

(() => {
  let current = null; // {target, needs, checked, timer, seq}

  function query(target) {
    const params = new URLSearchParams();
    if (target.selection) params.set("selection", target.selection);
    (target.asset_keys || []).forEach((k) => params.append("asset_key", k));
    if (target.job) params.set("job", target.job);
    if (target.job_location) params.set("location", target.job_location);
    return params.toString();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === false || v == null) return;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    });
    children.flat().forEach((c) => c != null && node.append(c));
    return node;
  }

  async function open(target, options) {
    const opts = options || {};
    const button = opts.button;
    if (button) button.setAttribute("aria-busy", "true");
    try {
      const needs = await BH.api("GET", "/api/launchpad?" + query(target));
      if (!needs.needed && !opts.force) {
        await launchRun(target, {});
        return;
      }
      show(target, needs, opts.title);
    } catch (err) {
      BH.toast("Could not launch: " + err.message, "bad");
    } finally {
      if (button) button.removeAttribute("aria-busy");
    }
  }

  async function launchRun(target, extra) {
    const body = { ...target, ...extra };
    const result = await BH.api("POST", "/api/runs", body);
    window.location.href = "/runs/" + encodeURIComponent(result.run_id);
  }

  // ---- the dialog --------------------------------------------------------------------------
  function show(target, needs, title) {
    const dialog = document.getElementById("dialog");
    const what = needs.job ? "job " + needs.job : needs.asset_keys.length === 1 ? needs.asset_keys[0]
      : needs.asset_keys.length + " assets";
    dialog.querySelector(".dialog-title").textContent = title || "Launchpad: " + what;
    const form = el("form", { class: "launchpad", "data-launchpad-form": true, novalidate: true });
    if (needs.partition_problem) {
      form.append(el("p", { class: "error-message", role: "alert", "data-lp-partition-problem": true, text: needs.partition_problem }));
    }
    if (needs.partitions) form.append(picker(needs.partitions));
    form.append(editor(needs), tagRows(needs.tags));
    const launch = el("button", { class: "btn btn-primary", type: "submit", "data-lp-launch": true, text: "Launch run" });
    if (needs.partition_problem) launch.disabled = true;
    form.append(el("p", { class: "error-message", role: "alert", "data-lp-error": true, hidden: true }));
    form.append(el("div", { class: "lp-actions" },
      el("span", { class: "muted", text: needs.asset_keys.length + " asset" + (needs.asset_keys.length === 1 ? "" : "s") + ": " + needs.asset_keys.slice(0, 4).join(", ") + (needs.asset_keys.length > 4 ? " …" : "") }),
      el("button", { class: "btn", type: "button", "data-close-dialog": true, text: "Cancel" }),
      launch));
    const body = dialog.querySelector(".dialog-body");
    body.replaceChildren(form);
    current = { target, needs, form, checked: null, timer: null, seq: 0 };
    dialog.classList.add("dialog-wide");
    dialog.addEventListener("close", () => dialog.classList.remove("dialog-wide"), { once: true });
    if (!dialog.open) dialog.showModal();
    drawGutter();
    modeChanged();
    check();
    const textarea = form.querySelector("[data-lp-config]");
    if (needs.config_needed) textarea.focus();
  }

  function section(title, ...children) {
    return el("section", { class: "lp-section" }, el("h3", { text: title }), ...children);
  }

  function picker(parts) {
    const keys = parts.keys;
    const options = (selected) => keys.map((k) => el("option", { value: k, text: k, selected: k === selected }));
    const note = parts.unpartitioned_assets.length
      ? "Not partitioned, so run once, unpartitioned, in the same run: " + parts.unpartitioned_assets.join(", ") + "."
      : "";
    const list = el("datalist", { id: "lp-keys" }, keys.map((k) => el("option", { value: k })));
    const radio = (value, checked) => el("input", { type: "radio", name: "lp-mode", value, checked, "data-lp-mode": true });
    return section("Partition",
      el("p", { class: "muted", "data-lp-partitions": true, text: parts.description + " · " + keys.length.toLocaleString("en") + " partition" + (keys.length === 1 ? "" : "s") }),
      note ? el("p", { class: "muted", "data-lp-unpartitioned": true, text: note }) : null,
      el("div", { class: "lp-modes" },
        el("label", {}, radio("latest", true), " Latest ", el("code", { text: parts.latest || "none yet" })),
        el("label", {}, radio("key", false), " One partition ",
          el("input", { type: "text", list: "lp-keys", "data-lp-key": true, value: parts.latest || "", "aria-label": "Partition key", autocomplete: "off" })),
        el("label", {}, radio("range", false), " A range (a backfill, one run per partition) ",
          el("select", { "data-lp-start": true, "aria-label": "First partition" }, options(keys[0])),
          " to ",
          el("select", { "data-lp-end": true, "aria-label": "Last partition" }, options(parts.latest)))),
      list,
      el("p", { class: "field-error", "data-lp-partition-error": true, role: "alert", hidden: true }));
  }

  function editor(needs) {
    const textarea = el("textarea", {
      "data-lp-config": true, spellcheck: "false", autocapitalize: "off", wrap: "off",
      "aria-label": "Run config (YAML)", rows: "12",
    });
    textarea.value = needs.config_yaml;
    const scaffold = el("button", { class: "btn btn-sm btn-ghost", type: "button", "data-lp-scaffold": true, text: "Scaffold again" });
    const hint = Object.keys(needs.config_schemas).length
      ? "Scaffolded from the Config of " + Object.keys(needs.config_schemas).join(", ") + "; empty fields are required." +
        (needs.job && !needs.asset_keys.length ? " Other ops' config is checked by their location when the job runs." : "")
      : needs.job && !needs.asset_keys.length ? "A job of ops: no op takes a Config class; its location checks any other config when it runs." : "No asset of this launch takes config.";
    return section("Config",
      el("p", { class: "muted lp-hint", text: hint }),
      el("div", { class: "lp-editor" }, el("div", { class: "lp-gutter", "aria-hidden": "true" }), textarea),
      el("div", { class: "lp-config-foot" },
        el("span", { class: "lp-status", "data-lp-config-status": true, role: "status", text: "Checking…" }), scaffold),
      el("ul", { class: "lp-problems", "data-lp-problems": true }));
  }

  function tagRow(key, value) {
    return el("div", { class: "lp-tag", "data-lp-tag": true },
      el("input", { type: "text", placeholder: "key", "aria-label": "Tag key", "data-lp-tag-key": true, value: key || "" }),
      el("input", { type: "text", placeholder: "value", "aria-label": "Tag value", "data-lp-tag-value": true, value: value || "" }),
      el("button", { class: "btn btn-sm btn-ghost", type: "button", "data-lp-remove-tag": true, "aria-label": "Remove tag", text: "×" }));
  }

  function tagRows(tags) {
    const rows = el("div", { class: "lp-tags", "data-lp-tags": true }, Object.entries(tags || {}).map(([k, v]) => tagRow(k, v)));
    return section("Tags", rows, el("button", { class: "btn btn-sm", type: "button", "data-lp-add-tag": true, text: "Add tag" }));
  }

  // ---- the editor: line numbers, problems at their line, checked as you type ---------------
  function drawGutter() {
    if (!current) return;
    const textarea = current.form.querySelector("[data-lp-config]");
    const gutter = current.form.querySelector(".lp-gutter");
    const lines = textarea.value.split("\n").length;
    // As tall as the config (4 to 20 lines): an empty editor stays small.
    const height = "calc(" + Math.min(Math.max(lines + 1, 4), 20) * 1.6 + "em + 16px)";
    textarea.style.height = height;
    gutter.style.height = height;
    const bad = new Set((current.checked ? current.checked.problems : []).map((p) => p.line));
    gutter.replaceChildren(...Array.from({ length: Math.max(lines, 1) }, (_, i) =>
      el("span", { "data-line": i + 1, "data-problem": bad.has(i + 1), text: String(i + 1) })));
    gutter.scrollTop = textarea.scrollTop;
  }

  async function check() {
    if (!current) return null;
    const state = current;
    const seq = ++state.seq;
    const status = state.form.querySelector("[data-lp-config-status]");
    status.textContent = "Checking…";
    status.dataset.state = "checking";
    const config_yaml = state.form.querySelector("[data-lp-config]").value;
    let result;
    try {
      result = await BH.api("POST", "/api/launchpad/check", { ...state.target, config_yaml });
    } catch (err) {
      result = { valid: false, problems: [{ message: err.message, line: 1 }], run_config: null };
    }
    if (state !== current || seq !== state.seq) return null; // a newer check is under way
    state.checked = result;
    status.textContent = result.valid ? "Config is valid" : result.problems.length + " problem" + (result.problems.length === 1 ? "" : "s");
    status.dataset.state = result.valid ? "ok" : "error";
    const list = state.form.querySelector("[data-lp-problems]");
    list.replaceChildren(...result.problems.map((p) =>
      el("li", { "data-line": p.line }, el("button", { type: "button", class: "lp-line", "data-goto-line": p.line, text: "Line " + p.line }), " " + p.message)));
    drawGutter();
    return result;
  }

  function goToLine(line) {
    const textarea = current.form.querySelector("[data-lp-config]");
    const lines = textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    textarea.focus();
    textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }

  // ---- launching ---------------------------------------------------------------------------
  function mode() {
    const picked = current.form.querySelector("[data-lp-mode]:checked");
    return picked ? picked.value : null;
  }

  function modeChanged() {
    const launch = current.form.querySelector("[data-lp-launch]");
    if (!current.needs.partitions) return;
    launch.textContent = mode() === "range" ? "Launch backfill" : "Launch run";
    current.form.querySelector("[data-lp-partition-error]").hidden = true;
  }

  function tags() {
    const out = {};
    current.form.querySelectorAll("[data-lp-tag]").forEach((row) => {
      const key = row.querySelector("[data-lp-tag-key]").value.trim();
      if (key) out[key] = row.querySelector("[data-lp-tag-value]").value;
    });
    return out;
  }

  function fail(message) {
    const box = current.form.querySelector("[data-lp-error]");
    box.textContent = message;
    box.hidden = false;
  }

  function selectionOf(target, needs) {
    if (target.selection) return target.selection;
    return needs.asset_keys.map((k) => 'key:"' + k + '"').join(" or ");
  }

  async function submit() {
    const state = current;
    const button = state.form.querySelector("[data-lp-launch]");
    state.form.querySelector("[data-lp-error]").hidden = true;
    button.setAttribute("aria-busy", "true");
    try {
      clearTimeout(state.timer);
      const checked = await check();
      if (!checked) return;
      if (!checked.valid) { goToLine(checked.problems[0].line); return; }
      const extra = { run_config: checked.run_config || {}, tags: tags() };
      const parts = state.needs.partitions;
      if (parts) {
        const picked = mode();
        if (picked === "range") {
          const start = state.form.querySelector("[data-lp-start]").value;
          const end = state.form.querySelector("[data-lp-end]").value;
          if (parts.keys.indexOf(start) > parts.keys.indexOf(end)) {
            const error = state.form.querySelector("[data-lp-partition-error]");
            error.textContent = start + " comes after " + end;
            error.hidden = false;
            return;
          }
          const result = await BH.api("POST", "/api/backfills", {
            selection: selectionOf(state.target, state.needs),
            partition_range: { start, end },
            run_config: extra.run_config,
            tags: extra.tags,
          });
          window.location.href = "/backfills/" + encodeURIComponent(result.backfill_id);
          return;
        }
        const key = picked === "key" ? state.form.querySelector("[data-lp-key]").value.trim() : parts.latest;
        if (!key || parts.keys.indexOf(key) < 0) {
          const error = state.form.querySelector("[data-lp-partition-error]");
          error.textContent = key ? "No partition " + JSON.stringify(key) + " (" + parts.description + ")" : "No partition to run yet";
          error.hidden = false;
          return;
        }
        extra.partition_key = key;
      }
      await launchRun(state.target, extra);
    } catch (err) {
      fail(err.message);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  // ---- events --------------------------------------------------------------------------------
  function targetOf(node) {
    try { return JSON.parse(node.dataset.launchpad); } catch (_) { return null; }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.matches("[data-launchpad-form]")) { event.preventDefault(); submit(); return; }
    if (!form.dataset.launchpad) return;
    const target = targetOf(form);
    if (!target) return;
    event.preventDefault();
    open(target, { title: form.dataset.launchpadTitle, force: "launchpadForce" in form.dataset, button: form.querySelector("button") });
  });

  document.addEventListener("click", (event) => {
    const opener = event.target.closest && event.target.closest("button[data-launchpad]");
    if (opener) {
      const target = targetOf(opener);
      if (target) open(target, { title: opener.dataset.launchpadTitle, force: "launchpadForce" in opener.dataset, button: opener });
      return;
    }
    if (!current || !current.form.isConnected) return;
    if (event.target.closest("[data-lp-add-tag]")) {
      const row = tagRow("", "");
      current.form.querySelector("[data-lp-tags]").append(row);
      row.querySelector("input").focus();
    } else if (event.target.closest("[data-lp-remove-tag]")) {
      event.target.closest("[data-lp-tag]").remove();
    } else if (event.target.closest("[data-lp-scaffold]")) {
      current.form.querySelector("[data-lp-config]").value = current.needs.config_yaml;
      drawGutter();
      check();
    } else if (event.target.closest("[data-goto-line]")) {
      goToLine(parseInt(event.target.closest("[data-goto-line]").dataset.gotoLine, 10));
    }
  });

  document.addEventListener("input", (event) => {
    if (!current || !event.target.matches) return;
    if (event.target.matches("[data-lp-config]")) {
      drawGutter();
      clearTimeout(current.timer);
      current.timer = setTimeout(check, 250);
    } else if (event.target.matches("[data-lp-key]")) {
      current.form.querySelector("[data-lp-mode][value=key]").checked = true;
      modeChanged();
    }
  });

  document.addEventListener("change", (event) => {
    if (!current || !event.target.matches) return;
    if (event.target.matches("[data-lp-mode]")) modeChanged();
    if (event.target.matches("[data-lp-start], [data-lp-end]")) {
      current.form.querySelector("[data-lp-mode][value=range]").checked = true;
      modeChanged();
    }
  });

  document.addEventListener("scroll", (event) => {
    if (current && event.target.matches && event.target.matches("[data-lp-config]")) {
      current.form.querySelector(".lp-gutter").scrollTop = event.target.scrollTop;
    }
  }, true);

  // Tab in the editor indents (YAML wants spaces) instead of leaving the field.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || event.shiftKey || !event.target.matches || !event.target.matches("[data-lp-config]")) return;
    event.preventDefault();
    const t = event.target, at = t.selectionStart;
    t.setRangeText("  ", at, t.selectionEnd, "end");
    t.dispatchEvent(new Event("input", { bubbles: true }));
  });

  window.BHLaunchpad = { open };
})();
