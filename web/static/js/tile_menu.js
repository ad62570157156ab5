// A host's menu on each other participant's tile: the same controls as in the
// participant list (hosts.js builds them), opened by the tile's "⋯" button and shown
// next to it; one menu for the page, closed by a choice, Escape or a click elsewhere.

export class TileMenu {
  /**
   * @param {{menu: HTMLElement, controlsFor: (id: string) => HTMLElement | null}} parts
   * `controlsFor(id)` gives the controls for participant `id`, or null when none apply.
   */
  constructor({ menu, controlsFor }) {
    this.menu = menu;
    this.controlsFor = controlsFor;
    this.openFor = null;
    this.opener = null;
    menu.addEventListener("click", (event) => {
      if (event.target.closest("button")) this.close();
    });
    document.addEventListener("click", (event) => {
      if (this.openFor && !menu.contains(event.target) && event.target !== this.opener) this.close();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.openFor) this.close(true);
    });
  }

  /** Show or hide the menu button of `tile` (participant `id`); `allowed` for hosts. */
  paint(tile, id, allowed) {
    const opener = tile.querySelector(".tile-menu-button");
    if (!opener) return;
    opener.hidden = !allowed;
    if (!opener.dataset.wired) {
      opener.dataset.wired = "1";
      opener.addEventListener("click", () => {
        if (this.openFor === tile.dataset.ownerId) this.close();
        else this.open(tile.dataset.ownerId, opener);
      });
    }
    if (!allowed && this.openFor === id) this.close();
  }

  open(id, opener) {
    const controls = this.controlsFor(id);
    if (!controls) return;
    this.close();
    this.openFor = id;
    this.opener = opener;
    this.menu.dataset.participantId = id;
    this.menu.replaceChildren(controls);
    this.menu.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    const at = opener.getBoundingClientRect();
    const box = this.menu.getBoundingClientRect();
    const left = Math.min(Math.max(4, at.right - box.width), window.innerWidth - box.width - 4);
    const below = at.bottom + 4;
    const top = below + box.height < window.innerHeight ? below : Math.max(4, at.top - box.height - 4);
    Object.assign(this.menu.style, { left: `${left}px`, top: `${top}px` });
    const first = this.menu.querySelector("button");
    if (first) first.focus();
  }

  close(refocus = false) {
    if (!this.openFor) return;
    this.menu.hidden = true;
    this.menu.replaceChildren();
    this.opener.setAttribute("aria-expanded", "false");
    if (refocus) this.opener.focus();
    this.openFor = null;
    this.opener = null;
  }
}
