// Safe DOM rendering of attacker-controlled payloads: a collapsible JSON viewer and a chat view.
// Every piece of data becomes a text node (textContent); nothing is ever parsed as HTML, and the
// only links made are http(s) ones.

const LONG_STRING = 4000;
const OPEN_DEPTH = 2;
const MAX_CHILDREN = 500;
const MAX_DEPTH = 60;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function safeHref(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (_err) {
    return null;
  }
}

function stringNode(value, className) {
  const wrap = el("span", className);
  if (value.length <= LONG_STRING) {
    wrap.textContent = value;
    return wrap;
  }
  wrap.textContent = value.slice(0, LONG_STRING);
  const more = el("button", "linklike more", `… show all ${value.length.toLocaleString()} characters`);
  more.type = "button";
  more.addEventListener("click", () => {
    wrap.textContent = value;
  });
  const outer = el("span");
  outer.append(wrap, more);
  return outer;
}

function scalar(value) {
  if (value === null) return el("span", "j-null", "null");
  switch (typeof value) {
    case "string":
      return stringNode(value, "j-str");
    case "number":
      return el("span", "j-num", String(value));
    case "boolean":
      return el("span", "j-bool", String(value));
    default:
      return el("span", "j-other", String(value));
  }
}

function summary(value) {
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}]`;
  const n = Object.keys(value).length;
  return `{${n} key${n === 1 ? "" : "s"}}`;
}

// A collapsible tree of nested <details>; objects and arrays deeper than OPEN_DEPTH start closed.
export function jsonTree(value, depth = 0) {
  if (value === null || typeof value !== "object") return scalar(value);
  if (depth > MAX_DEPTH) return rawJson(value);  // pathological nesting: no deep recursion
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return el("span", "j-empty", Array.isArray(value) ? "[]" : "{}");
  const details = el("details", "j-node");
  details.open = depth < OPEN_DEPTH;
  details.append(el("summary", "j-summary", summary(value)));
  const list = el("div", "j-children");
  for (const [key, child] of entries.slice(0, MAX_CHILDREN)) {
    const row = el("div", "j-row");
    row.append(el("span", Array.isArray(value) ? "j-idx" : "j-key", Array.isArray(value) ? key : `${key}:`));
    row.append(jsonTree(child, depth + 1));
    list.append(row);
  }
  if (entries.length > MAX_CHILDREN) {
    list.append(el("div", "muted small", `… ${entries.length - MAX_CHILDREN} more not shown (see JSON)`));
  }
  details.append(list);
  return details;
}

export function rawJson(value) {
  let text;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  } catch (_err) {
    text = String(value);  // too deep to serialise
  }
  return stringNode(text ?? "", "raw-json");
}

// ---- chat messages ------------------------------------------------------------------------

const ROLES = new Set(["system", "user", "assistant", "tool", "function", "developer", "model"]);

function isMessage(m) {
  return m !== null && typeof m === "object" && !Array.isArray(m) && typeof m.role === "string";
}

// The SDK records a decorated function's input as {args: [...], kwargs: {...}}: the one argument
// that carries the payload (a single positional or keyword argument), if there is exactly one.
export function callArguments(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (!keys.length || !keys.every((k) => k === "args" || k === "kwargs")) return undefined;
  const args = Array.isArray(value.args) ? value.args : [];
  const kwargs = value.kwargs && typeof value.kwargs === "object" ? Object.values(value.kwargs) : [];
  const all = [...args, ...kwargs];
  return all.length === 1 ? all[0] : undefined;
}

// {args: [], kwargs: {}}: a function called without arguments. Shown as empty; the JSON tab
// still shows what was stored (other SDKs send it the same way).
export function isEmptyCall(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (!keys.length || !keys.every((k) => k === "args" || k === "kwargs")) return false;
  const args = value.args === undefined ? [] : value.args;
  const kwargs = value.kwargs === undefined ? {} : value.kwargs;
  return Array.isArray(args) && !args.length && kwargs !== null && typeof kwargs === "object"
    && !Array.isArray(kwargs) && !Object.keys(kwargs).length;
}

// A string that is itself JSON text (escaped JSON: an SDK stored a call it had to cut as text)
// reads as the JSON it holds; any other value is returned as it is.
export function unescapedJson(value) {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (!(text.startsWith("{") || text.startsWith("["))) return value;
  try {
    return JSON.parse(text);
  } catch (_err) {
    return value;
  }
}

// Returns a list of messages when the value looks like a conversation, else null.
export function asMessages(value) {
  if (Array.isArray(value) && value.length > 0 && value.every(isMessage)) return value;
  const call = callArguments(value);
  if (call !== undefined) return asMessages(call);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if (Array.isArray(value.messages) && value.messages.length && value.messages.every(isMessage)) {
      return value.messages;
    }
    if (Array.isArray(value.choices) && value.choices.length) {
      const msgs = value.choices.map((c) => c && c.message).filter(isMessage);
      if (msgs.length) return msgs;
    }
    if (isMessage(value) && ("content" in value || "tool_calls" in value)) return [value];
  }
  return null;
}

function contentPart(part) {
  if (typeof part === "string") return stringNode(part, "msg-text");
  if (!part || typeof part !== "object") return jsonTree(part, 1);
  if ((part.type === "text" || part.type === "input_text" || part.type === "output_text") && typeof part.text === "string") {
    return stringNode(part.text, "msg-text");
  }
  if (part.type === "image_url" || part.type === "input_image") {
    const url = typeof part.image_url === "string" ? part.image_url : part.image_url && part.image_url.url;
    const box = el("div", "msg-media");
    const href = safeHref(url);
    if (href) {
      const a = el("a", null, "image: " + href);
      a.href = href;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      box.append(a);
    } else {
      box.textContent = typeof url === "string" && url.startsWith("data:") ? `[inline image, ${url.length.toLocaleString()} characters]` : "[image]";
    }
    return box;
  }
  return jsonTree(part, 1);
}

function toolCall(call) {
  const box = el("div", "tool-call");
  const fn = (call && call.function) || call || {};
  const head = el("div", "tool-call-head");
  head.append(el("span", "badge type-tool", "tool call"), el("strong", null, fn.name || "(unnamed)"));
  if (call && call.id) head.append(el("span", "mono muted small", call.id));
  box.append(head);
  let args = fn.arguments !== undefined ? fn.arguments : fn.input !== undefined ? fn.input : fn.args;
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch (_err) {
      /* shown as text */
    }
  }
  if (args !== undefined) box.append(jsonTree(args, 1));
  return box;
}

export function chatView(messages) {
  const wrap = el("div", "chat");
  for (const m of messages) {
    const role = String(m.role).toLowerCase();
    const msg = el("div", `msg role-${ROLES.has(role) ? role : "other"}`);
    const head = el("div", "msg-head");
    head.append(el("span", "msg-role", role));
    if (m.name) head.append(el("span", "muted small", m.name));
    if (m.tool_call_id) head.append(el("span", "mono muted small", `→ ${m.tool_call_id}`));
    msg.append(head);
    const body = el("div", "msg-body");
    const content = m.content;
    if (typeof content === "string") body.append(stringNode(content, "msg-text"));
    else if (Array.isArray(content)) content.forEach((p) => body.append(contentPart(p)));
    else if (content !== undefined && content !== null) body.append(jsonTree(content, 1));
    for (const call of Array.isArray(m.tool_calls) ? m.tool_calls : []) body.append(toolCall(call));
    if (m.function_call) body.append(toolCall({ function: m.function_call }));
    msg.append(body);
    // Long system prompts start folded, as people read the conversation first.
    const length = typeof content === "string" ? content.length : JSON.stringify(content ?? "").length;
    if (role === "system" && length > 400) {
      body.classList.add("folded");
      const toggle = el("button", "linklike small", `show ${length.toLocaleString()} characters`);
      toggle.type = "button";
      toggle.addEventListener("click", () => {
        const folded = body.classList.toggle("folded");
        toggle.textContent = folded ? `show ${length.toLocaleString()} characters` : "fold";
      });
      head.append(toggle);
    }
    wrap.append(msg);
  }
  return wrap;
}

// An input/output card: chat view when it is a conversation, else pretty JSON; a toggle for raw JSON.
export function payloadCard(title, value) {
  const card = el("section", "card payload");
  const head = el("div", "card-head");
  head.append(el("h3", null, title));
  const body = el("div", "card-body");
  if (value === null || value === undefined) {
    body.append(el("span", "muted", "—"));
    card.append(head, body);
    return card;
  }
  const stored = value;
  value = unescapedJson(value);
  const views = [];
  if (isEmptyCall(value)) {
    views.push(["Pretty", () => el("span", "muted empty-call", "— (called without arguments)")]);
  } else {
    const messages = asMessages(value);
    if (messages) views.push(["Chat", () => chatView(messages)]);
    const argument = unescapedJson(callArguments(value));  // a call's single argument reads better alone
    const pretty = argument === undefined ? value : argument;
    views.push(["Pretty", () => (typeof pretty === "string" ? stringNode(pretty, "pre-text") : jsonTree(pretty))]);
  }
  views.push(["JSON", () => rawJson(stored)]);
  const tabs = el("div", "seg");
  const show = (index) => {
    body.replaceChildren(views[index][1]());
    [...tabs.children].forEach((b, i) => b.classList.toggle("on", i === index));
  };
  views.forEach(([label], i) => {
    const b = el("button", "seg-btn", label);
    b.type = "button";
    b.addEventListener("click", () => show(i));
    tabs.append(b);
  });
  head.append(tabs);
  card.append(head, body);
  show(0);
  return card;
}

export function kvTable(obj) {
  const table = el("table", "kv");
  for (const [k, v] of Object.entries(obj || {})) {
    const tr = el("tr");
    tr.append(el("th", null, k));
    const td = el("td");
    td.append(v !== null && typeof v === "object" ? jsonTree(v, 1) : scalar(v));
    tr.append(td);
    table.append(tr);
  }
  return table;
}
