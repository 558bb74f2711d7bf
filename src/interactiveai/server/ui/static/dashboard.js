// Dashboard: fetches the page's JSON twin and draws tiles, SVG charts and tables.
// No libraries. Every piece of data reaches the DOM through textContent or an SVG attribute,
// never innerHTML: model names and user ids are client-provided text.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#4f46e5", "#0891b2", "#d97706", "#059669", "#c026d3", "#dc2626", "#64748b"];
  // Model colours: picked from the name, so a model keeps its colour in every chart and table and
  // from one load to the next (collisions among the models shown are moved to the next free one).
  const MODEL_PALETTE = ["#4f46e5", "#0891b2", "#d97706", "#059669", "#c026d3", "#dc2626", "#0d9488",
    "#7c3aed", "#ca8a04", "#2563eb", "#db2777", "#65a30d"];
  const OTHER_COLOR = "#98a2b3";
  const MAX_SERIES = 6; // more models than this are summed into "other"

  function nameHash(text) {
    let h = 2166136261; // FNV-1a: cheap, and the same in every browser
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return h >>> 0;
  }
  function modelColors(names) {
    const colors = new Map();
    const used = new Set();
    for (const name of [...new Set(names)].sort()) {
      let k = nameHash(name) % MODEL_PALETTE.length;
      for (let tries = 0; used.has(k) && tries < MODEL_PALETTE.length; tries++) k = (k + 1) % MODEL_PALETTE.length;
      used.add(k);
      colors.set(name, MODEL_PALETTE[k]);
    }
    return colors;
  }

  // --- formatting ---------------------------------------------------------------------------
  const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  function fmtInt(v) { return v == null ? "—" : intFmt.format(v); }
  function fmtCompact(v) {
    if (v == null) return "—";
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return String(Math.round(v * 100) / 100);
  }
  function fmtCost(v) {
    if (v == null) return "—";
    if (v === 0) return "$0";
    const a = Math.abs(v);
    if (a >= 1000) return "$" + intFmt.format(v);
    if (a >= 1) return "$" + v.toFixed(2);
    if (a >= 0.01) return "$" + v.toFixed(4);
    return fixedSmall(v, 2);
  }
  // Below a cent: as many decimals as `digits` significant digits need, never "e-7" notation.
  function fixedSmall(v, digits) {
    const decimals = Math.min(-Math.floor(Math.log10(Math.abs(v))) + digits - 1, 40);
    return (v < 0 ? "-$" : "$") + Math.abs(v).toFixed(decimals).replace(/0+$/, "").replace(/\.$/, "");
  }
  function fmtCostAxis(v) {
    if (v === 0) return "$0";
    if (Math.abs(v) < 0.01) return fixedSmall(v, 3);
    return v >= 1000 ? "$" + fmtCompact(v) : "$" + parseFloat(v.toPrecision(3));
  }
  function fmtMs(v) {
    if (v == null) return "—";
    if (v === 0) return "0";
    if (v < 1) return (v * 1000).toFixed(0) + "µs";
    if (v < 1000) return v.toFixed(0) + "ms";
    if (v < 60000) return (v / 1000).toFixed(2) + "s";
    return (v / 60000).toFixed(1) + "m";
  }
  function fmtPct(v) { return v == null ? "—" : (v * 100).toFixed(v < 0.1 ? 2 : 1) + "%"; }
  function fmtTime(iso, granularity, long) {
    const d = new Date(iso);
    const opts = granularity === "day" || granularity === "week"
      ? { month: "short", day: "numeric" }
      : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (long && opts.hour) Object.assign(opts, { month: "short", day: "numeric" });
    return new Intl.DateTimeFormat(undefined, opts).format(d);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }
  function swatch(color) {
    const s = el("span", "swatch");
    s.style.background = color;
    return s;
  }

  // --- chart ----------------------------------------------------------------------------------
  // The axis top: four gridline steps of a round size (…, 0.08, 0.1, 0.12, 0.15, 0.2, …), so labels
  // read 0.06/0.12/0.18 rather than 0.0625/0.125/0.188; whole steps for counts.
  function niceMax(v, integer) {
    if (!(v > 0)) return integer ? 4 : 1;
    const quarter = v / 4;
    if (integer && quarter <= 1) return 4; // counts: whole-number gridlines
    const p = Math.pow(10, Math.floor(Math.log10(quarter)));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
      const step = m * p;
      if (integer && Math.abs(step - Math.round(step)) > 1e-9) continue;
      if (step >= quarter * (1 - 1e-9)) return 4 * step;
    }
    return 40 * p;
  }

  // series: [{name, color, values: [number|null per bucket]}]; kind: "stack" (bars) or "line".
  function drawChart(box, times, series, opts) {
    box.replaceChildren();
    const width = Math.max(box.clientWidth, 240);
    const height = box.clientHeight || 220;
    const m = { top: 8, right: 8, bottom: 22, left: 52 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": opts.label });
    box.appendChild(svg);
    const n = times.length;
    const totals = times.map((_, i) => opts.kind === "stack"
      ? series.reduce((s, ser) => s + (ser.values[i] || 0), 0)
      : Math.max(0, ...series.map((ser) => ser.values[i] || 0)));
    const top = niceMax(Math.max(0, ...totals), opts.integer);
    const y = (v) => m.top + h - (v / top) * h;
    const step = w / Math.max(n, 1);
    const x = (i) => m.left + i * step;

    const grid = svgEl("g", { class: "grid" });
    const axis = svgEl("g", { class: "axis" });
    for (let t = 0; t <= 4; t++) {
      const v = (top * t) / 4;
      grid.appendChild(svgEl("line", { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v) }));
      const label = svgEl("text", { x: m.left - 6, y: y(v) + 3.5, "text-anchor": "end" });
      label.textContent = (opts.axisFormat || opts.format)(v);
      axis.appendChild(label);
    }
    const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(w / 70))));
    // Hours over several days: one date label per local midnight reads better than bare times.
    const daily = opts.granularity === "hour" && n > 36;
    const ticks = daily
      ? times.map((t, i) => i).filter((i) => new Date(times[i]).getHours() === 0)
      : times.map((t, i) => i).filter((i) => i % every === 0);
    const spacing = daily ? Math.max(1, Math.ceil((ticks.length * 70) / w)) : 1;
    ticks.forEach((i, k) => {
      if (k % spacing) return;
      const label = svgEl("text", { x: x(i) + step / 2, y: height - 6, "text-anchor": "middle" });
      label.textContent = fmtTime(times[i], daily ? "day" : opts.granularity, false);
      axis.appendChild(label);
    });
    svg.append(grid, axis);
    svg.appendChild(svgEl("line", { class: "baseline", x1: m.left, x2: m.left + w, y1: y(0), y2: y(0) }));

    if (!totals.some((v) => v > 0)) {
      const note = svgEl("text", { class: "empty-note", x: m.left + w / 2, y: m.top + h / 2, "text-anchor": "middle" });
      note.textContent = "No data in this range";
      svg.appendChild(note);
      return;
    }
    if (opts.kind === "stack") {
      const barW = Math.max(1, step * 0.72);
      for (let i = 0; i < n; i++) {
        let base = 0;
        for (const ser of series) {
          const v = ser.values[i] || 0;
          if (v <= 0) continue;
          svg.appendChild(svgEl("rect", {
            x: x(i) + (step - barW) / 2, y: y(base + v), width: barW, height: Math.max(0.5, y(base) - y(base + v)),
            fill: ser.color, rx: barW > 6 ? 1.5 : 0,
          }));
          base += v;
        }
      }
    } else {
      for (const ser of series) {
        let d = "";
        let pen = false;
        ser.values.forEach((v, i) => {
          if (v == null) { pen = false; return; }
          d += (pen ? "L" : "M") + (x(i) + step / 2).toFixed(1) + " " + y(v).toFixed(1);
          pen = true;
        });
        if (d) svg.appendChild(svgEl("path", { d, fill: "none", stroke: ser.color, "stroke-width": 1.8, "stroke-linejoin": "round" }));
        // A point without a neighbour draws no line: it gets a dot of its own (always, however
        // many buckets), so a series of one point is visible.
        ser.values.forEach((v, i) => {
          if (v == null) return;
          const alone = ser.values[i - 1] == null && ser.values[i + 1] == null;
          if (!alone && n > 60) return;
          svg.appendChild(svgEl("circle", {
            class: alone ? "point alone" : "point", cx: x(i) + step / 2, cy: y(v), r: alone ? 3 : 2, fill: ser.color,
          }));
        });
      }
    }
    addHover(box, svg, { times, series, opts, x, step, m, h, n });
  }

  function addHover(box, svg, c) {
    const line = svgEl("line", { class: "hover-line hidden", y1: c.m.top, y2: c.m.top + c.h });
    svg.appendChild(line);
    const tip = el("div", "chart-tip hidden");
    box.appendChild(tip);
    svg.addEventListener("mousemove", (event) => {
      const rect = svg.getBoundingClientRect();
      const scale = rect.width / svg.viewBox.baseVal.width;
      const px = (event.clientX - rect.left) / scale;
      const i = Math.floor((px - c.m.left) / c.step);
      if (i < 0 || i >= c.n) { hide(); return; }
      const cx = c.x(i) + c.step / 2;
      line.setAttribute("x1", cx); line.setAttribute("x2", cx);
      line.classList.remove("hidden");
      tip.replaceChildren(el("div", "tip-title", fmtTime(c.times[i], c.opts.granularity, true)));
      const rows = c.series.filter((s) => c.opts.kind !== "stack" || s.values[i]);
      for (const ser of rows.slice().reverse()) {
        const row = el("div");
        row.append(swatch(ser.color), document.createTextNode(ser.name + ": " + c.opts.format(ser.values[i])));
        tip.appendChild(row);
      }
      if (!rows.length) tip.appendChild(el("div", null, "no data"));
      tip.classList.remove("hidden");
      const left = cx * scale + 12;
      tip.style.left = (left + tip.offsetWidth > rect.width ? cx * scale - tip.offsetWidth - 12 : left) + "px";
      tip.style.top = "8px";
    });
    function hide() { line.classList.add("hidden"); tip.classList.add("hidden"); }
    svg.addEventListener("mouseleave", hide);
  }

  function legend(target, series) {
    target.replaceChildren();
    for (const ser of series) {
      const item = el("span");
      item.title = ser.name; // long model names are cut by CSS; the full name is on hover
      item.append(swatch(ser.color), el("span", "legend-name", ser.name));
      target.appendChild(item);
    }
  }

  // Group the per-model rows into at most MAX_SERIES series (by total of `field`) plus "other".
  function byModel(data, field, colors) {
    const times = data.volume.map((p) => p.time);
    const index = new Map(times.map((t, i) => [t, i]));
    const totals = new Map();
    for (const p of data.modelSeries) totals.set(p.model, (totals.get(p.model) || 0) + p[field]);
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
    const kept = ranked.slice(0, MAX_SERIES);
    const series = kept.map((name) => ({ name, color: colors.get(name) || OTHER_COLOR, values: times.map(() => 0) }));
    const other = { name: "other", color: OTHER_COLOR, values: times.map(() => 0) };
    for (const p of data.modelSeries) {
      const i = index.get(p.time);
      if (i === undefined) continue;
      const k = kept.indexOf(p.model);
      (k >= 0 ? series[k] : other).values[i] += p[field];
    }
    if (ranked.length > MAX_SERIES) series.push(other);
    return series;
  }

  function allModels(data) {
    return modelColors(data.modelSeries.map((p) => p.model).concat(data.models.map((m) => m.model)));
  }

  // One series' values on the chart's buckets, matched by time (not by position).
  function aligned(times, points, field) {
    const byTime = new Map(points.map((p) => [p.time, p[field]]));
    return times.map((t) => (byTime.has(t) ? byTime.get(t) : null));
  }

  function charts(root, data) {
    const times = data.volume.map((p) => p.time);
    const g = data.granularity;
    const colors = allModels(data);
    const specs = {
      traces: {
        kind: "stack", format: fmtCompact, label: "Traces over time", integer: true,
        series: [
          { name: "ok", color: PALETTE[0], values: data.volume.map((p) => p.traces - p.errorTraces) },
          { name: "with errors", color: "#d92d20", values: data.volume.map((p) => p.errorTraces) },
        ],
      },
      cost: {
        kind: "stack", format: fmtCost, axisFormat: fmtCostAxis, label: "Cost by model", series: byModel(data, "totalCost", colors),
      },
      tokens: { kind: "stack", format: fmtCompact, label: "Tokens by model", integer: true, series: byModel(data, "totalTokens", colors) },
      latency: {
        kind: "line", format: fmtMs, label: "Trace latency percentiles",
        series: ["p50", "p90", "p95", "p99"].map((k, i) => ({
          name: k, color: ["#059669", "#0891b2", "#4f46e5", "#d97706"][i], values: aligned(times, data.latency, k),
        })),
      },
    };
    for (const [name, spec] of Object.entries(specs)) {
      const box = root.querySelector(`[data-chart="${name}"]`);
      const key = root.querySelector(`[data-legend="${name}"]`);
      if (!box) continue;
      drawChart(box, times, spec.series, {
        kind: spec.kind, format: spec.format, axisFormat: spec.axisFormat, label: spec.label, granularity: g, integer: spec.integer,
      });
      if (key) legend(key, spec.series);
    }
  }

  // --- tiles and tables -------------------------------------------------------------------------
  function setTile(root, name, value, sub) {
    const node = root.querySelector(`[data-tile="${name}"]`);
    if (node) node.textContent = value;
    const subNode = root.querySelector(`[data-tile-sub="${name}"]`);
    if (subNode && sub != null) subNode.textContent = sub;
  }

  function tiles(root, s) {
    setTile(root, "traces", fmtInt(s.traces), s.warningTraces ? fmtInt(s.warningTraces) + " with warnings" : "\u00a0");
    setTile(root, "observations", fmtInt(s.observations));
    setTile(root, "cost", fmtCost(s.totalCost), s.traces ? fmtCost(s.totalCost / s.traces) + " per trace" : "\u00a0");
    setTile(root, "tokens", fmtCompact(s.totalTokens), fmtCompact(s.inputTokens) + " in · " + fmtCompact(s.outputTokens) + " out");
    setTile(root, "errors", fmtPct(s.errorRate), fmtInt(s.errorTraces) + " traces with errors");
    setTile(root, "latency", fmtMs(s.latencyP95Ms), "p50 " + fmtMs(s.latencyP50Ms));
  }

  function fillTable(table, rows, cells, emptyText) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", "empty-row", emptyText);
      td.colSpan = table.querySelectorAll("thead th").length;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    for (const row of rows) {
      const tr = el("tr");
      for (const [value, cls, href, extra] of cells(row)) {
        const td = el("td", cls || null);
        if (extra && extra.color) td.appendChild(swatch(extra.color));
        if (extra && extra.title) td.title = extra.title;
        if (extra && extra.node) {
          td.appendChild(extra.node);
          if (extra.span) td.colSpan = extra.span;
        } else if (href) {
          const a = el("a", null, value);
          a.href = href;
          td.appendChild(a);
        } else {
          td.appendChild(document.createTextNode(value)); // after the swatch, if any
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function tables(root, data) {
    const usersUrl = root.dataset.usersUrl || "";
    const colors = allModels(data);
    fillTable(root.querySelector("#models-table"), data.models, (m) => [
      [m.model, "model-name", null, { color: colors.get(m.model), title: m.model }], [fmtInt(m.calls), "num"], [fmtInt(m.inputTokens), "num"], [fmtInt(m.outputTokens), "num"],
      [fmtInt(m.totalTokens), "num"], [fmtCost(m.totalCost), "num"], [fmtMs(m.latencyP50Ms), "num"], [fmtMs(m.latencyP95Ms), "num"],
    ], "No model calls in this range");
    fillTable(root.querySelector("#users-table"), data.users, (u) => [
      [u.userId, "ellipsis", usersUrl + encodeURIComponent(u.userId), { title: u.userId }], [fmtInt(u.traces), "num"],
      [fmtInt(u.totalTokens), "num"], [fmtCost(u.totalCost), "num"],
    ], "No traces with a user id in this range");
    const num = (v) => (v == null ? "—" : (Math.round(v * 1000) / 1000).toString());
    fillTable(root.querySelector("#scores-table"), data.scores, (s) => {
      const head = [[s.name, null, null, { title: s.name }], [s.dataType.toLowerCase()], [fmtInt(s.count), "num"]];
      if (s.dataType === "CATEGORICAL" && s.categories && s.categories.length) {
        return head.concat([["", "categories", null, { node: distribution(s), span: 3 }]]);
      }
      return head.concat([[num(s.average), "num"], [num(s.min), "num"], [num(s.max), "num"]]);
    }, "No scores in this range");
  }

  // A categorical score's values: a stacked bar of their shares and "label count" pairs.
  function distribution(score) {
    const box = el("div", "distribution");
    const bar = el("div", "dist-bar");
    const key = el("div", "dist-key");
    const total = score.categories.reduce((sum, c) => sum + c.count, 0) || 1;
    score.categories.forEach((c, k) => {
      const color = c.value === "other" && k === score.categories.length - 1 ? OTHER_COLOR : MODEL_PALETTE[k % MODEL_PALETTE.length];
      const share = el("span");
      share.style.width = (100 * c.count / total).toFixed(2) + "%";
      share.style.background = color;
      share.title = c.value + ": " + fmtInt(c.count) + " (" + fmtPct(c.count / total) + ")";
      bar.appendChild(share);
      const item = el("span", "dist-item");
      item.title = share.title;
      item.append(swatch(color), el("span", "dist-label", c.value), document.createTextNode(" " + fmtInt(c.count)));
      key.appendChild(item);
    });
    box.append(bar, key);
    return box;
  }

  // The custom range: local date-times in the inputs, UTC ISO in the hidden fields the form sends.
  function pad(v) { return String(v).padStart(2, "0"); }
  function localInput(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function rangeForm() {
    const form = document.getElementById("dash-filters");
    const select = document.getElementById("dash-range");
    const custom = document.getElementById("dash-custom");
    if (!form || !select || !custom) return;
    const inputs = { from: custom.querySelector('[data-local="from"]'), to: custom.querySelector('[data-local="to"]') };
    const hidden = { from: form.querySelector('input[name="from"]'), to: form.querySelector('input[name="to"]') };
    for (const k of ["from", "to"]) inputs[k].value = localInput(inputs[k].dataset.utc);
    select.addEventListener("change", () => {
      if (select.value !== "custom") { form.requestSubmit(); return; }
      custom.classList.remove("hidden");
      if (!inputs.to.value) inputs.to.value = localInput(new Date().toISOString());
      if (!inputs.from.value) inputs.from.value = localInput(new Date(Date.now() - 86400000).toISOString());
      inputs.from.focus();
    });
    form.addEventListener("submit", () => {
      const isCustom = select.value === "custom";
      for (const k of ["from", "to"]) {
        const d = new Date(inputs[k].value);
        hidden[k].value = isCustom && !isNaN(d) ? d.toISOString() : "";
        hidden[k].disabled = !isCustom; // presets keep their URL short
      }
    });
  }

  function render(root, data) {
    tiles(root, data.summary);
    charts(root, data);
    tables(root, data);
    root.classList.remove("loading");
  }

  document.addEventListener("DOMContentLoaded", () => {
    rangeForm();
    const root = document.getElementById("dashboard");
    if (!root) return;
    let data = null;
    fetch(root.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then((body) => { data = body; render(root, body); })
      .catch((err) => {
        const box = document.getElementById("dash-error");
        box.textContent = "Could not load the dashboard data (" + err.message + "). Reload to try again.";
        box.classList.remove("hidden");
        root.classList.remove("loading");
      });
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { if (data) charts(root, data); }, 150);
    });
  });
})();
