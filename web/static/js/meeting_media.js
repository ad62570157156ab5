// This page's own media: the camera and microphone (opened once, each one optional),
// the preview before joining, another device chosen there, and sharing the screen.

import { fillDeviceSelect, listDevices, mediaSupported, openTrack } from "./devices.js";
import { mediaUnavailableText } from "./secure_context.js";
import { OWN_SCREEN_KEY, setStream } from "./stage.js";

export class LocalMedia {
  /**
   * @param {object} ctx  the page: el, t, notices, stage, page, call, and
   *                      onChange() (the buttons to repaint)
   */
  constructor(ctx) {
    this.ctx = ctx;
    /** Our own media; the call publishes whatever is here when it (re)joins. */
    this.local = { audio: null, video: null, screen: null, audioMuted: false, videoMuted: false };
    this.opening = null;
  }

  /** Open the camera and the microphone once, even when asked twice at the same time. */
  ensure() {
    if (!this.opening) this.opening = this._open().finally(() => { this.opening = null; });
    return this.opening;
  }

  /** Open the camera and the microphone (each one optional) and show the preview. */
  async _open() {
    const { el, t, notices } = this.ctx;
    const local = this.local;
    if (!mediaSupported()) {
      notices.showDeviceMessage(mediaUnavailableText(t));
      return;
    }
    const failures = [];
    for (const kind of ["audio", "video"]) {
      if (local[kind]) continue;
      const select = kind === "video" ? el.cameraSelect : el.micSelect;
      try {
        local[kind] = await openTrack(kind, select.value);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length === 2) {
      const denied = failures.some((e) => e.name === "NotAllowedError" || e.name === "SecurityError");
      notices.showDeviceMessage(denied ? t("media_denied") : t("media_missing"));
    } else {
      el.deviceMessage.hidden = true;
    }
    this.applyMuted();
    this.showPreview();
    const { cameras, microphones } = await listDevices();
    fillDeviceSelect(el.cameraSelect, cameras, local.video, (n) => t("camera_n", { n }), t("no_camera"));
    fillDeviceSelect(el.micSelect, microphones, local.audio, (n) => t("mic_n", { n }), t("no_microphone"));
  }

  stop() {
    for (const kind of ["audio", "video", "screen"]) {
      if (this.local[kind]) this.local[kind].stop();
      this.local[kind] = null;
    }
  }

  applyMuted() {
    const local = this.local;
    if (local.audio) local.audio.enabled = !local.audioMuted;
    if (local.video) local.video.enabled = !local.videoMuted;
  }

  showPreview() {
    setStream(this.ctx.el.preview, this.local.video);
    this.ctx.el.previewPlaceholder.hidden = Boolean(this.local.video);
  }

  /** Another device was chosen in the preview: swap that track. */
  async switchDevice(kind) {
    const { el, t, notices } = this.ctx;
    const select = kind === "video" ? el.cameraSelect : el.micSelect;
    let track;
    try {
      track = await openTrack(kind, select.value);
    } catch {
      notices.showDeviceMessage(t("media_missing"));
      return;
    }
    const old = this.local[kind];
    this.local[kind] = track;
    this.applyMuted();
    await this.ctx.call.replaceTrack(old, track);
    if (old) old.stop();
    this.showPreview();
  }

  async startShare() {
    const { t, notices, stage, page } = this.ctx;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15 } }, audio: false,
      });
    } catch (err) {
      if (err && err.name !== "NotAllowedError" && err.name !== "AbortError") notices.toast(t("share_failed"), true);
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    if ("contentHint" in track) track.contentHint = "detail";
    track.addEventListener("ended", () => this.stopShare());
    this.local.screen = track;
    const tile = stage.screen(OWN_SCREEN_KEY, page.username, t("screen_of", { name: page.displayName }));
    setStream(tile.querySelector("video"), track);
    this.ctx.onChange();
    try {
      await this.ctx.call.publishScreen(track);
    } catch (err) {
      console.error("publishing the screen failed", err);
      if (this.local.screen === track) notices.toast(t("share_failed"), true);
    }
  }

  stopShare() {
    const track = this.local.screen;
    if (!track) return;
    this.local.screen = null;
    this.ctx.call.unpublishScreen();
    track.stop();
    this.ctx.stage.remove(OWN_SCREEN_KEY);
    this.ctx.onChange();
  }
}
