// Running the meeting on the page: the participant list (every participant with their
// microphone, camera, hand and host mark), the raised-hand queue, what a host does to
// others (mute, ask to unmute, stop video, lower hands, remove, spotlight, co-hosts,
// end the meeting) and what this page does when a host acts on it. The server checks
// every control again; this only shows the buttons to those who may use them.
//
// It reads every server message (the call's onMessage hook) and changes the page
// through the few functions meeting.js hands it.

import { HandQueue } from "./hands.js";
import { TileMenu } from "./tile_menu.js";

/** The tile of a participant's camera or screen, if the page shows one. */
function tileOf(stage, keys, participantId, source) {
  if (source === "screen") {
    if (participantId === keys.ownId()) return stage.find(keys.ownScreen);
    return stage.tiles().find((tile) => tile.dataset.testid === "screen-tile"
      && tile.dataset.ownerId === participantId) || null;
  }
  return stage.find(participantId === keys.ownId() ? keys.local : keys.person(participantId));
}

function button(testid, text, onClick) {
  const item = document.createElement("button");
  item.type = "button";
  item.className = "button button-secondary";
  item.dataset.testid = testid;
  item.textContent = text;
  item.addEventListener("click", onClick);
  return item;
}

export class Chair {
  /**
   * @param {object} parts
   * @param {(key: string, params?: object) => string} parts.t
   * @param {{send: (m: object) => void}} parts.call
   * @param {object} parts.stage      the page's Stage
   * @param {object} parts.keys       {local, ownScreen, person(id), ownId()}
   * @param {(text: string, isError?: boolean) => void} parts.toast
   * @param {string} parts.lang       the page's language
   * @param {object} parts.local      {setMuted(kind, muted, tell), stopScreen(), hasMic(),
   *                                  hasCamera(), sharing()}
   */
  constructor({ t, lang, call, stage, keys, toast, local }) {
    this.t = t;
    this.call = call;
    this.stage = stage;
    this.keys = keys;
    this.toast = toast;
    this.local = local;
    this.people = new Map(); // participant_id -> ParticipantInfo as last told
    this.tracks = new Map(); // producer_id -> TrackInfo
    this.spotlight = null;
    this.host = false;
    this.owner = false;
    /** A host muted this page's microphone and has not asked to unmute yet. */
    this.held = false;
    const $ = (id) => document.getElementById(id);
    this.el = {
      panel: $("participants-panel"),
      panelButton: $("participants-button"),
      list: $("participant-list"),
      tools: $("host-tools"),
      muteAll: $("mute-all-button"),
      lowerAll: $("lower-all-button"),
      end: $("end-meeting-button"),
      request: $("unmute-request"),
      requestText: $("unmute-request-text"),
    };
    this.hands = new HandQueue({
      t, lang, list: $("hand-queue"), empty: $("hand-queue-empty"), button: $("raise-hand-button"),
      nameOf: (id) => this._name(id),
      send: (raised) => this.call.send({ type: "raise_hand", raised }),
      ownId: () => this.keys.ownId(),
    });
    this.menu = new TileMenu({ menu: $("tile-menu"), controlsFor: (id) => this._controlsOf(id) });
    this.el.panelButton.addEventListener("click", () => this.togglePanel());
    $("participants-close").addEventListener("click", () => this.togglePanel(false));
    this.el.muteAll.addEventListener("click", () => this.call.send({ type: "mute_all" }));
    this.el.lowerAll.addEventListener("click", () => this.call.send({ type: "lower_all_hands" }));
    this.el.end.addEventListener("click", () => {
      if (window.confirm(this.t("end_meeting_confirm"))) this.call.send({ type: "end_meeting" });
    });
    $("unmute-accept").addEventListener("click", () => this._answerUnmute(true));
    $("unmute-decline").addEventListener("click", () => this._answerUnmute(false));
  }

  togglePanel(open = this.el.panel.hidden) {
    this.el.panel.hidden = !open;
    this.el.panelButton.setAttribute("aria-expanded", String(open));
    this.el.panelButton.setAttribute("aria-pressed", String(open));
  }

  /** The server's `joined`: everyone in the meeting, their tracks, hands and spotlight. */
  joined(joined) {
    this.people = new Map((joined.participants || []).map((p) => [p.participant_id, { ...p }]));
    this.tracks = new Map((joined.tracks || []).map((x) => [x.producer_id, x]));
    this.host = Boolean(joined.host);
    this.owner = Boolean(joined.owner);
    this.spotlight = joined.spotlight || null;
    this.held = Boolean(joined.audio_held);
    this.hands.set(joined.hands || []);
    if (joined.mic_off_on_entry) {
      this.local.setMuted("audio", true);
      this.toast(this.t("mic_off_on_entry"));
    }
    this.render();
  }

