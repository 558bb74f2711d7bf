// Every page: local times for <time data-local>, menus that close on outside click or Escape.
(function () {
  "use strict";
  const fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });

  function localiseTimes(root) {
    root.querySelectorAll("time[data-local]").forEach((node) => {
      const when = new Date(node.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) {
        node.title = node.getAttribute("datetime");
        node.textContent = fmt.format(when);
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
  document.addEventListener("DOMContentLoaded", () => localiseTimes(document));
  window.IA = Object.assign(window.IA || {}, { localiseTimes });
})();
