// The recording indicator everyone sees, and the button for those who may record.

export class RecordingBar {
  /**
   * @param {object} ctx  the page: el (recordingIndicator, recordButton), t, call, notices
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.recording = false;
    ctx.el.recordButton.addEventListener("click", () => ctx.call.setRecording(!this.recording));
  }

  show(state) {
    const { el, t, notices } = this.ctx;
    const was = this.recording;
    this.recording = Boolean(state.recording);
    el.recordingIndicator.hidden = !this.recording;
    el.recordingIndicator.dataset.reason = state.reason || "";
    el.recordButton.hidden = !state.can_control;
    el.recordButton.setAttribute("aria-pressed", String(this.recording));
    el.recordButton.textContent = this.recording ? t("record_stop") : t("record_start");
    if (was && !this.recording && state.reason && state.reason !== "stopped") notices.toast(t(`recording_${state.reason}`), true);
    else if (!this.recording && state.reason === "refused_low_disk") notices.toast(t("recording_refused_low_disk"), true);
  }

  hide() {
    this.ctx.el.recordingIndicator.hidden = true;
  }
}
