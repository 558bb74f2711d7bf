// Every page: local times for <time data-local>, menus that close on outside click or Escape.
(function () {
  "use strict";
  // Local time with the year and the zone ("Dec 05, 2026 06:50:36 GMT+1"), the UTC time on hover.
  // The only break is between date and time, so a narrow column shows them on two lines.
  const dateFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "2-digit" });
  const timeFmt = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
  });
  const unbroken = (text) => text.replace(/\s/g, "\u00a0");

  function localiseTimes(root) {
    root.querySelectorAll("time[data-local]").forEach((node) => {
      const when = new Date(node.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) {
        node.title = when.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
        node.textContent = `${unbroken(dateFmt.format(when))} ${unbroken(timeFmt.format(when))}`;
      }
    });
  }

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (menu !== except) menu.open = false;
    });
  }

  document.addEventListener("click", (event) => {
    const inside = event.target.closest("details.menu");
    closeMenus(inside);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeMenus(null);
  });
  // Rows with data-href open on click anywhere (links, buttons and text selection keep working).
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.target.closest("a, button, input, select, label")) return;
    const row = event.target.closest("tr[data-href]");
    if (row && !window.getSelection().toString()) window.location.assign(row.dataset.href);
  });
  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    navigator.clipboard.writeText(button.dataset.copy).then(() => {
      button.classList.add("copied");
      setTimeout(() => button.classList.remove("copied"), 1200);
    }, () => {});
  });
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
  document.addEventListener("DOMContentLoaded", () => localiseTimes(document));
  window.IA = Object.assign(window.IA || {}, { localiseTimes });
})();
