// Trace list: time-range control, filter panel, column chooser (URL + localStorage), row links,
// and live refresh (polls the JSON twin; when the page's traces changed, swaps in the new rows).
(function () {
  "use strict";
  const COLS_KEY = "interactiveai.traceColumns";
  const LIVE_KEY = "interactiveai.traceLive";
  const POLL_MS = 5000;

  function visibleColumns(form) {
    return [...form.querySelectorAll("input[name=cols]:checked")].map((i) => i.value);
  }

  function applyColumns(cols) {
    const set = new Set(cols);
    document.querySelectorAll("#traces-table [data-col]").forEach((cell) => {
      cell.classList.toggle("col-hidden", !set.has(cell.dataset.col));
    });
  }

  function setupColumns() {
    const form = document.querySelector(".cols-form");
    if (!form) return;
    const url = new URL(window.location.href);
    const saved = localStorage.getItem(COLS_KEY);
    if (!url.searchParams.has("cols") && saved) {
      const cols = saved.split(",");
      form.querySelectorAll("input[name=cols]").forEach((box) => { box.checked = cols.includes(box.value); });
      applyColumns(cols);
    }
    form.addEventListener("change", () => {
      const cols = visibleColumns(form);
      applyColumns(cols);
      localStorage.setItem(COLS_KEY, cols.join(","));
      const next = new URL(window.location.href);
      next.searchParams.set("cols", cols.join(","));
      window.history.replaceState(null, "", next);
      document.querySelectorAll("#filters input[name=cols]").forEach((i) => { i.value = cols.join(","); });
    });
    form.addEventListener("submit", (event) => event.preventDefault());
  }

  function setupFilters() {
    const range = document.getElementById("range");
    const custom = document.getElementById("custom-range");
    const form = document.getElementById("filters");
    if (range && custom) {
      range.addEventListener("change", () => {
        custom.classList.toggle("hidden", range.value !== "custom");
        if (range.value !== "custom") form.requestSubmit();
      });
    }
    const toggle = document.getElementById("toggle-more");
    const more = document.getElementById("more-filters");
    if (toggle && more) {
      toggle.setAttribute("aria-expanded", String(!more.classList.contains("hidden")));
      toggle.addEventListener("click", () => {
        more.classList.toggle("hidden");
        toggle.setAttribute("aria-expanded", String(!more.classList.contains("hidden")));
      });
    }
    // The URL carries UTC; the inputs show and take local time.
    const pad = (n) => String(n).padStart(2, "0");
    const localText = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const utcInputs = [...document.querySelectorAll("input[data-utc]")];
    utcInputs.forEach((input) => {
      const d = input.value ? new Date(input.value.replace(/Z$/, "") + "Z") : null;
      if (d && !Number.isNaN(d.getTime())) input.value = localText(d);
    });
    const tzLabel = document.getElementById("tz-label");
    if (tzLabel) tzLabel.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
    if (form) {
      form.addEventListener("submit", () => {
        utcInputs.forEach((input) => {
          const d = input.value ? new Date(input.value) : null;
          if (d && !Number.isNaN(d.getTime())) input.value = d.toISOString().slice(0, 19);
        });
        // keep the URL short: drop empty fields
        form.querySelectorAll("input, select").forEach((i) => { if (!i.value && i.name) i.disabled = true; });
      });
    }
  }

  function signature(list) {
    return list.map((t) => `${t.id}:${t.observationCount}:${t.totalCost}:${t.latency}`).join("|");
  }

  function setupLive() {
    const box = document.getElementById("live-refresh");
    const wrap = document.getElementById("traces-table-wrap");
    if (!box || !wrap) return;
    if (wrap.dataset.liveAllowed !== "yes") {
      box.disabled = true;
      box.parentElement.title = "Live refresh works on the first page";
      return;
    }
    let timer = null;
    let last = null;
    async function poll() {
      try {
        const response = await fetch(wrap.dataset.jsonUrl, { credentials: "same-origin" });
        if (!response.ok) return;
        const body = await response.json();
        const sig = signature(body.data);
        if (last !== null && sig !== last) await swapRows();
        last = sig;
      } catch (_err) {
        /* keep polling */
      }
    }
    async function swapRows() {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      // The server escaped every value; DOMParser never runs scripts. Nodes are adopted, not re-parsed.
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.getElementById("traces-table-wrap");
      if (!fresh) return;
      wrap.replaceChildren(...[...fresh.childNodes].map((n) => document.adoptNode(n)));
      const form = document.querySelector(".cols-form");
      if (form) applyColumns(visibleColumns(form));
      if (window.IA) window.IA.localiseTimes(wrap);
      wrap.classList.add("flash");
      setTimeout(() => wrap.classList.remove("flash"), 600);
    }
    function set(on) {
      clearInterval(timer);
      localStorage.setItem(LIVE_KEY, on ? "1" : "0");
      if (on) {
        poll();
        timer = setInterval(poll, POLL_MS);
      }
    }
    box.checked = localStorage.getItem(LIVE_KEY) === "1";
    box.addEventListener("change", () => set(box.checked));
    set(box.checked);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupColumns();
    setupFilters();
    setupLive();
  });
})();
