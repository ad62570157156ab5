// The meeting page: device preview, the call's tiles and buttons, leaving and rejoining.
// Connection logic lives in call.js, the wire protocol in protocol.js; chat, the lobby
// and the guest's name in chat.js, lobby.js and guest.js.

import { Call } from "./call.js";
import { ChatPanel } from "./chat.js";
import { setupGuest } from "./guest.js";
import { LobbyPanel } from "./lobby.js";
import { Chair } from "./hosts.js";
import {
  fillDeviceSelect, listDevices, mediaSupported, openTrack, screenShareSupported,
} from "./devices.js";
import { QualityReporter, paintQuality } from "./quality.js";
import { mediaUnavailableText } from "./secure_context.js";
import { LOCAL_KEY, OWN_SCREEN_KEY, Stage, setStream } from "./stage.js";
import { TilePager } from "./tiles.js";

const TOAST_MS = 7000;
const SIGN_IN_AGAIN = new Set(["unauthorized", "session_expired"]);

const root = document.getElementById("meeting-app");
const strings = JSON.parse(document.getElementById("i18n").textContent);
const page = {
  meetingId: root.dataset.meetingId,
  username: root.dataset.username,
  displayName: root.dataset.displayName,
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
  toasts: $("toasts"),
  waiting: $("lobby-waiting"),
  waitingText: $("lobby-waiting-text"),
};

function t(key, params = {}) {
  const text = strings.text[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const stage = new Stage({
  grid: $("tile-grid"),
  screens: $("screen-area"),
  audio: $("remote-audio"),
  template: $("tile-template"),
  labels: { micOff: t("mic_off"), cameraOff: t("camera_is_off") },
});

/** Pages of tiles; the server forwards only the cameras of the page shown. */
const pager = new TilePager({
  grid: $("tile-grid"), pager: $("tile-pager"), prev: $("page-prev"), next: $("page-next"),
  label: $("page-label"), others: $("others-list"), items: $("others-items"), t,
  describe: (id) => {
    const info = participants.get(id);
    return info ? { name: info.display_name || info.username, audioMuted: info.audio_muted, hand: Boolean(info.hand_raised) } : null;
  },
  onVisible: (tiles) => call.showTiles(tiles),
});

/** Our own media; the call publishes whatever is here when it (re)joins. */
const local = { audio: null, video: null, screen: null, audioMuted: false, videoMuted: false };
/** Remote participants by participant_id: ParticipantInfo as the server sent it. */
const participants = new Map();

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
    onPhase,
    onJoined,
    onParticipantJoined: (p) => addParticipant(p),
    onParticipantLeft: (id) => {
      participants.delete(id);
      stage.remove(personKey(id));
      stage.removeParticipant(id);
      pager.refresh();
    },
    onTileOrder: (message) => pager.setOrder(message, call.participantId),
    onTrack: attachTrack,
    onTrackUnpublished,
    onTrackUnsupported,
    onMuteChanged: (id, kind, muted) => {
      const info = participants.get(id);
      if (!info) return;
      info[kind === "audio" ? "audio_muted" : "video_muted"] = muted;
      showParticipant(id);
      pager.refresh();
    },
    onRecordingState: showRecording,
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
    onMessage: (message) => chair.message(message),
    onError: (message) => toast((message.request === "chat" && chat.errorText(message)) || errorText(message), true),
    onPublishRefused: (err) => toast(errorText(err), true),
  },
});

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
/** The participant list, hands and host controls (hosts.js). */
const chair = new Chair({
  t, call, stage, toast, lang: strings.lang,
  keys: {
    local: LOCAL_KEY, ownScreen: OWN_SCREEN_KEY, person: (id) => personKey(id),
    ownId: () => call.participantId,
  },
  local: {
    setMuted: (kind, muted, tell = false) => setLocalMuted(kind, muted, tell),
    stopScreen: () => {
      delete call.producers.screen; // the server closed it already
      stopShare();
    },
    hasMic: () => Boolean(local.audio),
    hasCamera: () => Boolean(local.video),
    sharing: () => Boolean(local.screen),
  },
});

/** Each participant's network quality as the server judged it, by participant_id. */
const qualities = new Map();
const reporter = new QualityReporter(call);

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

// ---------------------------------------------------------------- recording

let recording = false;

