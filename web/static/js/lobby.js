// The lobby for hosts (who waits, admit or turn away each or all) and the lock button.

import { messages } from "./protocol.js";

export class LobbyPanel {
  /**
   * @param {object} options
   * @param {object} options.el   panel, list, admitAll, lockButton, guestLinkButton,
   *   guestLinkBox, guestLinkUrl
   * @param {(key: string, params?: object) => string} options.t
   * @param {(message: object) => boolean} options.send
   * @param {(text: string) => void} options.notify
   */
  constructor({ el, t, send, notify }) {
    this.el = el;
    this.t = t;
    this.send = send;
    this.notify = notify;
    this.locked = null;
    el.admitAll.addEventListener("click", () => this.send(messages.lobbyAdmit(null)));
    el.lockButton.addEventListener("click", () => this.send(messages.lock(!this.locked)));
    el.guestLinkButton.addEventListener("click", () => this.send(messages.guestLink()));
  }

  /** A new guest link for this meeting, to copy and send to the guest. */
  guestLink(created) {
    this.el.guestLinkBox.hidden = false;
    this.el.guestLinkUrl.value = created.url;
    this.el.panel.hidden = false;
    this.el.guestLinkUrl.select();
  }

  /** Everyone waiting (sent to hosts on every change). */
  show(listing) {
    const entries = listing.entries || [];
    this.el.list.replaceChildren(...entries.map((entry) => this.entry(entry)));
    this.el.panel.hidden = entries.length === 0 && this.el.guestLinkBox.hidden;
    if (listing.knocked) this.notify(this.t("lobby_knock", { name: listing.knocked }));
  }

  entry(entry) {
    const item = document.createElement("li");
    item.className = "lobby-entry";
    item.dataset.testid = "lobby-entry";
    item.dataset.entryId = entry.entry_id;
    const name = document.createElement("span");
    name.className = "lobby-name";
    name.textContent = entry.guest ? `${entry.name} (${this.t("lobby_guest")})` : entry.name;
    const admit = document.createElement("button");
    admit.type = "button";
    admit.className = "button button-primary";
    admit.dataset.testid = "lobby-admit";
    admit.textContent = this.t("lobby_admit");
    admit.addEventListener("click", () => this.send(messages.lobbyAdmit(entry.entry_id)));
    const deny = document.createElement("button");
    deny.type = "button";
    deny.className = "button button-secondary";
    deny.dataset.testid = "lobby-deny";
    deny.textContent = this.t("lobby_deny");
    deny.addEventListener("click", () => this.send(messages.lobbyDeny(entry.entry_id)));
    item.append(name, admit, deny);
    return item;
  }

  /** Whether the meeting is locked, and whether we may change it. */
  lockState(state) {
    const was = this.locked;
    this.locked = Boolean(state.locked);
    const button = this.el.lockButton;
    button.hidden = !state.can_control;
    this.el.guestLinkButton.hidden = !state.can_control;
    button.setAttribute("aria-pressed", String(this.locked));
    button.textContent = this.locked ? this.t("unlock") : this.t("lock");
    if (was !== null && was !== this.locked) {
      this.notify(this.locked ? this.t("locked_notice") : this.t("unlocked_notice"));
    }
  }

  reset() {
    this.locked = null;
    this.el.panel.hidden = true;
    this.el.list.replaceChildren();
    this.el.lockButton.hidden = true;
    this.el.guestLinkButton.hidden = true;
    this.el.guestLinkBox.hidden = true;
  }
}
