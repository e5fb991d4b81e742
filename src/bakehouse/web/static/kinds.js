// Kind icons: a small inline SVG for the kinds data teams tag assets with (dbt, duckdb, pandas,
// polars, python, ...). Drawn here, shipped with the app (no CDN: the machines are offline).
// Every element with data-kind="..." and the class kind-tag gets its icon through one CSS rule
// per kind; the lineage canvas draws the same pictures (BH.kindIcon). Unknown kinds get none.
"use strict";
(() => {
  const svg = (body) =>
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" width="16" height="16">' + body + "</svg>";
  const ICONS = {
    python: svg('<path d="M8 1.5c-3 0-3 1.3-3 2.2V5h3.2v.6H3.6C2.4 5.6 1.5 6.6 1.5 8.3c0 1.8.9 2.8 2.1 2.8H5V9.5c0-1.1 1-2 2.1-2h3c1 0 1.7-.8 1.7-1.7V3.7c0-1-.9-2.2-3.8-2.2z" fill="#3572a5"/><path d="M8 14.5c3 0 3-1.3 3-2.2V11H7.8v-.6h4.6c1.2 0 2.1-1 2.1-2.7 0-1.8-.9-2.8-2.1-2.8H11v1.6c0 1.1-1 2-2.1 2h-3c-1 0-1.7.8-1.7 1.7v2.1c0 1 .9 2.2 3.8 2.2z" fill="#f7c948"/><circle cx="6.3" cy="3.3" r=".7" fill="#fff"/><circle cx="9.7" cy="12.7" r=".7" fill="#fff"/>'),
    dbt: svg('<path d="M2 2.2c1.5-.6 3.3.9 6 3.6 2.7-2.7 4.5-4.2 6-3.6.6 1.5-.9 3.3-3.6 5.8 2.7 2.5 4.2 4.3 3.6 5.8-1.5.6-3.3-.9-6-3.6-2.7 2.7-4.5 4.2-6 3.6-.6-1.5.9-3.3 3.6-5.8C2.9 5.5 1.4 3.7 2 2.2z" fill="#ff694a"/><circle cx="8" cy="8" r="1.4" fill="#fff"/>'),
    duckdb: svg('<circle cx="8" cy="8" r="6.8" fill="#1f1f1f"/><circle cx="6.6" cy="8" r="3.3" fill="#fff100"/><rect x="9.6" y="6.9" width="3.6" height="2.2" rx="1.1" fill="#fff100"/>'),
    pandas: svg('<rect x="3" y="1.5" width="2.2" height="5" fill="#150458"/><rect x="3" y="9.5" width="2.2" height="5" fill="#150458"/><rect x="3" y="7.2" width="2.2" height="1.6" fill="#ffca00"/><rect x="10.8" y="1.5" width="2.2" height="5" fill="#150458"/><rect x="10.8" y="9.5" width="2.2" height="5" fill="#150458"/><rect x="6.9" y="4.5" width="2.2" height="1.6" fill="#e70488"/><rect x="6.9" y="7" width="2.2" height="7.5" fill="#150458"/>'),
    polars: svg('<rect x="1.5" y="9" width="2.4" height="5.5" rx=".5" fill="#0075ff"/><rect x="5" y="6" width="2.4" height="8.5" rx=".5" fill="#0075ff"/><rect x="8.6" y="3.5" width="2.4" height="11" rx=".5" fill="#0075ff"/><rect x="12.1" y="1.5" width="2.4" height="13" rx=".5" fill="#4fa3ff"/>'),
    sql: svg('<ellipse cx="8" cy="3.5" rx="5.5" ry="2" fill="#667085"/><path d="M2.5 3.5v9c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2v-9c0 1.1-2.5 2-5.5 2s-5.5-.9-5.5-2z" fill="#98a2b3"/><path d="M2.5 8c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2" stroke="#667085" fill="none"/>'),
    postgres: svg('<ellipse cx="8" cy="3.5" rx="5.5" ry="2" fill="#336791"/><path d="M2.5 3.5v9c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2v-9c0 1.1-2.5 2-5.5 2s-5.5-.9-5.5-2z" fill="#5b8db8"/><path d="M2.5 8c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2" stroke="#336791" fill="none"/>'),
    dlt: svg('<path d="M1.5 10.5c2-4 4-4 6.5 0s4.5 4 6.5 0" stroke="#59c1d5" stroke-width="2.2" fill="none" stroke-linecap="round"/><path d="M1.5 5.5c2-4 4-4 6.5 0s4.5 4 6.5 0" stroke="#c6d300" stroke-width="2.2" fill="none" stroke-linecap="round"/>'),
    parquet: svg('<path d="M3 1.5h6.5L13 5v9.5H3z" fill="#eef2f6" stroke="#667085"/><rect x="5" y="7" width="6" height="1.3" fill="#50abf1"/><rect x="5" y="9.4" width="6" height="1.3" fill="#50abf1"/><rect x="5" y="11.8" width="6" height="1.3" fill="#50abf1"/>'),
    csv: svg('<path d="M3 1.5h6.5L13 5v9.5H3z" fill="#eef2f6" stroke="#667085"/><path d="M5 7.5h6M5 10h6M5 12.5h6M7.5 6.5v7" stroke="#12b76a" stroke-width="1.1"/>'),
    s3: svg('<path d="M2.5 4.5h11l-1.4 9.2c-.1.5-.5.8-1 .8H4.9c-.5 0-.9-.3-1-.8z" fill="#e25444"/><ellipse cx="8" cy="4.5" rx="5.5" ry="1.8" fill="#f58536"/>'),
    snowflake: svg('<path d="M8 1.5v13M2.4 4.75l11.2 6.5M2.4 11.25l11.2-6.5" stroke="#29b5e8" stroke-width="1.8" stroke-linecap="round"/>'),
    spark: svg('<path d="M8 1.5l1.8 4.4 4.7.4-3.6 3 1.1 4.6L8 11.4l-4 2.5 1.1-4.6-3.6-3 4.7-.4z" fill="#e25a1c"/>'),
    json: svg('<path d="M6 2.5c-1.5 0-2 .7-2 2v1.7c0 .9-.6 1.4-1.5 1.8.9.4 1.5.9 1.5 1.8v1.7c0 1.3.5 2 2 2M10 2.5c1.5 0 2 .7 2 2v1.7c0 .9.6 1.4 1.5 1.8-.9.4-1.5.9-1.5 1.8v1.7c0 1.3-.5 2-2 2" stroke="#667085" stroke-width="1.4" fill="none"/>'),
  };
  // Names people write for the same thing.
  const ALIASES = { postgresql: "postgres", pyspark: "spark", "aws s3": "s3", duck: "duckdb" };
  const iconOf = (kind) => ICONS[ALIASES[String(kind).toLowerCase()] || String(kind).toLowerCase()] || null;

  const rules = Object.keys(ICONS).concat(Object.keys(ALIASES)).map((kind) =>
    '.kind-tag[data-kind="' + kind + '"]::before{content:"";display:inline-block;width:13px;height:13px;' +
    "margin-right:4px;vertical-align:-2px;background:url(\"data:image/svg+xml;utf8," +
    encodeURIComponent(iconOf(kind)) + '") center/contain no-repeat}');
  const style = document.createElement("style");
  style.id = "kind-icons";
  style.textContent = rules.join("\n");
  document.head.appendChild(style);

  // For canvases: the icon as an <img> (loaded once per kind), or null for an unknown kind.
  const images = new Map();
  function kindIcon(kind) {
    const source = iconOf(kind);
    if (!source) return null;
    if (!images.has(kind)) {
      const img = new Image();
      img.src = "data:image/svg+xml;utf8," + encodeURIComponent(source);
      images.set(kind, img);
    }
    return images.get(kind);
  }
  window.BH = window.BH || {};
  window.BH.kindIcon = kindIcon;
  window.BH.hasKindIcon = (kind) => iconOf(kind) !== null;
})();
