// The evaluator form: the prompt's {{variables}} listed (with a mapping row each) as they are
// typed, fields shown for the chosen target and score type, and the chosen connection's default
// model as the model field's placeholder. The server builds the same rows from the submitted
// prompt, so the form works without this script. Text goes in with textContent only.
(function () {
  "use strict";
  const form = document.getElementById("evaluator-form");
  if (!form) return;
  const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
  const fields = JSON.parse(document.getElementById("evaluator-fields").textContent);
  const prompt = document.getElementById("prompt-input");
  const target = document.getElementById("target-select");
  const scoreType = document.getElementById("score-type");
  const connection = document.getElementById("connection-select");
  const model = document.getElementById("model-input");
  const preview = document.getElementById("variables-preview");
  const body = document.querySelector("#mapping-table tbody");
  const template = document.getElementById("mapping-row-template");

  function variables() {
    const names = [];
    for (const match of prompt.value.matchAll(PLACEHOLDER)) {
      if (!names.includes(match[1])) names.push(match[1]);
    }
    return names;
  }

  function newRow(name) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.variable = name;
    row.querySelector(".variable-name").textContent = "{{" + name + "}}";
    row.querySelector("input[name=var_name]").value = name;
    return row;
  }

  function syncKey(row) {
    // the key picks one member of metadata; hidden (still sent: the rows' lists stay aligned) otherwise
    const from = row.querySelector("select[name=var_from]").value;
    const key = row.querySelector("input[name=var_key]");
    key.hidden = !from.endsWith(".metadata") && !key.value;
  }

  function labelRow(row, used) {
    const name = row.dataset.variable;
    const own = fields[target.value] || [];
    const implied = row.querySelector("option.implied-option");
    implied.textContent = own.includes(name) ? "its own field (" + target.value + " " + name + ")" : "— choose a field —";
    row.querySelector(".unused-note").textContent = used ? "" : "not in the prompt";
    syncKey(row);
  }

  function syncVariables() {
    const names = variables();
    const rows = new Map([...body.querySelectorAll("tr")].map((row) => [row.dataset.variable, row]));
    const kept = names.map((name) => rows.get(name) || newRow(name));
    // a mapping the prompt no longer uses stays while it says something (the API accepts it)
    for (const [name, row] of rows) {
      if (!names.includes(name) && row.querySelector("select[name=var_from]").value) kept.push(row);
    }
    body.replaceChildren(...kept);
    kept.forEach((row) => labelRow(row, names.includes(row.dataset.variable)));
    const label = document.createElement("span");
    label.className = "muted small";
    label.textContent = "Variables:";
    const chips = names.map((name) => {
      const chip = document.createElement("span");
      chip.className = "chip tag";
      chip.textContent = "{{" + name + "}}";
      return chip;
    });
    if (!chips.length) {
      const none = document.createElement("span");
      none.className = "muted small";
      none.textContent = "none yet";
      chips.push(none);
    }
    preview.replaceChildren(label, ...chips);
  }

  function syncTarget() {
    const observation = target.value === "observation";
    form.querySelectorAll("label.observation-only").forEach((el) => { el.hidden = !observation; });
    form.querySelectorAll("optgroup.observation-only").forEach((el) => { el.hidden = !observation; });
    syncVariables();
  }

  function syncScoreType() {
    form.querySelectorAll(".numeric-only").forEach((el) => { el.hidden = scoreType.value !== "NUMERIC"; });
    form.querySelectorAll(".categorical-only").forEach((el) => { el.hidden = scoreType.value !== "CATEGORICAL"; });
  }

  function syncModel() {
    const option = connection && connection.selectedOptions[0];
    const fallback = option && option.dataset.model;
    model.placeholder = fallback ? "default: " + fallback : "the connection's default";
  }

  prompt.addEventListener("input", syncVariables);
  body.addEventListener("change", (event) => {
    if (event.target.matches("select[name=var_from]")) syncKey(event.target.closest("tr"));
  });
  target.addEventListener("change", syncTarget);
  scoreType.addEventListener("change", syncScoreType);
  if (connection) connection.addEventListener("change", syncModel);
  syncTarget();
  syncScoreType();
  syncModel();
})();
