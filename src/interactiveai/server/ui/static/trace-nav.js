// The trace's navigation pane: the observation tree and the timeline, both virtualised (only the
// rows in view exist in the DOM), sharing one flattened row list, one selection and the keyboard.

import { el } from "./render.js";

const ROW_H = 28;
const OVERSCAN = 12;
const TYPE_LETTERS = {
  TRACE: "Tr", SPAN: "S", GENERATION: "G", AGENT: "A", TOOL: "T", CHAIN: "C", RETRIEVER: "R",
  EMBEDDING: "Em", EVALUATOR: "Ev", GUARDRAIL: "Gr", EVENT: "E",
};

export function fmtDuration(us) {
  if (us === null || us === undefined) return "";
  if (us < 1000) return `${us}µs`;
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)}s`;
  return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
}

// Dollars in fixed notation, as the server's formatting.fmt_cost writes them: cents from $1, up to
// four decimals from $0.01, below that three significant digits ($0.00000036), never "e-7".
export function fmtCost(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  if (v === 0) return "$0";
  const size = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  if (size >= 1) return `${sign}$${size.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (size >= 0.01) {
    const text = size.toFixed(4).replace(/0+$/, "");
    return `${sign}$${text.split(".")[1].length >= 2 ? text : size.toFixed(2)}`;
  }
  const decimals = Math.min(-Math.floor(Math.log10(size)) + 2, 40);
  return `${sign}$${size.toFixed(decimals).replace(/0+$/, "").replace(/\.$/, "")}`;
}

export function typeIcon(type) {
  const t = String(type || "SPAN").toUpperCase();
  return el("span", `ticon type-${t.toLowerCase()}`, TYPE_LETTERS[t] || t.slice(0, 2));
}

// Builds nodes from the compact rows: node 0 is the trace itself, parents resolved by id.
export function buildNodes(data) {
  const cols = data.observations.columns;
  const at = Object.fromEntries(cols.map((c, i) => [c, i]));
  const t = data.trace;
  const nodes = [{
    index: 0, id: null, parent: -1, children: [], depth: 0, type: "TRACE", name: t.name || "(unnamed trace)",
    start: 0, end: data.durationUs, level: t.level, model: null, cost: t.totalCost, tokens: t.totalTokens,
    subtreeCost: t.totalCost, hasStatus: false,
  }];
  const byId = new Map();
  for (const r of data.observations.rows) {
    const node = {
      index: nodes.length, id: r[at.id], parentRow: r[at.parent], parent: 0, children: [], depth: 1,
      type: r[at.type], name: r[at.name] || "(unnamed)", start: r[at.start], end: r[at.end],
      completionStart: r[at.completion_start], level: r[at.level], model: r[at.model], cost: r[at.cost],
      tokens: r[at.tokens], hasStatus: r[at.has_status], subtreeCost: r[at.cost] || 0,
    };
    byId.set(node.id, node.index);
    nodes.push(node);
  }
  for (let i = 1; i < nodes.length; i++) {
    const n = nodes[i];
    const p = n.parentRow === null || n.parentRow === undefined ? 0 : n.parentRow + 1;  // node 0 is the trace
    n.parent = p === i || p >= nodes.length ? 0 : p;
    nodes[n.parent].children.push(i);
  }
  // depths top-down; nodes caught in a parent cycle (hostile or broken data) are never reached
  // from the trace, so they are re-attached to it rather than silently hidden.
  const seen = new Uint8Array(nodes.length);
  const walk = (start) => {
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop();
      for (const c of nodes[i].children) {
        if (seen[c]) continue;
        seen[c] = 1;
        nodes[c].depth = nodes[i].depth + 1;
        stack.push(c);
      }
    }
  };
  walk(0);
  for (let i = 1; i < nodes.length; i++) {
    if (seen[i]) continue;
    const old = nodes[nodes[i].parent].children;
    old.splice(old.indexOf(i), 1);
    nodes[i].parent = 0;
    nodes[i].depth = 1;
    nodes[0].children.push(i);
    walk(i);
  }
  // subtree costs bottom-up: children always have greater depth, so sort by depth descending
  const order = nodes.slice(1).sort((a, b) => b.depth - a.depth);
  for (const n of order) if (n.parent > 0) nodes[n.parent].subtreeCost += n.subtreeCost || 0;
  return { nodes, byId };
}

