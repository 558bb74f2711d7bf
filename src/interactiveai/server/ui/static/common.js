// Every page: local times for <time data-local>, menus that close on outside click or Escape.
(function () {
  "use strict";
  const thisYear = new Date().getFullYear();
  const short = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const long = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });

  function localiseTimes(root) {
    root.querySelectorAll("time[data-local]").forEach((node) => {
      const when = new Date(node.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) {
        node.title = node.getAttribute("datetime");
        node.textContent = (when.getFullYear() === thisYear ? short : long).format(when);
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
