// The other participants' tiles on the meeting page, and this page's own: who is shown,
// with which camera or screen, muted or not, and what happens when a track goes away.

import { paintQuality } from "./quality.js";
import { LOCAL_KEY, setStream } from "./stage.js";

export function personKey(participantId) {
  return `p:${participantId}`;
}

export class PeopleTiles {
  /**
   * @param {object} ctx  the page: t, stage, pager, page, media, qualities, notices
   */
  constructor(ctx) {
    this.ctx = ctx;
    /** Remote participants by participant_id: ParticipantInfo as the server sent it. */
    this.participants = new Map();
  }

  add(info) {
    this.participants.set(info.participant_id, { ...info });
    this.show(info.participant_id);
    this.ctx.pager.refresh();
  }

  left(participantId) {
    this.participants.delete(participantId);
    this.ctx.stage.remove(personKey(participantId));
    this.ctx.stage.removeParticipant(participantId);
    this.ctx.pager.refresh();
  }

  muteChanged(participantId, kind, muted) {
    const info = this.participants.get(participantId);
    if (!info) return;
    info[kind === "audio" ? "audio_muted" : "video_muted"] = muted;
    this.show(participantId);
    this.ctx.pager.refresh();
  }

  show(participantId, track) {
    const info = this.participants.get(participantId);
    if (!info) return;
    const { stage, qualities, t } = this.ctx;
    const tile = stage.person(personKey(participantId), info.username,
      info.display_name || info.username, info.display_name || info.username, info.unit || "");
    tile.dataset.ownerId = participantId;
    stage.showPerson(tile, { track, audioMuted: info.audio_muted, videoMuted: info.video_muted });
    paintQuality(tile, qualities.get(participantId), t);
    return tile;
  }

  showLocal() {
    const { stage, page, t } = this.ctx;
    const local = this.ctx.media.local;
    const tile = stage.person(LOCAL_KEY, page.username, t("you", { name: page.displayName }),
      page.displayName, page.unit || "");
    stage.showPerson(tile, {
      track: local.video,
      audioMuted: local.audioMuted || !local.audio,
      videoMuted: local.videoMuted || !local.video,
    });
  }

  /** Put a received track where it belongs, by the consumer its m-line carries. */
  attachTrack(info, track) {
    const { stage, t } = this.ctx;
    if (info.kind === "audio") {
      setStream(stage.audioFor(info.participant_id), track);
      return;
    }
    if (!this.participants.has(info.participant_id)) {
      this.add({
        participant_id: info.participant_id, username: info.username, display_name: info.username,
        audio_muted: false, video_muted: false,
      });
    }
    if (info.source === "screen") {
      const name = this.participants.get(info.participant_id).display_name || info.username;
      const tile = stage.screen(`s:${info.producer_id}`, info.username, t("screen_of", { name }));
      tile.dataset.ownerId = info.participant_id;
      tile.dataset.producerId = info.producer_id;
      setStream(tile.querySelector("video"), track);
      return;
    }
    const tile = this.show(info.participant_id, track);
    tile.dataset.producerId = info.producer_id;
    tile.querySelector(".indicator-unsupported").hidden = true;
  }

  /** This browser cannot decode one of the videos it was offered: say so where it belongs. */
  trackUnsupported(info) {
    const { t, notices } = this.ctx;
    if (info.kind !== "video" || !this.participants.has(info.participant_id)) return;
    if (info.source === "screen") {
      const name = this.participants.get(info.participant_id).display_name;
      notices.toast(t("screen_unsupported", { name }), true);
      return;
    }
    const tile = this.show(info.participant_id);
    const note = tile.querySelector(".indicator-unsupported");
    note.textContent = t("video_unsupported");
    note.hidden = false;
  }

  trackUnpublished(producerId, participantId) {
    for (const tile of this.ctx.stage.byProducer(producerId)) {
      if (tile.dataset.testid === "screen-tile") {
        this.ctx.stage.remove(tile.dataset.key);
      } else {
        delete tile.dataset.producerId;
        this.show(participantId, null);
      }
    }
  }

  /** Forget every remote participant (reconnecting, or the call is over). */
  clear() {
    this.participants.clear();
    this.ctx.stage.clearRemote();
  }
}
