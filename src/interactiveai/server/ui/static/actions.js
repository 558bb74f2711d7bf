// Pages that change things: confirmation dialogs for forms with data-confirm, the score-config
// type fields, "select all" boxes, and the trace page's "add the selected observation" choice.
(function () {
  "use strict";
  let dialog = null;

  function confirmDialog() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.id = "confirm-dialog";
    const text = document.createElement("p");
    text.className = "confirm-text";
    const buttons = document.createElement("div");
    buttons.className = "dialog-buttons";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.className = "confirm-cancel";
    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = "danger solid confirm-ok";
    ok.textContent = "Confirm";
    buttons.append(cancel, ok);
    dialog.append(text, buttons);
    cancel.addEventListener("click", () => dialog.close());
    document.body.append(dialog);
    return dialog;
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || form.dataset.confirmed === "yes") return;
    if (event.submitter && event.submitter.hasAttribute("data-no-confirm")) return;  // e.g. "Add to queue" in the delete bar
    event.preventDefault();
    const box = confirmDialog();
    box.querySelector(".confirm-text").textContent = form.dataset.confirm;
    const ok = box.querySelector(".confirm-ok");
    ok.textContent = form.dataset.confirmLabel || "Confirm";
    const fresh = ok.cloneNode(true);
    ok.replaceWith(fresh);
    fresh.addEventListener("click", () => {
      box.close();
      form.dataset.confirmed = "yes";
      form.requestSubmit(event.submitter || undefined);
    });
    box.showModal();
    fresh.focus();
  });

  function syncTypeFields() {
    const select = document.getElementById("config-type");
    if (!select) return;
    document.querySelectorAll("[data-for-type]").forEach((field) => {
      field.classList.toggle("hidden", field.dataset.forType !== select.value);
    });
  }

  function syncBulk() {
    const boxes = [...document.querySelectorAll("input[data-bulk-item]")];
    const picked = boxes.filter((b) => b.checked).length;
    document.querySelectorAll("[data-bulk-count]").forEach((node) => { node.textContent = String(picked); });
    document.querySelectorAll("button[data-bulk-submit]").forEach((button) => { button.disabled = picked === 0; });
    const all = document.getElementById("select-all");
    if (all) all.checked = picked > 0 && picked === boxes.length;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "config-type") syncTypeFields();
    if (event.target.id === "select-all") {
      document.querySelectorAll("input[data-bulk-item]").forEach((box) => { box.checked = event.target.checked; });
    }
    if (event.target.matches("input[data-bulk-item], #select-all")) syncBulk();
  });

  // The trace page's add-to-dataset form: "the selected observation" means the one in the URL.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "add-to-dataset") return;
    const field = form.querySelector("input[name=observation_id]");
    const scope = form.querySelector("input[name=scope]:checked");
    if (field) {
      const selected = new URL(window.location.href).searchParams.get("observation") || "";
      field.value = scope && scope.value === "observation" ? selected : "";
    }
  }, true);

  // The trace page's add-to-queue form: the trace, or the observation selected in the URL.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "add-to-queue") return;
    const scope = form.querySelector("input[name=scope]:checked");
    const selected = new URL(window.location.href).searchParams.get("observation") || "";
    const id = form.querySelector("input[name=object_id]");
    const observation = scope && scope.value === "observation" && selected;
    form.querySelector("input[name=object_type]").value = observation ? "OBSERVATION" : "TRACE";
    id.value = observation ? selected : id.dataset.traceId;
  }, true);

  document.addEventListener("DOMContentLoaded", () => {
    syncTypeFields();
    syncBulk();
    // the list's live refresh swaps its rows: keep the selection count and button in step
    const wrap = document.getElementById("traces-table-wrap");
    if (wrap) new MutationObserver(syncBulk).observe(wrap, { childList: true });
  });
})();
