// The guest page: a guest gives their name (and unit) and gets a pass for this one
// meeting, then asks to enter; after a reload with a pass still held, they ask again
// at once and keep their place in the lobby.

/**
 * @param {object} options
 * @param {HTMLElement} options.root     #meeting-app, with data-guest-enter and data-csrf
 * @param {object} options.el            nameInput, unitInput, button
 * @param {(key: string) => string} options.t
 * @param {(text: string) => void} options.showError
 * @param {(guest: {username: string, name: string}) => void} options.onReady
 */
export function setupGuest({ root, el, t, showError, onReady }) {
  el.button.addEventListener("click", async () => {
    const name = el.nameInput.value.trim();
    if (!name) {
      showError(t("guest_name_needed"));
      el.nameInput.focus();
      return;
    }
    el.button.disabled = true;
    try {
      const body = new FormData();
      body.set("name", name);
      body.set("unit", el.unitInput.value.trim());
      const response = await fetch(root.dataset.guestEnter, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": root.dataset.csrf },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(answer.rule === "guest_name" ? t("guest_error_guest_name") : t("guest_error_link"));
        return;
      }
      el.nameInput.disabled = true;
      el.unitInput.disabled = true;
      el.button.hidden = true;
      onReady(answer);
    } catch {
      showError(t("guest_error_link"));
    } finally {
      el.button.disabled = false;
    }
  });
  if (root.dataset.guestReady) {
    el.button.hidden = true;
    onReady({ username: root.dataset.username, name: root.dataset.displayName });
  }
}
