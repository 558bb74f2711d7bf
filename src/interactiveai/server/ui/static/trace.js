// Trace detail page: reads the compact trace data from its JSON block, drives the navigation pane
// and renders the selected observation's panel from its payload, fetched on demand.

import { el, jsonTree, kvTable, payloadCard } from "./render.js";
import { TraceNav, buildNodes, fmtCost, fmtDuration, typeIcon } from "./trace-nav.js";

const data = JSON.parse(document.getElementById("trace-data").textContent);
const panel = document.getElementById("detail-pane");
const navRoot = document.getElementById("nav-pane");
const cache = new Map();
let pending = 0;
let debounce = null;

function fetchJson(url) {
  if (!cache.has(url)) {
    cache.set(url, fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.json();
    }));
  }
  return cache.get(url);
}

function badge(text, cls) {
  return el("span", `badge ${cls || ""}`, text);
}

function scoresCard(scores) {
  const card = el("section", "card");
  card.append(el("div", "card-head", null));
  card.firstChild.append(el("h3", null, "Scores"));
  const body = el("div", "card-body score-list");
  if (!scores.length) body.append(el("span", "muted", "No scores"));
  for (const s of scores) {
    const item = el("div", "score-item");
    const value = s.stringValue !== null && s.stringValue !== undefined && s.dataType !== "NUMERIC" ? s.stringValue : s.value;
    const chip = el("span", "chip score");
    chip.append(el("span", "chip-k", s.name), document.createTextNode(" " + String(value ?? "—")));
    item.append(chip, el("span", "muted small", s.source || ""));
    if (s.comment) item.append(el("div", "score-comment", s.comment));
    body.append(item);
  }
  card.append(body);
  return card;
}

// --- Comments: the trace's and each observation's, read with the page (data.comments). Plain text
// through textContent; line breaks kept by the stylesheet (comments.css).
const comments = data.comments || { trace: [], observations: {}, canComment: false };
const commentCsrf = (document.getElementById("comments-panel") || { dataset: {} }).dataset.csrf || "";

function commentsOf(node) {
  return (node.id ? comments.observations[node.id] : comments.trace) || [];
}

