// The call's own buttons: microphone, camera, sharing the screen and leaving, each
// showing what it does now, and the toolbar's keyboard shortcuts: a button with
// data-shortcut="M" is pressed by the M key, unless one is typing in a field.

import { screenShareSupported } from "./devices.js";

const TYPING = "input, textarea, select, [contenteditable]";

/** The button a key press stands for, or null (typing, a modifier, or no such button). */
export function shortcutButton(event, toolbar) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || !event.key) return null;
  const target = event.target;
  if (target && target.closest && target.closest(TYPING)) return null;
  const key = event.key.toUpperCase();
  const button = [...toolbar.querySelectorAll("[data-shortcut]")].find((b) => b.dataset.shortcut === key);
  if (!button || button.disabled || button.closest("[hidden]")) return null;
  return button;
}

export class Controls {
  /**
   * @param {object} ctx  the page: el, t, call, media, tiles, notices, chair
   */
  constructor(ctx) {
    this.ctx = ctx;
    const { el } = ctx;
    el.leaveButton.addEventListener("click", () => ctx.call.leave());
    el.micButton.addEventListener("click", () => this.toggleMute("audio"));
    el.cameraButton.addEventListener("click", () => this.toggleMute("video"));
    el.screenButton.addEventListener("click", () => this.toggleShare());
    document.addEventListener("keydown", (event) => {
      const button = shortcutButton(event, el.toolbar);
      if (!button) return;
      event.preventDefault(); // the key must not reach a field the button focuses
      button.click();
    });
    new MutationObserver(() => this.paintTitles())
      .observe(el.toolbar, { childList: true, subtree: true, characterData: true });
    this.paintTitles();
  }

  /** Each button's title: what it does now, its shortcut, and a note (hands raised). */
  paintTitles() {
    for (const button of this.ctx.el.toolbar.querySelectorAll("[data-shortcut]")) {
      const parts = [button.textContent.trim(), this.ctx.t("shortcut", { key: button.dataset.shortcut })];
      if (button.dataset.note) parts.push(button.dataset.note);
      const title = parts.join(" · ");
      if (button.title !== title) button.title = title;
    }
  }

  update() {
    const { el, t } = this.ctx;
    const local = this.ctx.media.local;
    el.micButton.disabled = !local.audio;
    el.micButton.setAttribute("aria-pressed", String(local.audioMuted));
    el.micButton.textContent = !local.audio ? t("no_microphone") : local.audioMuted ? t("unmute") : t("mute");
    el.cameraButton.disabled = !local.video;
    el.cameraButton.setAttribute("aria-pressed", String(local.videoMuted));
    el.cameraButton.textContent = !local.video ? t("no_camera") : local.videoMuted ? t("camera_on") : t("camera_off");
    el.screenButton.hidden = !screenShareSupported();
    el.screenButton.setAttribute("aria-pressed", String(Boolean(local.screen)));
    el.screenButton.textContent = local.screen ? t("stop_share") : t("share_screen");
  }

  toggleShare() {
    const media = this.ctx.media;
    return media.local.screen ? media.stopShare() : media.startShare();
  }

  toggleMute(kind) {
    const local = this.ctx.media.local;
    const key = kind === "audio" ? "audioMuted" : "videoMuted";
    if (kind === "audio" && local.audioMuted && this.ctx.chair.held) {
      this.ctx.notices.toast(this.ctx.t("muted_by_host_wait"), true); // only their request unmutes
      return;
    }
    this.setMuted(kind, !local[key], true);
  }

  /** Mute or unmute our own microphone or camera; `tell` the others unless the server did. */
  setMuted(kind, muted, tell) {
    const media = this.ctx.media;
    media.local[kind === "audio" ? "audioMuted" : "videoMuted"] = muted;
    media.applyMuted();
    if (tell) this.ctx.call.setMuted(kind, muted);
    this.update();
    this.ctx.tiles.showLocal();
  }
}