export class TraceNav {
  constructor(root, model, durationUs, onSelect) {
    this.root = root;
    this.nodes = model.nodes;
    this.byId = model.byId;
    this.duration = Math.max(durationUs, 1);
    this.onSelect = onSelect;
    this.collapsed = new Set();
    this.filter = "";
    this.selected = 0;
    this.mode = "tree";
    this.viewport = root.querySelector(".nav-viewport");
    this.spacer = el("div", "nav-spacer");
    this.rowsBox = el("div", "nav-rows");
    this.viewport.append(this.spacer, this.rowsBox);
    this.axis = root.querySelector(".timeline-axis");
    this.viewport.addEventListener("scroll", () => this.draw(), { passive: true });
    this.viewport.addEventListener("keydown", (e) => this.onKey(e));
    window.addEventListener("resize", () => this.draw());
    if (this.nodes.length > 400) {  // big traces start with deep levels collapsed
      for (const n of this.nodes) if (n.depth >= 2 && n.children.length) this.collapsed.add(n.index);
    }
    this.refresh();
  }

  setMode(mode) {
    this.mode = mode;
    this.root.classList.toggle("mode-timeline", mode === "timeline");
    this.drawAxis();
    this.draw();
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.refresh();
  }

  refresh() {
    this.visible = [];
    if (this.filter) {
      const q = this.filter;
      for (const n of this.nodes) {
        if (n.name.toLowerCase().includes(q) || String(n.type).toLowerCase() === q || (n.id && n.id.startsWith(q))) {
          this.visible.push(n.index);
        }
      }
    } else {
      const stack = [0];
      while (stack.length) {
        const i = stack.pop();
        this.visible.push(i);
        if (!this.collapsed.has(i)) {
          const ch = this.nodes[i].children;
          for (let k = ch.length - 1; k >= 0; k--) stack.push(ch[k]);
        }
      }
    }
    this.position = new Map(this.visible.map((idx, pos) => [idx, pos]));
    this.spacer.style.height = `${this.visible.length * ROW_H}px`;
    this.draw();
  }

  draw() {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(this.visible.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    const frag = document.createDocumentFragment();
    for (let pos = first; pos < last; pos++) frag.append(this.row(this.nodes[this.visible[pos]], pos));
    this.rowsBox.replaceChildren(frag);
  }

  row(n, pos) {
    const row = el("div", `nav-row lvl-${String(n.level || "DEFAULT").toLowerCase()}`);
    row.style.transform = `translateY(${pos * ROW_H}px)`;
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(n.depth + 1));
    row.dataset.index = String(n.index);
    if (n.id) row.dataset.observationId = n.id;
    if (n.index === this.selected) {
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
    }
    const label = el("div", "nav-label");
    const indent = this.filter ? 0 : Math.min(n.depth, 24);
    label.style.paddingLeft = `${6 + indent * 14}px`;
    const caret = el("span", "caret", n.children.length ? (this.collapsed.has(n.index) ? "▸" : "▾") : "");
    if (n.children.length) {
      row.setAttribute("aria-expanded", String(!this.collapsed.has(n.index)));
      caret.addEventListener("click", (e) => {
        e.stopPropagation();
        this.toggle(n.index);
      });
    }
    label.append(caret, typeIcon(n.type), el("span", "nav-name", n.name));
    if (n.model && this.mode === "tree") label.append(el("span", "nav-model", n.model));
    if (n.hasStatus || n.level === "ERROR" || n.level === "WARNING") label.append(el("span", "dot", ""));
    row.append(label);
    const dur = n.end === null || n.end === undefined ? null : n.end - n.start;
    if (this.mode === "timeline") {
      const lane = el("div", "nav-lane");
      const bar = el("div", `bar type-${String(n.type).toLowerCase()}`);
      const left = (n.start / this.duration) * 100;
      const width = dur === null ? 0 : (dur / this.duration) * 100;
      bar.style.left = `${Math.min(left, 99.7)}%`;
      bar.style.width = `max(${Math.max(width, 0)}%, 3px)`;
      if (n.completionStart) {
        const mark = el("span", "ttft");
        mark.style.left = `${dur ? ((n.completionStart - n.start) / dur) * 100 : 0}%`;
        bar.append(mark);
      }
      lane.append(bar);
      const tag = el("span", "lane-label", fmtDuration(dur));
      if (left + width > 80) {  // no room after the bar: put the label before it
        tag.style.right = `calc(${100 - left}% + 6px)`;
        if (left < 15) {
          tag.style.right = "auto";
          tag.style.left = "6px";
          tag.classList.add("inside");
        }
      } else tag.style.left = `calc(${left + width}% + 6px)`;
      lane.append(tag);
      row.append(lane);
    } else {
      const metrics = el("div", "nav-metrics");
      const cost = n.cost !== null && n.cost !== undefined ? fmtCost(n.cost) : n.subtreeCost ? `Σ ${fmtCost(n.subtreeCost)}` : "";
      metrics.append(el("span", "m-cost", cost), el("span", "m-dur", fmtDuration(dur)));
      row.append(metrics);
    }
    row.addEventListener("click", () => this.select(n.index, true));
    return row;
  }

