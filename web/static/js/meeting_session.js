// The call's phases on the page: joining, waiting in the lobby, reconnecting, joined,
// left or ended, and what each one shows.

import { LOCAL_KEY, OWN_SCREEN_KEY } from "./stage.js";

const SIGN_IN_AGAIN = new Set(["unauthorized", "session_expired"]);

export class Session {
  /**
   * @param {object} ctx  the page: root, el, t, call, stage, pager, tiles, media, controls,
   *                      chair, lobby, bar, notices, qualities, reporter
   */
  constructor(ctx) {
    this.ctx = ctx;
  }

  onPhase(phase, detail) {
    const { root, el, t, notices, reporter, qualities, tiles, chair } = this.ctx;
    const previous = root.dataset.state;
    root.dataset.state = phase;
    el.waiting.hidden = phase !== "waiting";
    if (phase === "joining") {
      notices.showBanner(t("joining"));
    } else if (phase === "waiting") {
      notices.hideBanner();
      el.call.hidden = true;
      el.waitingText.textContent = detail && detail.reason === "locked" ? t("waiting_locked") : t("waiting_guest");
    } else if (phase === "reconnecting") {
      reporter.stop();
      qualities.clear();
      tiles.clear();
      notices.showBanner(t("reconnecting_because", {
        reason: notices.reconnectReason(detail.code), seconds: Math.round(detail.delayMs / 1000),
      }));
    } else if (phase === "joined") {
      notices.hideBanner();
      el.call.hidden = false;
      reporter.start();
      this.ctx.bar.joined();
      if (previous === "reconnecting") notices.toast(t("reconnected"));
    } else if (phase === "ended" && detail && SIGN_IN_AGAIN.has(detail.code)) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    } else if (phase === "left" || phase === "ended") {
      reporter.stop();
      qualities.clear();
      this.showEnded(phase, phase === "ended" && detail ? notices.errorText(detail) : "");
      // Removed, or the meeting ended by a host: joining again is refused (a host reopens it).
      const code = phase === "ended" && detail ? detail.code : "";
      el.rejoinButton.hidden = code === "removed" || (code === "meeting_ended" && !chair.host);
    }
  }

  onJoined(joined) {
    const { root, t, stage, pager, tiles, chair, notices } = this.ctx;
    tiles.clear();
    pager.clear();
    for (const p of joined.participants || []) {
      if (p.participant_id !== joined.participant_id) tiles.add(p);
    }
    const own = stage.find(LOCAL_KEY);
    if (own) own.dataset.participantId = joined.participant_id;
    chair.joined(joined);
    if (root.dataset.state === "reconnecting") notices.showBanner(t("reconnecting_now"));
  }

  showCall() {
    const { el } = this.ctx;
    el.prejoin.hidden = true;
    el.ended.hidden = true;
    el.call.hidden = false;
    el.preview.srcObject = null;
    this.ctx.tiles.showLocal();
    this.ctx.controls.update();
  }

  showEnded(phase, detail) {
    const { el, t, stage, tiles, media, lobby, bar, notices } = this.ctx;
    bar.hide();
    lobby.reset();
    el.prejoin.hidden = true;
    tiles.clear();
    media.stop();
    stage.remove(OWN_SCREEN_KEY);
    stage.remove(LOCAL_KEY);
    notices.hideBanner();
    el.call.hidden = true;
    el.endedHeading.textContent = phase === "left" ? t("left") : t("ended");
    el.endedDetail.textContent = detail;
    el.endedDetail.hidden = !detail;
    el.ended.hidden = false;
    el.rejoinButton.disabled = false;
    el.rejoinButton.focus();
  }

  async join() {
    const { el, media, call } = this.ctx;
    el.joinButton.disabled = true;
    el.rejoinButton.disabled = true;
    if (media.opening) await media.opening;
    if (!media.local.audio && !media.local.video) await media.ensure();
    this.showCall();
    call.start();
    el.joinButton.disabled = false;
  }
}