function hiddenInput(name, value) {
  const input = el("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  return input;
}

function commentItem(c) {
  const item = el("li", "comment");
  item.dataset.commentId = c.id;
  const meta = el("div", "comment-meta");
  const time = el("time", null, String(c.createdAt).slice(0, 19).replace("T", " "));
  time.dateTime = c.createdAt;
  time.dataset.local = "";
  meta.append(el("span", "comment-author", c.author), time);
  if (c.canDelete && commentCsrf) {
    const form = el("form", "comment-delete");
    form.method = "post";
    form.action = `${comments.deleteUrl}${encodeURIComponent(c.id)}/delete`;
    form.dataset.confirm = "Delete this comment? This cannot be undone.";
    form.dataset.confirmLabel = "Delete comment";
    const button = el("button", "linklike", "Delete");
    button.type = "submit";
    form.append(hiddenInput("csrf_token", commentCsrf), button);
    meta.append(form);
  }
  item.append(meta, el("div", "comment-text", c.content));
  return item;
}

function commentForm(node) {
  const form = el("form", "comment-form");
  form.method = "post";
  form.action = comments.addUrl;
  form.append(hiddenInput("csrf_token", commentCsrf));
  if (node.id) form.append(hiddenInput("observation_id", node.id));
  const text = el("textarea");
  text.name = "content";
  text.rows = 3;
  text.maxLength = comments.maxLength;
  text.required = true;
  text.placeholder = "Add a comment (plain text; Ctrl+Enter sends)";
  text.setAttribute("aria-label", node.id ? "Comment on this observation" : "Comment on this trace");
  const button = el("button", "primary", "Comment");
  button.type = "submit";
  form.append(text, button);
  return form;
}

function commentsCard(node) {
  const list = commentsOf(node);
  const card = el("section", "card comments-card");
  card.id = "comments";
  const head = el("div", "card-head");
  head.append(el("h3", null, "Comments"));
  if (list.length) head.append(el("span", "count", list.length));
  const body = el("div", "card-body");
  if (list.length) {
    const ol = el("ol", "comment-list");
    ol.append(...list.map(commentItem));
    body.append(ol);
  } else body.append(el("span", "muted", `No comments on this ${node.id ? "observation" : "trace"} yet`));
  if (comments.canComment && commentCsrf) body.append(commentForm(node));
  card.append(head, body);
  if (window.IA && window.IA.localiseTimes) window.IA.localiseTimes(card);
  return card;
}

// After adding or deleting a comment the page comes back at #comments (an observation's) or
// #trace-comments (the header's menu): show them once.
let commentsHash = window.location.hash;
function revealComments() {
  if (commentsHash !== "#comments") return;
  commentsHash = "";
  const card = document.getElementById("comments");
  if (card) card.scrollIntoView({ block: "nearest" });
}
if (commentsHash === "#trace-comments") {
  const menu = document.getElementById("trace-comments");
  if (menu) menu.open = true;
}

// Ctrl+Enter (Cmd+Enter) in a comment box sends it, as in the review page.
document.addEventListener("keydown", (event) => {
  const form = event.target.closest && event.target.closest("form.comment-form");
  if (!form || event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  event.preventDefault();
  form.requestSubmit();
});

// The tree marks the trace and the observations that have comments.
class CommentedNav extends TraceNav {
  row(n, pos) {
    const row = super.row(n, pos);
    const count = commentsOf(n).length;
    if (count) {
      const mark = el("span", "nav-comments", count);
      mark.title = `${count} comment${count === 1 ? "" : "s"}`;
      mark.setAttribute("aria-label", mark.title);
      row.querySelector(".nav-label").append(mark);
    }
    return row;
  }
}

function usageCard(obs) {
  const usage = obs.usage_details || {};
  const cost = obs.cost_details || {};
  const keys = [...new Set([...Object.keys(usage), ...Object.keys(cost)])].filter((k) => k !== "total");
  const card = el("section", "card");
  const head = el("div", "card-head");
  head.append(el("h3", null, "Usage and cost"));
  card.append(head);
  const body = el("div", "card-body");
  if (!keys.length && usage.total === undefined && cost.total === undefined) body.append(el("span", "muted", "No usage reported"));
  else {
    const table = el("table", "usage");
    const hr = el("tr");
    hr.append(el("th", null, "usage key"), el("th", "num", "units"), el("th", "num", "cost"));
    table.append(hr);
    for (const k of keys) {
      const tr = el("tr");
      tr.append(el("td", "mono", k), el("td", "num", usage[k] !== undefined ? Number(usage[k]).toLocaleString() : ""),
        el("td", "num", cost[k] !== undefined ? fmtCost(Number(cost[k])) : ""));
      table.append(tr);
    }
    // One total row: the reported "total" key when there is one, else the stored totals.
    const total = el("tr", "total");
    const units = usage.total !== undefined ? usage.total : obs.total_tokens || 0;
    const totalCost = cost.total !== undefined ? Number(cost.total) : obs.total_cost;
    total.append(el("td", null, "total"), el("td", "num", Number(units).toLocaleString()),
      el("td", "num", fmtCost(totalCost)));
    table.append(total);
    body.append(table);
  }
  body.append(priceSource(obs));
  card.append(body);
  return card;
}

// Which price made this cost: provided by the client, a project model, or the catalog.
function priceSource(obs) {
  const info = obs.cost_source_info || {};
  const line = el("div", "usage-source small");
  line.id = "price-source";
  line.append(el("span", "muted", "Price:"));
  line.append(badge(info.label || "no price known", info.source ? "soft" : ""));
  if (info.matchedModelName && info.source !== "project_model") line.append(el("span", "mono", info.matchedModelName));
  if (info.matchedModelId) {
    const id = el("span", "mono muted", info.matchedModelId);
    id.title = "matched model id";
    line.append(id);
  }
  return line;
}

function simpleCard(title, content) {
  const card = el("section", "card");
  const head = el("div", "card-head");
  head.append(el("h3", null, title));
  const body = el("div", "card-body");
  body.append(content);
  card.append(head, body);
  return card;
}

// The total with its input/output split: a total of "$0.0375" alone would hide "$0.000006 out".
function costBadge(total, inputCost, outputCost) {
  const parts = [];
  if (inputCost !== null && inputCost !== undefined) parts.push(`${fmtCost(inputCost)} in`);
  if (outputCost !== null && outputCost !== undefined) parts.push(`${fmtCost(outputCost)} out`);
  const b = badge(parts.length ? `${fmtCost(total)} (${parts.join(" · ")})` : fmtCost(total), "soft cost");
  b.title = "Cost: total (input · output)";
  return b;
}

// A service name the SDK did not set (OpenTelemetry's "unknown_service:python") says nothing.
function knownService(name) {
  return typeof name === "string" && name !== "" && !name.startsWith("unknown_service");
}

function emptyNote() {
  return el("span", "muted", "—");
}

function hasKeys(value) {
  return value !== null && value !== undefined && !(typeof value === "object" && Object.keys(value).length === 0);
}

function panelHeader(node, obs) {
  const head = el("div", "panel-head");
  const title = el("div", "panel-title");
  title.append(typeIcon(node.type), el("h2", null, node.name));
  head.append(title);
  const meta = el("div", "panel-meta");
  const dur = node.end === null || node.end === undefined ? null : node.end - node.start;
  meta.append(badge(String(node.type).toLowerCase(), `type-${String(node.type).toLowerCase()}`));
  meta.append(badge(node.level || "DEFAULT", `level-${String(node.level || "default").toLowerCase()}`));
  if (dur !== null) meta.append(badge(`duration ${fmtDuration(dur)}`, "soft"));
  if (node.completionStart) meta.append(badge(`TTFT ${fmtDuration(node.completionStart - node.start)}`, "soft"));
  if (node.model) meta.append(badge(node.model, "model"));
  if (node.tokens) meta.append(badge(`${Number(node.tokens).toLocaleString()} tokens`, "soft"));
  if (node.cost !== null && node.cost !== undefined) {
    const split = obs || (node.id ? {} : { input_cost: data.trace.inputCost, output_cost: data.trace.outputCost });
    meta.append(costBadge(node.cost, split.input_cost, split.output_cost));
  }
  if (node.id && node.children.length) {
    const sub = badge(`${node.children.length} children${node.subtreeCost ? ` · Σ ${fmtCost(node.subtreeCost)}` : ""}`, "soft");
    sub.title = "Direct children, and the cost of this observation with everything under it";
    meta.append(sub);
  }
  if (obs && obs.version) meta.append(badge(`v ${obs.version}`, "soft"));
  if (obs && obs.environment) meta.append(badge(obs.environment, "env"));
  head.append(meta);
  const idLine = el("div", "panel-ids muted small");
  if (node.id) {
    const copy = el("button", "copy", "copy");
    copy.type = "button";
    copy.dataset.copy = node.id;
    copy.title = "Copy observation id";
    idLine.append(el("span", "mono", node.id), copy);
  }
  if (obs && obs.start_time) idLine.append(el("span", null, ` · started ${obs.start_time.replace("T", " ").replace("Z", " UTC")}`));
  if (obs && knownService(obs.service_name)) idLine.append(el("span", null, ` · service ${obs.service_name}`));
  head.append(idLine);
  return head;
}

function renderObservation(node, obs) {
  const parts = [panelHeader(node, obs)];
  if (obs.status_message) parts.push(el("div", `alert level-${String(obs.level).toLowerCase()}`, obs.status_message));
  parts.push(payloadCard("Input", obs.input), payloadCard("Output", obs.output));
  if (obs.model || (obs.model_parameters && Object.keys(obs.model_parameters).length)) {
    const box = el("div");
    if (obs.model) box.append(kvTable({ model: obs.model, ...(obs.matched_model_id ? { "matched model": obs.matched_model_id } : {}) }));
    if (obs.model_parameters && typeof obs.model_parameters === "object") box.append(kvTable(obs.model_parameters));
    parts.push(simpleCard("Model and parameters", box));
  }
  parts.push(usageCard(obs));
  parts.push(simpleCard("Metadata", hasKeys(obs.metadata) ? jsonTree(obs.metadata) : emptyNote()));
  parts.push(scoresCard(data.scores.filter((s) => s.observationId === node.id)));
  parts.push(commentsCard(node));
  panel.replaceChildren(...parts);
  revealComments();
}

function renderTrace(node, io) {
  const parts = [panelHeader(node, null)];
  parts.push(payloadCard("Input", io.input), payloadCard("Output", io.output));
  parts.push(simpleCard("Metadata", hasKeys(io.metadata) ? jsonTree(io.metadata) : emptyNote()));
  parts.push(scoresCard(data.scores.filter((s) => !s.observationId)));
  parts.push(commentsCard(node));
  panel.replaceChildren(...parts);
  revealComments();
}

function show(node) {
  const ticket = ++pending;
  panel.classList.add("loading");
  const url = node.id ? `${data.payloadUrl}${encodeURIComponent(node.id)}.json` : data.traceIoUrl;
  fetchJson(url).then((payload) => {
    if (ticket !== pending) return;
    panel.classList.remove("loading");
    if (node.id) renderObservation(node, payload);
    else renderTrace(node, payload);
  }).catch((err) => {
    if (ticket !== pending) return;
    panel.classList.remove("loading");
    panel.replaceChildren(panelHeader(node, null), el("div", "alert level-error", `Could not load: ${err.message}`));
  });
}

function onSelect(node, fromUser) {
  const url = new URL(window.location.href);
  if (node.id) url.searchParams.set("observation", node.id);
  else url.searchParams.delete("observation");
  if (fromUser) window.history.replaceState(null, "", url);
  clearTimeout(debounce);
  debounce = setTimeout(() => show(node), fromUser ? 60 : 0);
}

const model = buildNodes(data);
const nav = new CommentedNav(navRoot, model, data.durationUs, onSelect);
document.querySelectorAll("[data-nav-mode]").forEach((button) => {
  button.addEventListener("click", () => {
    document.querySelectorAll("[data-nav-mode]").forEach((b) => b.classList.toggle("on", b === button));
    nav.setMode(button.dataset.navMode);
  });
});
const search = document.getElementById("nav-search");
if (search) search.addEventListener("input", () => nav.setFilter(search.value));

const wanted = new URL(window.location.href).searchParams.get("observation");
if (!(wanted && nav.revealId(wanted))) nav.select(0, false);
if (data.truncated) {
  navRoot.prepend(el("div", "alert level-warning", `Showing the first ${data.observations.rows.length.toLocaleString()} of ${data.observationTotal.toLocaleString()} observations.`));
}
nav.viewport.focus({ preventScroll: true });
