// A button that prints the page (its print style shows only the printable sheet).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