/** The recording indicator everyone sees, and the button for those who may use it. */
function showRecording(state) {
  const was = recording;
  recording = Boolean(state.recording);
  el.recordingIndicator.hidden = !recording;
  el.recordingIndicator.dataset.reason = state.reason || "";
  el.recordButton.hidden = !state.can_control;
  el.recordButton.setAttribute("aria-pressed", String(recording));
  el.recordButton.textContent = recording ? t("record_stop") : t("record_start");
  if (was && !recording && state.reason && state.reason !== "stopped") toast(t(`recording_${state.reason}`), true);
  else if (!recording && state.reason === "refused_low_disk") toast(t("recording_refused_low_disk"), true);
}

el.recordButton.addEventListener("click", () => call.setRecording(!recording));

// ---------------------------------------------------------------- messages

function showBanner(text) {
  el.banner.textContent = text;
  el.banner.hidden = false;
}

function hideBanner() {
  el.banner.hidden = true;
  el.banner.textContent = "";
}

function toast(text, isError = false) {
  const item = document.createElement("div");
  item.className = isError ? "toast toast-error" : "toast";
  item.setAttribute("role", isError ? "alert" : "status");
  item.dataset.testid = "toast";
  const body = document.createElement("span");
  body.className = "toast-text";
  body.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.textContent = "×";
  close.setAttribute("aria-label", t("dismiss"));
  close.addEventListener("click", () => item.remove());
  item.append(body, close);
  el.toasts.append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}

/** A server error in the page's language: the translated title, English detail in English. */
function errorText(error) {
  const title = strings.errors[error.code] || error.title || t("join_failed");
  if (strings.lang === "en" && error.detail && error.detail !== title) return `${title}: ${error.detail}`;
  return title;
}

/** Why the call is reconnecting, in the page's language. */
function reconnectReason(code) {
  const key = `reconnect_reason_${code}`;
  return key in strings.text ? strings.text[key] : t("reconnect_reason_connection_lost");
}

function showDeviceMessage(text) {
  el.deviceMessage.textContent = text;
  el.deviceMessage.hidden = false;
}

// ---------------------------------------------------------------- call phases

function onPhase(phase, detail) {
  const previous = root.dataset.state;
  root.dataset.state = phase;
  el.waiting.hidden = phase !== "waiting";
  if (phase === "joining") {
    showBanner(t("joining"));
  } else if (phase === "waiting") {
    hideBanner();
    el.call.hidden = true;
    el.waitingText.textContent = detail && detail.reason === "locked" ? t("waiting_locked") : t("waiting_guest");
  } else if (phase === "reconnecting") {
    reporter.stop();
    qualities.clear();
    participants.clear();
    stage.clearRemote();
    showBanner(t("reconnecting_because", {
      reason: reconnectReason(detail.code), seconds: Math.round(detail.delayMs / 1000),
    }));
  } else if (phase === "joined") {
    hideBanner();
    el.call.hidden = false;
    reporter.start();
    if (previous === "reconnecting") toast(t("reconnected"));
  } else if (phase === "ended" && detail && SIGN_IN_AGAIN.has(detail.code)) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  } else if (phase === "left" || phase === "ended") {
    reporter.stop();
    qualities.clear();
    showEnded(phase, phase === "ended" && detail ? errorText(detail) : "");
    // Removed, or the meeting ended by a host: joining again is refused (a host reopens it).
    const code = phase === "ended" && detail ? detail.code : "";
    el.rejoinButton.hidden = code === "removed" || (code === "meeting_ended" && !chair.host);
  }
}

function onJoined(joined) {
  participants.clear();
  stage.clearRemote();
  pager.clear();
  for (const p of joined.participants || []) {
    if (p.participant_id !== joined.participant_id) addParticipant(p);
  }
  const own = stage.find(LOCAL_KEY);
  if (own) own.dataset.participantId = joined.participant_id;
  chair.joined(joined);
  if (root.dataset.state === "reconnecting") showBanner(t("reconnecting_now"));
}

function showCall() {
  el.prejoin.hidden = true;
  el.ended.hidden = true;
  el.call.hidden = false;
  el.preview.srcObject = null;
  showLocal();
  updateButtons();
}

