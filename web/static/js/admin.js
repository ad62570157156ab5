// Administration pages: ask before a form that ends someone's access is sent.
"use strict";

for (const form of document.querySelectorAll("form[data-confirm]")) {
  const question = form.dataset.confirm;
  if (!question) continue;
  form.addEventListener("submit", (event) => {
    if (!window.confirm(question)) event.preventDefault();
  });
}
