// Pages of tiles. The server sends the meeting's tile order (`tile_order`: the spotlight,
// the latest speakers, then the rest); this page shows one page of it (leaving itself
// out), lists everyone else by name without video, and tells the server whose camera it
// shows (`visible`), which is all the server then forwards to it.
//
// The pager has data-testid "tile-pager" (with "page-prev", "page-label", "page-next");
// the list of people beyond the page is "others-list", one "other-person" per person.

/** The participant ids on page `page` of `order`, leaving out `selfId`. */
export function pageOf(order, selfId, perPage, page) {
  const others = order.filter((id) => id !== selfId);
  const start = page * perPage;
  return others.slice(start, start + perPage);
}

/** How many pages `count` other participants fill. */
export function pageCount(count, perPage) {
  return Math.max(1, Math.ceil(count / Math.max(1, perPage)));
}

export class TilePager {
  /**
   * @param {{grid: HTMLElement, pager: HTMLElement, prev: HTMLButtonElement,
   *          next: HTMLButtonElement, label: HTMLElement, others: HTMLElement,
   *          items: HTMLElement, t: Function, describe: Function, onVisible: Function}} parts
   * `describe(id)` gives {name, audioMuted, hand} of a participant (or null);
   * `onVisible(tiles)` sends the `visible` tiles.
   */
  constructor(parts) {
    Object.assign(this, parts);
    this.order = [];
    this.perPage = 9;
    this.spotlight = null;
    this.selfId = null;
    this.page = 0;
    this.sent = null;
    this.prev.addEventListener("click", () => this.go(this.page - 1));
    this.next.addEventListener("click", () => this.go(this.page + 1));
  }

  /** A new tile order from the server (`tile_order`). */
  setOrder(message, selfId) {
    this.order = Array.isArray(message.order) ? message.order.map(String) : [];
    this.perPage = Number(message.per_page) || 9;
    this.spotlight = message.spotlight || null;
    if (selfId !== this.selfId) this.sent = null; // a new join: say it again
    this.selfId = selfId;
    this.refresh();
  }

  pages() {
    return pageCount(this.order.filter((id) => id !== this.selfId).length, this.perPage);
  }

  shown() {
    return pageOf(this.order, this.selfId, this.perPage, this.page);
  }

  go(page) {
    this.page = Math.max(0, Math.min(page, this.pages() - 1));
    this.refresh();
  }

  /** Show this page's tiles and hide the others; list the rest; say what is shown. */
  refresh() {
    this.page = Math.min(this.page, this.pages() - 1);
    const shown = this.shown();
    const onPage = new Set(shown);
    const rank = new Map(this.order.map((id, i) => [id, i]));
    for (const tile of this.grid.children) {
      const id = tile.dataset.ownerId;
      if (!id || tile.classList.contains("tile-local")) continue;
      const visible = onPage.has(id) || !rank.has(id); // not ordered yet: until it is
      tile.hidden = !visible;
      tile.style.order = String(rank.has(id) ? rank.get(id) + 1 : this.order.length + 1);
      tile.classList.toggle("tile-spotlight", id === this.spotlight);
    }
    this._paintPager();
    this._paintOthers(onPage);
    const key = shown.join(",");
    if (key !== this.sent && this.selfId) {
      this.sent = key;
      this.onVisible(shown.map((id) => ({ participant_id: id, size: id === this.spotlight ? "large" : "small" })));
    }
  }

  _paintPager() {
    const pages = this.pages();
    this.pager.hidden = pages <= 1;
    this.label.textContent = this.t("page_of", { page: this.page + 1, pages });
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  }

  _paintOthers(onPage) {
    const rest = this.order.filter((id) => id !== this.selfId && !onPage.has(id));
    this.items.replaceChildren(...rest.map((id) => this._person(id)).filter(Boolean));
    this.others.hidden = this.items.children.length === 0;
  }

  _person(id) {
    const info = this.describe(id);
    if (!info) return null;
    const item = document.createElement("li");
    item.dataset.testid = "other-person";
    item.dataset.participantId = id;
    const name = document.createElement("span");
    name.className = "other-name";
    name.textContent = info.name;
    item.append(name);
    if (info.audioMuted) item.append(this._badge("mic_off", "indicator-mic"));
    if (info.hand) item.append(this._badge("hand_raised", "indicator-hand"));
    return item;
  }

  _badge(key, className) {
    const badge = document.createElement("span");
    badge.className = `indicator ${className}`;
    badge.textContent = this.t(key);
    return badge;
  }

  /** Forget the order (the call ended or is reconnecting). */
  clear() {
    this.order = [];
    this.sent = null;
    this.refresh();
  }
}