function showEnded(phase, detail) {
  el.recordingIndicator.hidden = true;
  lobby.reset();
  el.prejoin.hidden = true;
  participants.clear();
  stage.clearRemote();
  stopLocalMedia();
  stage.remove(OWN_SCREEN_KEY);
  stage.remove(LOCAL_KEY);
  hideBanner();
  el.call.hidden = true;
  el.endedHeading.textContent = phase === "left" ? t("left") : t("ended");
  el.endedDetail.textContent = detail;
  el.endedDetail.hidden = !detail;
  el.ended.hidden = false;
  el.rejoinButton.disabled = false;
  el.rejoinButton.focus();
}

async function join() {
  el.joinButton.disabled = true;
  el.rejoinButton.disabled = true;
  if (mediaOpening) await mediaOpening;
  if (!local.audio && !local.video) await ensureLocalMedia();
  showCall();
  call.start();
  el.joinButton.disabled = false;
}

// ---------------------------------------------------------------- tiles

function personKey(participantId) {
  return `p:${participantId}`;
}

function addParticipant(info) {
  participants.set(info.participant_id, { ...info });
  showParticipant(info.participant_id);
  pager.refresh();
}

function showParticipant(participantId, track) {
  const info = participants.get(participantId);
  if (!info) return;
  const tile = stage.person(personKey(participantId), info.username,
    info.display_name || info.username);
  tile.dataset.ownerId = participantId;
  stage.showPerson(tile, { track, audioMuted: info.audio_muted, videoMuted: info.video_muted });
  paintQuality(tile, qualities.get(participantId), t);
  return tile;
}

function showLocal() {
  const tile = stage.person(LOCAL_KEY, page.username, t("you", { name: page.displayName }),
    page.displayName);
  stage.showPerson(tile, {
    track: local.video,
    audioMuted: local.audioMuted || !local.audio,
    videoMuted: local.videoMuted || !local.video,
  });
}

/** Put a received track where it belongs, by the consumer its m-line carries. */
function attachTrack(info, track) {
  if (info.kind === "audio") {
    setStream(stage.audioFor(info.participant_id), track);
    return;
  }
  if (!participants.has(info.participant_id)) {
    addParticipant({
      participant_id: info.participant_id, username: info.username, display_name: info.username,
      audio_muted: false, video_muted: false,
    });
  }
  if (info.source === "screen") {
    const name = participants.get(info.participant_id).display_name || info.username;
    const tile = stage.screen(`s:${info.producer_id}`, info.username, t("screen_of", { name }));
    tile.dataset.ownerId = info.participant_id;
    tile.dataset.producerId = info.producer_id;
    setStream(tile.querySelector("video"), track);
    return;
  }
  const tile = showParticipant(info.participant_id, track);
  tile.dataset.producerId = info.producer_id;
  tile.querySelector(".indicator-unsupported").hidden = true;
}

/** This browser cannot decode one of the videos it was offered: say so where it belongs. */
function onTrackUnsupported(info) {
  if (info.kind !== "video" || !participants.has(info.participant_id)) return;
  if (info.source === "screen") {
    const name = participants.get(info.participant_id).display_name;
    toast(t("screen_unsupported", { name }), true);
    return;
  }
  const tile = showParticipant(info.participant_id);
  const note = tile.querySelector(".indicator-unsupported");
  note.textContent = t("video_unsupported");
  note.hidden = false;
}

function onTrackUnpublished(producerId, participantId) {
  for (const tile of stage.byProducer(producerId)) {
    if (tile.dataset.testid === "screen-tile") {
      stage.remove(tile.dataset.key);
    } else {
      delete tile.dataset.producerId;
      showParticipant(participantId, null);
    }
  }
}

// ---------------------------------------------------------------- local media

let mediaOpening = null;

/** Open the camera and the microphone once, even when asked twice at the same time. */
function ensureLocalMedia() {
  if (!mediaOpening) mediaOpening = openLocalMedia().finally(() => { mediaOpening = null; });
  return mediaOpening;
}

/** Open the camera and the microphone (each one optional) and show the preview. */
async function openLocalMedia() {
  if (!mediaSupported()) {
    showDeviceMessage(mediaUnavailableText(t));
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
    showDeviceMessage(denied ? t("media_denied") : t("media_missing"));
  } else {
    el.deviceMessage.hidden = true;
  }
  applyMuted();
  showPreview();
  const { cameras, microphones } = await listDevices();
  fillDeviceSelect(el.cameraSelect, cameras, local.video, (n) => t("camera_n", { n }), t("no_camera"));
  fillDeviceSelect(el.micSelect, microphones, local.audio, (n) => t("mic_n", { n }), t("no_microphone"));
}

