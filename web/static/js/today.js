// Join buttons that wait for their meeting's join window (today's page, my meetings):
// each shows when it opens and a countdown, then turns into an active Join button.
// The server gives the wait in milliseconds, so the device's own clock does not matter.

const pad = (n) => String(n).padStart(2, "0");

function left(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(seconds % 60)}` : `${pad(m)}:${pad(seconds % 60)}`;
}

for (const link of document.querySelectorAll(".join-when-open")) {
  if (!link.classList.contains("is-waiting")) continue;
  const opensAt = performance.now() + Number(link.dataset.opensInMs);
  const note = link.parentElement.querySelector('[data-testid="join-opens"]');
  const countdown = note ? note.querySelector(".join-countdown") : null;
  link.addEventListener("click", (event) => {
    if (link.classList.contains("is-waiting")) event.preventDefault();
  });
  const open = () => {
    link.classList.remove("is-waiting");
    link.removeAttribute("aria-disabled");
    link.removeAttribute("tabindex");
    if (note) note.hidden = true;
  };
  const tick = () => {
    const remaining = opensAt - performance.now();
    if (remaining <= 0) { open(); return; }
    if (countdown) countdown.textContent = countdown.dataset.template.replace("{time}", left(remaining));
    setTimeout(tick, Math.min(1000, remaining));
  };
  tick();
}
