// The slim bar above the call (title, time in the meeting, recording indicator and how
// many take part), and the recording button for those who may record.

/** Seconds as m:ss, or h:mm:ss from an hour on. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

export class RecordingBar {
  /**
   * @param {object} ctx  the page: el (recordingIndicator, recordButton), t, call, notices
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.recording = false;
    this.since = null;
    this.timer = null;
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
    clearInterval(this.timer);
    this.timer = null;
    this.since = null;
  }

  /** The call is joined: count the time from the first join (a reconnection goes on). */
  joined() {
    if (this.since === null) this.since = Date.now();
    if (this.timer === null) this.timer = setInterval(() => this._tick(), 1000);
    this._tick();
  }

  _tick() {
    if (this.since !== null) this.ctx.el.barElapsed.textContent = clock((Date.now() - this.since) / 1000);
  }

  /** How many take part, this page included. */
  count(n) {
    this.ctx.el.barCount.textContent = String(Math.max(1, n));
  }
}