function stopLocalMedia() {
  for (const kind of ["audio", "video", "screen"]) {
    if (local[kind]) local[kind].stop();
    local[kind] = null;
  }
}

function applyMuted() {
  if (local.audio) local.audio.enabled = !local.audioMuted;
  if (local.video) local.video.enabled = !local.videoMuted;
}

function showPreview() {
  setStream(el.preview, local.video);
  el.previewPlaceholder.hidden = Boolean(local.video);
}

/** Another device was chosen in the preview: swap that track. */
async function switchDevice(kind) {
  const select = kind === "video" ? el.cameraSelect : el.micSelect;
  let track;
  try {
    track = await openTrack(kind, select.value);
  } catch {
    showDeviceMessage(t("media_missing"));
    return;
  }
  const old = local[kind];
  local[kind] = track;
  applyMuted();
  await call.replaceTrack(old, track);
  if (old) old.stop();
  showPreview();
}

// ---------------------------------------------------------------- buttons

function updateButtons() {
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

function toggleMute(kind) {
  const key = kind === "audio" ? "audioMuted" : "videoMuted";
  if (kind === "audio" && local.audioMuted && chair.held) {
    toast(t("muted_by_host_wait"), true); // a host muted us: only their request unmutes
    return;
  }
  setLocalMuted(kind, !local[key], true);
}

/** Mute or unmute our own microphone or camera; `tell` the others unless the server did. */
function setLocalMuted(kind, muted, tell) {
  local[kind === "audio" ? "audioMuted" : "videoMuted"] = muted;
  applyMuted();
  if (tell) call.setMuted(kind, muted);
  updateButtons();
  showLocal();
}

async function startShare() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15 } }, audio: false,
    });
  } catch (err) {
    if (err && err.name !== "NotAllowedError" && err.name !== "AbortError") toast(t("share_failed"), true);
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track) return;
  if ("contentHint" in track) track.contentHint = "detail";
  track.addEventListener("ended", () => stopShare());
  local.screen = track;
  const tile = stage.screen(OWN_SCREEN_KEY, page.username, t("screen_of", { name: page.displayName }));
  setStream(tile.querySelector("video"), track);
  updateButtons();
  try {
    await call.publishScreen(track);
  } catch (err) {
    console.error("publishing the screen failed", err);
    if (local.screen === track) toast(t("share_failed"), true);
  }
}

function stopShare() {
  const track = local.screen;
  if (!track) return;
  local.screen = null;
  call.unpublishScreen();
  track.stop();
  stage.remove(OWN_SCREEN_KEY);
  updateButtons();
}

// ---------------------------------------------------------------- start

function start() {
  if (!window.RTCPeerConnection || !window.WebSocket) {
    showDeviceMessage(t("unsupported"));
    el.joinButton.disabled = true;
    return;
  }
  el.joinButton.addEventListener("click", () => join());
  if (root.dataset.guest) {
    setupGuest({
      root,
      el: { nameInput: $("guest-name"), unitInput: $("guest-unit"), button: $("guest-request-button") },
      t,
      showError: showDeviceMessage,
      onReady: (guest) => {
        page.username = guest.username;
        page.displayName = guest.name;
        join();
      },
    });
  }
  el.rejoinButton.addEventListener("click", () => join());
  el.leaveButton.addEventListener("click", () => call.leave());
  el.micButton.addEventListener("click", () => toggleMute("audio"));
  el.cameraButton.addEventListener("click", () => toggleMute("video"));
  el.screenButton.addEventListener("click", () => (local.screen ? stopShare() : startShare()));
  el.cameraSelect.addEventListener("change", () => switchDevice("video"));
  el.micSelect.addEventListener("change", () => switchDevice("audio"));
  window.addEventListener("pagehide", () => {
    if (call.phase === "joined") call.leave();
  });
  updateButtons();
  ensureLocalMedia();
  if (root.dataset.autoJoin) autoJoin();
}

/** A room's kiosk joins by itself, leaves when its booking ends and goes back to the kiosk. */
function autoJoin() {
  join();
  const leaveInMs = Number(root.dataset.leaveInMs);
  const back = root.dataset.returnTo;
  if (!Number.isFinite(leaveInMs)) return;
  setTimeout(() => {
    if (call.phase === "joined") call.leave();
    if (back) location.assign(back);
  }, Math.max(0, leaveInMs));
}

start();