  /** Every server message, after the page's own handling of it. */
  message(m) {
    const person = m.participant_id ? this.people.get(m.participant_id) : null;
    switch (m.type) {
      case "participant_joined":
        this.people.set(m.participant.participant_id, { ...m.participant });
        this.toast(this.t("participant_joined", { name: m.participant.display_name }));
        break;
      case "participant_left":
        if (person) this.toast(this.t("participant_left", { name: person.display_name }));
        this.people.delete(m.participant_id);
        for (const [id, x] of this.tracks) if (x.participant_id === m.participant_id) this.tracks.delete(id);
        break;
      case "track_published":
        this.tracks.set(m.track.producer_id, m.track);
        break;
      case "published":
        for (const x of m.tracks || []) this.tracks.set(x.producer_id, x);
        break;
      case "track_unpublished":
        this.tracks.delete(m.producer_id);
        break;
      case "mute_changed":
        if (person) person[m.kind === "audio" ? "audio_muted" : "video_muted"] = m.muted;
        break;
      case "host_changed":
        if (person) person.host = m.host;
        if (m.participant_id === this.keys.ownId()) {
          this.host = m.host;
          this.toast(this.t(m.host ? "you_are_cohost" : "you_are_not_cohost"));
        }
        break;
      case "hands":
        this.hands.set(m.queue || []);
        break;
      case "spotlight":
        this.spotlight = m.spotlight;
        break;
      case "host_action":
        this._hostAction(m);
        break;
      case "unmute_answered":
        this.toast(this.t(m.accepted ? "unmute_accepted" : "unmute_declined",
          { name: this._name(m.participant_id) }));
        break;
      default:
        return;
    }
    this.render();
  }

  _name(id) {
    const person = this.people.get(id);
    return person ? person.display_name || person.username : id;
  }

  _hostAction(m) {
    const name = m.by;
    if (m.action === "muted") {
      this.held = true;
      this.el.request.hidden = true;
      this.local.setMuted("audio", true);
      this.toast(this.t("muted_by_host", { name }), true);
    } else if (m.action === "camera_stopped") {
      this.local.setMuted("video", true);
      this.toast(this.t("camera_stopped_by_host", { name }), true);
    } else if (m.action === "screen_stopped") {
      this.local.stopScreen();
      this.toast(this.t("screen_stopped_by_host", { name }), true);
    } else if (m.action === "unmute_requested") {
      this.held = false;
      this.el.requestText.textContent = this.t("unmute_requested", { name });
      this.el.request.hidden = false;
    } else if (m.action === "hand_lowered") {
      this.toast(this.t("hand_lowered_by_host", { name }));
    }
  }

  _answerUnmute(accepted) {
    this.el.request.hidden = true;
    this.call.send({ type: "unmute_answer", accepted });
    if (accepted) this.local.setMuted("audio", false, false);
  }

  /** What a participant publishes: {audio, camera, screen} as booleans. */
  _published(id) {
    const sources = new Set([...this.tracks.values()].filter((x) => x.participant_id === id)
      .map((x) => x.source));
    return { audio: sources.has("microphone"), camera: sources.has("camera"), screen: sources.has("screen") };
  }

  // ------------------------------------------------------------ painting

  render() {
    this.el.tools.hidden = !this.host;
    const count = this.people.size;
    this.el.panelButton.textContent = this.t("participants_count", { count });
    this.hands.render();
    this._renderList();
    this._paintTiles();
  }

  _renderList() {
    const entries = [...this.people.values()];
    this.el.list.replaceChildren(...entries.map((p) => this._entry(p)));
  }

  /** What `person` sends and the state of their microphone and camera ("on", "off", "none"). */
  _states(person) {
    const id = person.participant_id;
    const own = id === this.keys.ownId();
    const sent = own ? { audio: this.local.hasMic(), camera: this.local.hasCamera(),
      screen: this.local.sharing() } : this._published(id);
    const mic = !sent.audio ? "none" : person.audio_muted ? "off" : "on";
    const camera = !sent.camera ? "none" : person.video_muted ? "off" : "on";
    return { own, sent, mic, camera };
  }

