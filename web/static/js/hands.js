// Raised hands on the page: the queue the server keeps (first raised first, with the
// time raised), shown to everyone at the top of the participant list, and this page's
// own raise-hand button (its H shortcut is the toolbar's, meeting_controls.js).

function timeFormat(lang) {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN", {
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "Asia/Ho_Chi_Minh",
  });
}

export class HandQueue {
  /**
   * @param {object} parts
   * @param {string} parts.lang              the page's language, "vi" or "en"
   * @param {HTMLOListElement} parts.list     the queue (data-testid="hand-queue")
   * @param {HTMLElement} parts.empty         shown while no hand is up
   * @param {HTMLButtonElement} parts.button  this page's raise-hand button
   * @param {(id: string) => string} parts.nameOf
   * @param {(raised: boolean) => void} parts.send
   * @param {() => string} parts.ownId
   */
  constructor({ t, lang, list, empty, button, nameOf, send, ownId }) {
    this.t = t;
    this.time = timeFormat(lang);
    this.list = list;
    this.empty = empty;
    this.button = button;
    this.nameOf = nameOf;
    this.ownId = ownId;
    this.queue = [];
    button.addEventListener("click", () => send(!this.raised(this.ownId())));
  }

  set(queue) {
    this.queue = Array.isArray(queue) ? queue : [];
  }

  raised(participantId) {
    return this.queue.some((hand) => hand.participant_id === participantId);
  }

  render() {
    const items = this.queue.map((hand, index) => {
      const item = document.createElement("li");
      item.dataset.testid = "hand-entry";
      item.dataset.participantId = hand.participant_id;
      item.dataset.position = String(index + 1);
      const name = document.createElement("span");
      name.textContent = this.nameOf(hand.participant_id);
      const when = document.createElement("time");
      when.dateTime = hand.raised_at;
      const moment = new Date(hand.raised_at);
      when.textContent = Number.isNaN(moment.getTime()) ? "" : this.time.format(moment);
      item.append(name, when);
      return item;
    });
    this.list.replaceChildren(...items);
    this.empty.hidden = items.length > 0;
    const mine = this.raised(this.ownId());
    this.button.setAttribute("aria-pressed", String(mine));
    this.button.textContent = mine ? this.t("lower_own_hand") : this.t("raise_hand");
    const count = this.queue.length;
    this.button.dataset.note = count ? this.t("hands_count", { count }) : ""; // in its title
  }
}
