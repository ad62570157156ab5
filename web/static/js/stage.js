// The tiles of the meeting page: one per participant (camera) in the grid, one per
// shared screen in the screen area above it, and a hidden <audio> per remote participant.
//
// Tiles carry data-testid ("participant-tile" or "screen-tile"), data-participant
// (the username) and data-key (how this module finds them again).

export const LOCAL_KEY = "local";
export const OWN_SCREEN_KEY = "own-screen";

/** Show `track` in a <video> or <audio> element; nothing changes if it already does. */
export function setStream(media, track) {
  const current = media.srcObject ? media.srcObject.getTracks()[0] : null;
  if (current === track) return;
  media.srcObject = track ? new MediaStream([track]) : null;
  if (track) media.play().catch(() => {});
}

function initial(name) {
  const words = String(name || "?").trim().split(/\s+/);
  return (words[words.length - 1] || "?").charAt(0).toUpperCase();
}

export class Stage {
  /**
   * @param {{grid: HTMLElement, screens: HTMLElement, audio: HTMLElement,
   *          template: HTMLTemplateElement, labels: {micOff: string, cameraOff: string}}} parts
   */
  constructor({ grid, screens, audio, template, labels }) {
    this.grid = grid;
    this.screens = screens;
    this.audio = audio;
    this.template = template;
    this.labels = labels;
  }

  tiles() {
    return [...this.screens.children, ...this.grid.children];
  }

  find(key) {
    return this.tiles().find((tile) => tile.dataset.key === key) || null;
  }

  _make(key, username, label, testid, initialOf = label) {
    const tile = this.template.content.firstElementChild.cloneNode(true);
    tile.dataset.testid = testid;
    tile.dataset.participant = username;
    tile.dataset.key = key;
    tile.querySelector(".tile-name").textContent = label;
    tile.querySelector(".tile-avatar").textContent = initial(initialOf);
    tile.querySelector(".indicator-mic").textContent = this.labels.micOff;
    tile.querySelector(".indicator-camera").textContent = this.labels.cameraOff;
    return tile;
  }

  /** The tile of a participant (or LOCAL_KEY, always first); `name` gives the avatar
   * letter, `unit` the unit shown under the name (none when empty). */
  person(key, username, label, name = label, unit = "") {
    let tile = this.find(key);
    if (!tile) {
      tile = this._make(key, username, label, "participant-tile", name);
      if (key === LOCAL_KEY) {
        tile.classList.add("tile-local");
        this.grid.prepend(tile);
      } else {
        this.grid.append(tile);
      }
    } else {
      tile.dataset.participant = username;
      tile.querySelector(".tile-name").textContent = label;
      tile.querySelector(".tile-avatar").textContent = initial(name);
    }
    const unitLine = tile.querySelector(".tile-unit");
    if (unitLine.textContent !== unit) unitLine.textContent = unit;
    unitLine.hidden = !unit;
    return tile;
  }

  /** Highlight the tile of whoever speaks (key as for `person`), or nobody's. */
  setSpeaker(key) {
    for (const tile of this.grid.children) {
      const speaking = key !== null && tile.dataset.key === key;
      tile.classList.toggle("tile-speaking", speaking);
      tile.dataset.speaking = speaking ? "true" : "false";
    }
  }

  /** Show a camera track (or none) and the muted indicators on a participant tile. */
  showPerson(tile, { track, audioMuted, videoMuted }) {
    const video = tile.querySelector("video");
    if (track !== undefined) setStream(video, track);
    const hasVideo = Boolean(video.srcObject) && !videoMuted;
    tile.classList.toggle("has-video", hasVideo);
    tile.querySelector(".indicator-mic").hidden = !audioMuted;
    tile.querySelector(".indicator-camera").hidden = !videoMuted;
  }

  /** A shared screen, shown large above the participants. */
  screen(key, username, label) {
    let tile = this.find(key);
    if (!tile) {
      tile = this._make(key, username, label, "screen-tile");
      tile.classList.add("tile-screen", "has-video");
      for (const selector of [".indicator-mic", ".indicator-camera", ".indicator-mic-on", ".indicator-speaking"]) {
        tile.querySelector(selector).remove();
      }
      this.screens.append(tile);
    }
    this.screens.hidden = false;
    return tile;
  }

  remove(key) {
    const tile = this.find(key);
    if (!tile) return;
    tile.querySelector("video").srcObject = null;
    tile.remove();
    this.screens.hidden = this.screens.children.length === 0;
  }

  /** Tiles currently showing the track of `producerId`. */
  byProducer(producerId) {
    return this.tiles().filter((tile) => tile.dataset.producerId === producerId);
  }

  audioFor(participantId) {
    let audio = this._findAudio(participantId);
    if (!audio) {
      audio = document.createElement("audio");
      audio.autoplay = true;
      audio.dataset.participantId = participantId;
      this.audio.append(audio);
    }
    return audio;
  }

  _findAudio(participantId) {
    return [...this.audio.children].find((a) => a.dataset.participantId === participantId) || null;
  }

  /** Everything a participant who left had on the page. */
  removeParticipant(participantId) {
    for (const tile of this.tiles()) {
      if (tile.dataset.ownerId === participantId) this.remove(tile.dataset.key);
    }
    const audio = this._findAudio(participantId);
    if (audio) {
      audio.srcObject = null;
      audio.remove();
    }
  }

  /** Remove every remote tile and audio element; keep our own tiles. */
  clearRemote() {
    for (const tile of this.tiles()) {
      const key = tile.dataset.key;
      if (key !== LOCAL_KEY && key !== OWN_SCREEN_KEY) this.remove(key);
    }
    for (const audio of [...this.audio.children]) {
      audio.srcObject = null;
      audio.remove();
    }
  }
}