  drawAxis() {
    if (!this.axis) return;
    const ticks = [];
    for (let k = 0; k <= 4; k++) {
      const t = el("span", "tick", k === 0 ? "0" : fmtDuration(Math.round((this.duration * k) / 4)));
      t.style.left = `${k * 25}%`;
      ticks.push(t);
    }
    this.axis.replaceChildren(...ticks);
  }

  toggle(index, open) {
    const isOpen = !this.collapsed.has(index);
    const want = open === undefined ? !isOpen : open;
    if (want) this.collapsed.delete(index);
    else this.collapsed.add(index);
    this.refresh();
  }

  revealId(id) {
    const index = this.byId.get(id);
    if (index === undefined) return false;
    for (let p = this.nodes[index].parent; p >= 0; p = this.nodes[p].parent) this.collapsed.delete(p);
    this.refresh();
    this.select(index, false);
    this.scrollTo(index, true);
    return true;
  }

  scrollTo(index, center) {
    const pos = this.position.get(index);
    if (pos === undefined) return;
    const top = pos * ROW_H;
    const vh = this.viewport.clientHeight;
    if (center) this.viewport.scrollTop = Math.max(0, top - vh / 2);
    else if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW_H > this.viewport.scrollTop + vh) this.viewport.scrollTop = top + ROW_H - vh;
    this.draw();
  }

  select(index, fromUser) {
    this.selected = index;
    this.draw();
    this.onSelect(this.nodes[index], fromUser);
  }

  onKey(e) {
    const pos = this.position.get(this.selected) ?? 0;
    const n = this.nodes[this.selected];
    let target = null;
    if (e.key === "ArrowDown") target = this.visible[Math.min(pos + 1, this.visible.length - 1)];
    else if (e.key === "ArrowUp") target = this.visible[Math.max(pos - 1, 0)];
    else if (e.key === "Home") target = this.visible[0];
    else if (e.key === "End") target = this.visible[this.visible.length - 1];
    else if (e.key === "ArrowRight") {
      if (n.children.length && this.collapsed.has(n.index)) this.toggle(n.index, true);
      else if (n.children.length) target = n.children[0];
    } else if (e.key === "ArrowLeft") {
      if (n.children.length && !this.collapsed.has(n.index)) this.toggle(n.index, false);
      else if (n.parent >= 0) target = n.parent;
    } else if (e.key === "Enter" || e.key === " ") {
      if (n.children.length) this.toggle(n.index);
      this.onSelect(n, true);
    } else return;
    e.preventDefault();
    if (target !== null && target !== undefined) {
      this.select(target, true);
      this.scrollTo(target, false);
    }
  }
}
