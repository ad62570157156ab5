// The call's own buttons: microphone, camera, sharing the screen and leaving, each
// showing what it does now.

import { screenShareSupported } from "./devices.js";

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
  }

  update() {
    const { el, t } = this.ctx;
    const local = this.ctx.media.local;
    el.micButton.disabled = !local.audio;
    el.micButton.setAttribute("aria-pressed", String(local.audioMuted));
    el.micButton.textContent = local.audioMuted ? t("unmute") : t("mute");
    el.cameraButton.disabled = !local.video;
    el.cameraButton.setAttribute("aria-pressed", String(local.videoMuted));
    el.cameraButton.textContent = local.videoMuted ? t("camera_on") : t("camera_off");
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
