// The copy button beside a guest link just created (web/templates/guest_link_new.html).

async function copy(input) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(input.value);
    return;
  }
  input.select();  // a plain-HTTP page has no clipboard API
  document.execCommand("copy");
}

for (const button of document.querySelectorAll("[data-copy-link]")) {
  const input = button.closest(".guest-link-new").querySelector("input");
  input.addEventListener("focus", () => input.select());
  button.addEventListener("click", async () => {
    try {
      await copy(input);
      button.textContent = button.dataset.copied;
    } catch {
      input.select();  // left selected, for the keyboard's own copy
    }
  });
}
