// The trace page's Annotate form: "the selected observation" means the one in the URL.
(() => {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "annotate-form") return;
    const field = form.querySelector("input[name=observation_id]");
    const target = form.querySelector("input[name=target]:checked");
    if (field) {
      const selected = new URL(window.location.href).searchParams.get("observation") || "";
      field.value = target && target.value === "observation" ? selected : "";
    }
  }, true);
})();
