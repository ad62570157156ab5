// The meeting page: it finds the page's parts and wires them together. The socket and
// media negotiation live in call.js (the wire protocol in protocol.js); the call's
// phases in meeting_session.js; this page's own media in meeting_media.js; the tiles in
// meeting_tiles.js (stage.js, tiles.js); the buttons in meeting_controls.js; notices in
// meeting_notices.js; the recording bar in meeting_bar.js; chat, the lobby, the
// participant list and the guest's name in chat.js, lobby.js, hosts.js and guest.js.

import { Call } from "./call.js";
import { ChatPanel } from "./chat.js";
import { setupGuest } from "./guest.js";
import { LobbyPanel } from "./lobby.js";
import { Chair } from "./hosts.js";
import { RecordingBar } from "./meeting_bar.js";
import { Controls } from "./meeting_controls.js";
import { StageLayout } from "./meeting_layout.js";
import { LocalMedia } from "./meeting_media.js";
import { Notices } from "./meeting_notices.js";
import { Session } from "./meeting_session.js";
import { PeopleTiles, personKey } from "./meeting_tiles.js";
import { QualityReporter, paintQuality } from "./quality.js";
import { LOCAL_KEY, OWN_SCREEN_KEY, Stage } from "./stage.js";
import { TilePager } from "./tiles.js";

const root = document.getElementById("meeting-app");
const strings = JSON.parse(document.getElementById("i18n").textContent);
const page = {
  meetingId: root.dataset.meetingId,
  username: root.dataset.username,
  displayName: root.dataset.displayName,
  unit: root.dataset.unit || "",
  wsPath: root.dataset.wsPath,
};
const $ = (id) => document.getElementById(id);
const el = {
  banner: $("banner"),
  prejoin: $("prejoin"),
  preview: $("preview-video"),
  previewPlaceholder: $("preview-placeholder"),
  cameraSelect: $("camera-select"),
  micSelect: $("mic-select"),
  deviceMessage: $("device-message"),
  joinButton: $("join-button"),
  call: $("call"),
  toolbar: $("toolbar"),
  micButton: $("mic-button"),
  cameraButton: $("camera-button"),
  screenButton: $("screen-button"),
  leaveButton: $("leave-button"),
  ended: $("ended"),
  endedHeading: $("ended-heading"),
  endedDetail: $("ended-detail"),
  rejoinButton: $("rejoin-button"),
  recordingIndicator: $("recording-indicator"),
  recordButton: $("record-button"),
  barElapsed: $("bar-elapsed"),
  barCount: $("bar-count"),
  toasts: $("toasts"),
  waiting: $("lobby-waiting"),
  waitingText: $("lobby-waiting-text"),
};

