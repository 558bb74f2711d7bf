// The trace page's Annotate form: "the selected observation" means the one in the URL.
// The Scores page's filter form: empty fields stay out of the URL, so links stay short.
(() => {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.id === "annotate-form") {
      const field = form.querySelector("input[name=observation_id]");
      const target = form.querySelector("input[name=target]:checked");
      if (field) {
        const selected = new URL(window.location.href).searchParams.get("observation") || "";
        field.value = target && target.value === "observation" ? selected : "";
      }
    } else if (form.id === "score-filters") {
      form.querySelectorAll("input[name], select[name]").forEach((field) => {
        if (field.value === "") field.disabled = true;
      });
    }
  }, true);
})();
