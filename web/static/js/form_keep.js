// Keeps what was typed in a form across a sign-in: when a session has ended, sending a
// form leads to the sign-in page (with "kept=1"), and after signing in the browser comes
// back to the form's page, where the typed values are put back. Passwords and files are
// never kept; the values stay in this tab's sessionStorage only until they are put back.

const PENDING = "giaoban.form";
const SIGNED_IN_AGAIN = "giaoban.signedInAgain";
const SKIPPED = new Set(["csrf_token", "password", "current_password", "new_password",
  "repeat_password"]);
const script = document.currentScript || document.querySelector('script[src$="form_keep.js"]');

function fieldsOf(form) {
  const kept = [];
  for (const element of form.elements) {
    if (!element.name || SKIPPED.has(element.name) || element.type === "password"
        || element.type === "file" || element.type === "submit" || element.type === "button") continue;
    if (element.type === "checkbox" || element.type === "radio") {
      kept.push({ name: element.name, value: element.value, checked: element.checked });
    } else {
      kept.push({ name: element.name, value: element.value });
    }
  }
  return kept;
}

function putBack(form, kept) {
  for (const field of kept) {
    const matches = [...form.elements].filter((e) => e.name === field.name);
    for (const element of matches) {
      if ("checked" in field && (element.type === "checkbox" || element.type === "radio")) {
        if (element.value === field.value) element.checked = field.checked;
      } else if (element.type !== "checkbox" && element.type !== "radio") {
        element.value = field.value;
      }
    }
  }
  form.dispatchEvent(new Event("giaoban:restored", { bubbles: true }));
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  if (form.getAttribute("action") === "/login") {
    if (new URLSearchParams(location.search).get("kept") === "1") {
      sessionStorage.setItem(SIGNED_IN_AGAIN, "1");
    }
    return;
  }
  sessionStorage.setItem(PENDING, JSON.stringify({
    page: location.pathname + location.search, action: form.getAttribute("action") || "",
    fields: fieldsOf(form) }));
});

const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
if (pending && sessionStorage.getItem(SIGNED_IN_AGAIN) === "1"
    && location.pathname + location.search === pending.page) {
  const form = [...document.querySelectorAll('form[method="post"]')]
    .find((f) => (f.getAttribute("action") || "") === pending.action);
  if (form) {
    putBack(form, pending.fields);
    const note = document.createElement("p");
    note.className = "alert alert-warning";
    note.setAttribute("role", "status");
    note.dataset.testid = "form-restored";
    note.textContent = script ? script.dataset.restored : "";
    form.before(note);
  }
  sessionStorage.removeItem(PENDING);
  sessionStorage.removeItem(SIGNED_IN_AGAIN);
} else if (location.pathname !== "/login" && !pending) {
  sessionStorage.removeItem(SIGNED_IN_AGAIN);
}