function t(key, params = {}) {
  const text = strings.text[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Every part of the page, filled in below; each module reads what it needs from it. */
const ctx = { root, el, t, page, strings, qualities: new Map() };
ctx.notices = new Notices(el, t, strings);
const toast = (text, isError = false) => ctx.notices.toast(text, isError);

ctx.stage = new Stage({
  grid: $("tile-grid"),
  screens: $("screen-area"),
  audio: $("remote-audio"),
  template: $("tile-template"),
  labels: { micOff: t("mic_off"), cameraOff: t("camera_is_off") },
});
ctx.layout = new StageLayout({ area: $("stage-area"), grid: $("tile-grid"), screens: $("screen-area") });
ctx.media = new LocalMedia(ctx);
ctx.tiles = new PeopleTiles(ctx);
const { stage, media, tiles, qualities, notices } = ctx;
const participants = tiles.participants;
const local = media.local;

/** Pages of tiles; the server forwards only the cameras of the page shown. */
const pager = new TilePager({
  grid: $("tile-grid"), pager: $("tile-pager"), prev: $("page-prev"), next: $("page-next"),
  label: $("page-label"), others: $("others-list"), items: $("others-items"), t,
  describe: (id) => {
    const info = participants.get(id);
    return info ? { name: info.display_name || info.username, audioMuted: info.audio_muted, hand: Boolean(info.hand_raised) } : null;
  },
  onVisible: (shown) => call.showTiles(shown),
});
ctx.pager = pager;
const session = new Session(ctx);

const call = new Call({
  url: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${page.wsPath}`,
  meetingId: page.meetingId,
  localTracks: () => [
    { track: local.audio, kind: "audio", source: "microphone" },
    { track: local.video, kind: "video", source: "camera" },
    { track: local.screen, kind: "video", source: "screen" },
  ].filter((entry) => entry.track),
  localMuted: () => ({ audio: local.audioMuted, video: local.videoMuted }),
  hooks: {
    onPhase: (phase, detail) => session.onPhase(phase, detail),
    onJoined: (joined) => {
      session.onJoined(joined);
      ctx.bar.count(chair.people.size);
    },
    onParticipantJoined: (p) => tiles.add(p),
    onParticipantLeft: (id) => tiles.left(id),
    onTileOrder: (message) => pager.setOrder(message, call.participantId),
    onTrack: (info, track) => tiles.attachTrack(info, track),
    onTrackUnpublished: (producerId, participantId) => tiles.trackUnpublished(producerId, participantId),
    onTrackUnsupported: (info) => tiles.trackUnsupported(info),
    onMuteChanged: (id, kind, muted) => tiles.muteChanged(id, kind, muted),
    onRecordingState: (state) => ctx.bar.show(state),
    // The server names who speaks (or null); "local" when it is this participant.
    onActiveSpeaker: (id) => stage.setSpeaker(id === null ? null : id === "local" ? LOCAL_KEY : personKey(id)),
    onQuality: (message) => {
      qualities.clear();
      for (const p of message.participants || []) qualities.set(p.participant_id, p.state);
      paintQualities();
    },
    onChat: (line) => chat.add(line),
    onChatHistory: (lines) => chat.history(lines),
    onLobby: (listing) => lobby.show(listing),
    onLockState: (state) => lobby.lockState(state),
    onGuestLink: (created) => lobby.guestLink(created),
    onMessage: (message) => {
      chair.message(message);
      ctx.bar.count(chair.people.size);
    },
    onError: (message) => toast((message.request === "chat" && chat.errorText(message)) || notices.errorText(message), true),
    onPublishRefused: (err) => toast(notices.errorText(err), true),
  },
});
ctx.call = call;

const TIME_FORMAT = new Intl.DateTimeFormat(strings.lang === "en" ? "en-GB" : "vi-VN",
  { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });
const chat = new ChatPanel({
  el: {
    button: $("chat-button"), panel: $("chat-panel"), list: $("chat-list"), form: $("chat-form"),
    input: $("chat-input"), toHosts: $("chat-to-hosts"),
  },
  t,
  send: (message) => call.sendRoom(message),
  time: (iso) => TIME_FORMAT.format(new Date(iso)),
});
const lobby = new LobbyPanel({
  el: {
    panel: $("lobby-panel"), list: $("lobby-list"), admitAll: $("lobby-admit-all"), lockButton: $("lock-button"),
    guestLinkButton: $("guest-link-button"), guestLinkBox: $("guest-link-box"), guestLinkUrl: $("guest-link-url"),
  },
  t,
  send: (message) => call.sendRoom(message),
  notify: (text) => toast(text),
});
ctx.lobby = lobby;
$("chat-close").addEventListener("click", () => chat.toggle(false));
ctx.controls = new Controls(ctx);
ctx.media.ctx.onChange = () => ctx.controls.update();
ctx.bar = new RecordingBar(ctx);
/** The participant list, hands and host controls (hosts.js). */
const chair = new Chair({
  t, call, stage, toast, lang: strings.lang,
  keys: {
    local: LOCAL_KEY, ownScreen: OWN_SCREEN_KEY, person: (id) => personKey(id),
    ownId: () => call.participantId,
  },
  local: {
    setMuted: (kind, muted, tell = false) => ctx.controls.setMuted(kind, muted, tell),
    stopScreen: () => {
      delete call.producers.screen; // the server closed it already
      media.stopShare();
    },
    hasMic: () => Boolean(local.audio),
    hasCamera: () => Boolean(local.video),
    sharing: () => Boolean(local.screen),
  },
});
ctx.chair = chair;

/** Each participant's network quality as the server judged it, by participant_id. */
const reporter = new QualityReporter(call);
ctx.reporter = reporter;

function paintQualities() {
  const keyOf = (id) => (id === call.participantId ? LOCAL_KEY : personKey(id));
  for (const [id, state] of qualities) paintQuality(stage.find(keyOf(id)), state, t);
}

window.giaoban = {
  get publishPc() { return call.publishPc; },
  get subscribePc() { return call.subscribePc; },
  get state() {
    return {
      phase: root.dataset.state,
      participantId: call.participantId,
      participants: [...participants.values()],
      producers: { ...call.producers },
      shownTiles: pager.shown(),
      quality: Object.fromEntries(qualities),
      local: { ...local },
    };
  },
  call,
};

// ---------------------------------------------------------------- start

function start() {
  if (!window.RTCPeerConnection || !window.WebSocket) {
    notices.showDeviceMessage(t("unsupported"));
    el.joinButton.disabled = true;
    return;
  }
  el.joinButton.addEventListener("click", () => session.join());
  if (root.dataset.guest) {
    setupGuest({
      root,
      el: { nameInput: $("guest-name"), unitInput: $("guest-unit"), button: $("guest-request-button") },
      t,
      showError: (text) => notices.showDeviceMessage(text),
      onReady: (guest) => {
        page.username = guest.username;
        page.displayName = guest.name;
        page.unit = guest.unit || $("guest-unit").value.trim();
        session.join();
      },
    });
  }
  el.rejoinButton.addEventListener("click", () => session.join());
  el.cameraSelect.addEventListener("change", () => media.switchDevice("video"));
  el.micSelect.addEventListener("change", () => media.switchDevice("audio"));
  window.addEventListener("pagehide", () => {
    if (call.phase === "joined") call.leave();
  });
  ctx.controls.update();
  media.ensure();
  if (root.dataset.autoJoin) autoJoin();
}

/** A room's kiosk joins by itself, leaves when its booking ends and goes back to the kiosk. */
function autoJoin() {
  session.join();
  const leaveInMs = Number(root.dataset.leaveInMs);
  const back = root.dataset.returnTo;
  if (!Number.isFinite(leaveInMs)) return;
  setTimeout(() => {
    if (call.phase === "joined") call.leave();
    if (back) location.assign(back);
  }, Math.max(0, leaveInMs));
}

start();
