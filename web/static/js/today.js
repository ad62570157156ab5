// A leader's today page: each Join button turns active when its join window opens.
// The server gives the wait in milliseconds, so the device's own clock does not matter.

for (const link of document.querySelectorAll('[data-testid="today-join"]')) {
  const wait = Number(link.dataset.opensInMs);
  if (!link.classList.contains("is-waiting")) continue;
  link.addEventListener("click", (event) => {
    if (link.classList.contains("is-waiting")) event.preventDefault();
  });
  setTimeout(() => {
    link.classList.remove("is-waiting");
    link.removeAttribute("aria-disabled");
    link.removeAttribute("tabindex");
    const note = link.parentElement.querySelector('[data-testid="join-opens"]');
    if (note) note.hidden = true;
  }, Math.max(0, wait));
}