  /** A host's controls for participant `id` (the tile menu's), or null. */
  _controlsOf(id) {
    const person = this.people.get(id);
    if (!this.host || !person || id === this.keys.ownId()) return null;
    const { sent, mic, camera } = this._states(person);
    return this._controls(person, sent, mic, camera);
  }

  _entry(person) {
    const id = person.participant_id;
    const { own, sent, mic, camera } = this._states(person);
    const item = document.createElement("li");
    item.className = "participant-entry";
    item.dataset.testid = "participant-entry";
    item.dataset.participantId = id;
    item.dataset.username = person.username;
    const line = document.createElement("div");
    line.className = "entry-line";
    const name = document.createElement("span");
    name.className = "entry-name";
    name.textContent = own ? this.t("you", { name: person.display_name }) : person.display_name;
    if (person.unit) {
      const unit = document.createElement("span");
      unit.className = "entry-unit";
      unit.dataset.testid = "entry-unit";
      unit.textContent = person.unit;
      name.append(unit);
    }
    line.append(name);
    const state = (testid, value, text) => {
      const badge = document.createElement("span");
      badge.className = "entry-state";
      badge.dataset.testid = testid;
      badge.dataset.state = value;
      badge.textContent = text;
      line.append(badge);
    };
    if (person.host) state("host-mark", "host", this.t("host"));
    state("entry-mic", mic, this.t(`entry_mic_${mic}`));
    state("entry-camera", camera, this.t(`entry_camera_${camera}`));
    if (this.hands.raised(id)) state("entry-hand", "raised", this.t("hand_raised"));
    item.append(line);
    if (this.host && !own) item.append(this._controls(person, sent, mic, camera));
    return item;
  }

  _controls(person, sent, mic, camera) {
    const id = person.participant_id;
    const send = (message) => this.call.send({ ...message, participant_id: id });
    const tools = document.createElement("div");
    tools.className = "entry-controls";
    if (mic === "on") {
      tools.append(button("mute-participant", this.t("mute_participant"), () => send({ type: "mute_participant" })));
    } else if (mic === "off") {
      tools.append(button("ask-unmute-participant", this.t("ask_unmute"), () => send({ type: "ask_unmute" })));
    }
    if (camera === "on") {
      tools.append(button("stop-video-participant", this.t("stop_video"), () => send({ type: "stop_video", source: "camera" })));
    }
    if (sent.screen) {
      tools.append(button("stop-screen-participant", this.t("stop_screen"), () => send({ type: "stop_video", source: "screen" })));
    }
    if (this.hands.raised(id)) {
      tools.append(button("lower-hand-participant", this.t("lower_hand"), () => send({ type: "lower_hand" })));
    }
    const spotted = this.spotlight && this.spotlight.participant_id === id;
    tools.append(spotted
      ? button("spotlight-participant", this.t("spotlight_release"), () => this.call.send({ type: "spotlight", participant_id: null }))
      : button("spotlight-participant", this.t("spotlight"), () => send({ type: "spotlight", source: sent.screen ? "screen" : "camera" })));
    if (this.owner && !person.host) {
      tools.append(button("make-cohost", this.t("make_cohost"), () => send({ type: "make_cohost", cohost: true })));
    }
    if (!person.host) {
      tools.append(button("remove-participant", this.t("remove_participant"), () => {
        if (window.confirm(this.t("remove_confirm", { name: person.display_name }))) send({ type: "remove_participant" });
      }));
    }
    return tools;
  }

  /** Host badge, hand and "no microphone" on every tile; the spotlight tile large. */
  _paintTiles() {
    for (const tile of this.stage.tiles()) {
      tile.classList.remove("tile-spotlight");
      tile.dataset.spotlight = "false";
    }
    for (const [id, person] of this.people) {
      const tile = tileOf(this.stage, this.keys, id, "camera");
      if (!tile) continue;
      const own = id === this.keys.ownId();
      const show = (selector, visible) => {
        const badge = tile.querySelector(selector);
        if (badge) badge.hidden = !visible;
      };
      show(".indicator-host", Boolean(person.host));
      show(".indicator-hand", this.hands.raised(id));
      const noMic = own ? !this.local.hasMic() : !this._published(id).audio;
      show(".indicator-no-mic", noMic);
      if (noMic) show(".indicator-mic", false);
      this.menu.paint(tile, id, this.host && !own);
    }
    if (this.spotlight) {
      const tile = tileOf(this.stage, this.keys, this.spotlight.participant_id, this.spotlight.source);
      if (tile) {
        tile.classList.add("tile-spotlight");
        tile.dataset.spotlight = "true";
      }
    }
  }
}
