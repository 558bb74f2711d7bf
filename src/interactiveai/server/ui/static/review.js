// Reviewing a queue from the keyboard: Ctrl/Cmd+Enter completes the item, S skips it, O opens the
// object in a new tab, and 1-9 pick an option of the score being answered (the focused one, else
// the first without an answer). Keys typed into a text field are left alone, except Ctrl+Enter.
(() => {
  const form = document.getElementById("review-form");
  if (!form) return;
  const typing = (el) => el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox") || el.isContentEditable);
  const groups = () => Array.from(form.querySelectorAll("fieldset.score-field")).filter((f) => f.querySelector("input[type=radio]"));
  const answered = (group) => group.querySelector("input[type=radio]:checked") !== null;

  function pick(n) {
    const active = document.activeElement && document.activeElement.closest("fieldset.score-field");
    const group = (active && active.querySelector("input[type=radio]")) ? active : groups().find((g) => !answered(g));
    if (!group) return false;
    const options = group.querySelectorAll("input[type=radio]");
    if (n < 1 || n > options.length) return false;
    options[n - 1].checked = true;
    options[n - 1].focus();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit(document.getElementById("complete"));
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === "s") {
      const skip = document.getElementById("skip");
      if (skip) { event.preventDefault(); window.location.href = skip.href; }
    } else if (key === "o") {
      const open = document.getElementById("open-subject");
      if (open) { event.preventDefault(); window.open(open.href, "_blank", "noopener"); }
    } else if (/^[1-9]$/.test(key) && pick(Number(key))) {
      event.preventDefault();
    }
  });
  const first = form.querySelector("fieldset.score-field input, textarea[name=comment]");
  if (first && !document.querySelector(":focus")) first.focus({ preventScroll: true });
})();
