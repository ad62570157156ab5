// The meeting page: device preview, joining, publishing, subscribing, rejoining.
//
// Two RTCPeerConnections per join: the publish one (the browser offers its own
// tracks) and the subscribe one (the server offers everyone else's tracks).

import { SignalingClient } from "./protocol.js";

const GATHER_TIMEOUT_MS = 2000;
const BACKOFF_MAX_MS = 10000;
const TOAST_MS = 7000;

const root = document.getElementById("meeting-app");
const strings = JSON.parse(document.getElementById("i18n").textContent);
const page = {
  meetingId: root.dataset.meetingId,
  title: root.dataset.title,
  username: root.dataset.username,
  displayName: root.dataset.displayName,
  wsPath: root.dataset.wsPath,
};

const el = {
  banner: document.getElementById("banner"),
  prejoin: document.getElementById("prejoin"),
  preview: document.getElementById("preview-video"),
  previewPlaceholder: document.getElementById("preview-placeholder"),
  cameraSelect: document.getElementById("camera-select"),
  micSelect: document.getElementById("mic-select"),
  deviceMessage: document.getElementById("device-message"),
  joinButton: document.getElementById("join-button"),
  call: document.getElementById("call"),
  grid: document.getElementById("tile-grid"),
  audio: document.getElementById("remote-audio"),
  micButton: document.getElementById("mic-button"),
  cameraButton: document.getElementById("camera-button"),
  screenButton: document.getElementById("screen-button"),
  leaveButton: document.getElementById("leave-button"),
  ended: document.getElementById("ended"),
  endedHeading: document.getElementById("ended-heading"),
  endedDetail: document.getElementById("ended-detail"),
  rejoinButton: document.getElementById("rejoin-button"),
  toasts: document.getElementById("toasts"),
  tileTemplate: document.getElementById("tile-template"),
};

/** Everything that changes while the page lives; browser tests read it too. */
const state = {
  phase: "preview", // preview | joining | joined | reconnecting | left | ended
  generation: 0, // bumped on every (re)connection; stale callbacks compare and give up
  attempt: 0,
  reconnectTimer: 0,
  client: null,
  publishPc: null,
  subscribePc: null,
  publishChain: Promise.resolve(),
  offerChain: Promise.resolve(),
  participantId: null,
  iceServers: [],
  local: { audio: null, video: null, screen: null, audioMuted: false, videoMuted: false },
  screenTransceiver: null,
  producers: {}, // own producer id by source
  participants: new Map(), // participant_id -> ParticipantInfo
  consumers: new Map(), // subscribe mid -> ConsumerInfo of the latest offer
};

window.giaoban = {
  get publishPc() { return state.publishPc; },
  get subscribePc() { return state.subscribePc; },
  get state() { return state; },
};

// ---------------------------------------------------------------- small helpers

function t(key, params = {}) {
  const text = strings.text[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function setPhase(phase) {
  state.phase = phase;
  root.dataset.state = phase;
}

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

function errorText(error) {
  const title = strings.errors[error.code] || error.title || t("join_failed");
  if (strings.lang === "en" && error.detail && error.detail !== title) return `${title}: ${error.detail}`;
  return title;
}

function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${page.wsPath}`;
}

function waitForGathering(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function setStream(video, track) {
  const current = video.srcObject ? video.srcObject.getTracks()[0] : null;
  if (current === track) return;
  video.srcObject = track ? new MediaStream([track]) : null;
  if (track) video.play().catch(() => {});
}

// ---------------------------------------------------------------- local media

function mediaConstraints(kind, deviceId) {
  if (kind === "video") {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    if (deviceId) video.deviceId = { exact: deviceId };
    return { video };
  }
  return { audio: deviceId ? { deviceId: { exact: deviceId } } : true };
}

async function getTrack(kind, deviceId) {
  const stream = await navigator.mediaDevices.getUserMedia(mediaConstraints(kind, deviceId));
  return kind === "video" ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
}

/** Open the camera and the microphone (each optional) and show the preview. */
async function acquireMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showDeviceMessage(t("unsupported"));
    return;
  }
  const failures = [];
  for (const kind of ["audio", "video"]) {
    if (state.local[kind]) continue;
    const select = kind === "video" ? el.cameraSelect : el.micSelect;
    try {
      state.local[kind] = await getTrack(kind, select.value);
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length === 2) {
    const denied = failures.some((e) => e.name === "NotAllowedError" || e.name === "SecurityError");
    showDeviceMessage(denied ? t("media_denied") : t("media_missing"));
  } else if (failures.length === 0) {
    el.deviceMessage.hidden = true;
  }
  applyTrackState();
  updatePreview();
  await fillDeviceLists();
}

function stopLocalMedia() {
  for (const kind of ["audio", "video", "screen"]) {
    if (state.local[kind]) state.local[kind].stop();
    state.local[kind] = null;
  }
}

function applyTrackState() {
  if (state.local.audio) state.local.audio.enabled = !state.local.audioMuted;
  if (state.local.video) state.local.video.enabled = !state.local.videoMuted;
}

function showDeviceMessage(text) {
  el.deviceMessage.textContent = text;
  el.deviceMessage.hidden = false;
}

function updatePreview() {
  setStream(el.preview, state.local.video);
  el.previewPlaceholder.hidden = Boolean(state.local.video) && !state.local.videoMuted;
}

async function fillDeviceLists() {
  if (!navigator.mediaDevices.enumerateDevices) return;
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  fillSelect(el.cameraSelect, devices.filter((d) => d.kind === "videoinput"), state.local.video,
    "camera_n", "no_camera");
  fillSelect(el.micSelect, devices.filter((d) => d.kind === "audioinput"), state.local.audio,
    "mic_n", "no_microphone");
}

function fillSelect(select, devices, track, labelKey, noneKey) {
  const current = track ? track.getSettings().deviceId : select.value;
  select.replaceChildren();
  if (!devices.length) {
    select.append(new Option(t(noneKey), ""));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  devices.forEach((device, i) => {
    const option = new Option(device.label || t(labelKey, { n: i + 1 }), device.deviceId);
    option.selected = device.deviceId === current;
    select.append(option);
  });
}

/** A device was chosen in the preview: swap that track (also on a live publish PC). */
async function switchDevice(kind) {
  const select = kind === "video" ? el.cameraSelect : el.micSelect;
  let track;
  try {
    track = await getTrack(kind, select.value);
  } catch {
    toast(t("media_missing"), true);
    return;
  }
  const old = state.local[kind];
  state.local[kind] = track;
  applyTrackState();
  if (state.publishPc) {
    for (const sender of state.publishPc.getSenders()) {
      if (old && sender.track === old) await sender.replaceTrack(track);
    }
  }
  if (old) old.stop();
  updatePreview();
  updateLocalTile();
}

// ---------------------------------------------------------------- tiles

function initials(name) {
  const words = String(name || "?").trim().split(/\s+/);
  const last = words[words.length - 1] || "?";
  return last.charAt(0).toUpperCase();
}

function makeTile(key, username, label, testid) {
  const tile = el.tileTemplate.content.firstElementChild.cloneNode(true);
  tile.dataset.testid = testid;
  tile.dataset.participant = username;
  tile.dataset.key = key;
  tile.querySelector(".tile-name").textContent = label;
  tile.querySelector(".tile-avatar").textContent = initials(label);
  tile.querySelector(".indicator-mic").textContent = t("mic_off");
  tile.querySelector(".indicator-camera").textContent = t("camera_is_off");
  return tile;
}

function findTile(key) {
  for (const tile of el.grid.children) {
    if (tile.dataset.key === key) return tile;
  }
  return null;
}

function localTile() {
  let tile = findTile("local");
  if (!tile) {
    tile = makeTile("local", page.username, t("you", { name: page.displayName }), "participant-tile");
    tile.classList.add("tile-local");
    el.grid.prepend(tile);
  }
  return tile;
}

function updateLocalTile() {
  const tile = localTile();
  const video = tile.querySelector("video");
  setStream(video, state.local.video);
  tile.classList.toggle("has-video", Boolean(state.local.video) && !state.local.videoMuted);
  tile.querySelector(".indicator-mic").hidden = !(state.local.audioMuted || !state.local.audio);
  tile.querySelector(".indicator-camera").hidden = !(state.local.videoMuted || !state.local.video);
}

function participantTile(participantId) {
  let tile = findTile(`p:${participantId}`);
  if (!tile) {
    const info = state.participants.get(participantId);
    const username = info ? info.username : "";
    const name = info ? info.display_name || info.username : "";
    tile = makeTile(`p:${participantId}`, username, name, "participant-tile");
    tile.dataset.participantId = participantId;
    const firstScreen = el.grid.querySelector(".tile-screen");
    el.grid.insertBefore(tile, firstScreen);
  }
  return tile;
}

function updateParticipantTile(participantId) {
  const info = state.participants.get(participantId);
  if (!info) return;
  const tile = participantTile(participantId);
  const video = tile.querySelector("video");
  const hasTrack = Boolean(video.srcObject);
  tile.classList.toggle("has-video", hasTrack && !info.video_muted);
  tile.querySelector(".indicator-mic").hidden = !info.audio_muted;
  tile.querySelector(".indicator-camera").hidden = !info.video_muted;
}

function screenTile(key, username, name) {
  let tile = findTile(key);
  if (!tile) {
    tile = makeTile(key, username, t("screen_of", { name }), "screen-tile");
    tile.classList.add("tile-screen", "has-video");
    tile.querySelector(".indicator-mic").remove();
    tile.querySelector(".indicator-camera").remove();
    el.grid.prepend(tile);
  }
  return tile;
}

function removeTile(key) {
  const tile = findTile(key);
  if (!tile) return;
  const video = tile.querySelector("video");
  if (video) video.srcObject = null;
  tile.remove();
}

function audioElement(participantId) {
  let audio = el.audio.querySelector(`audio[data-participant-id="${CSS.escape(participantId)}"]`);
  if (!audio) {
    audio = document.createElement("audio");
    audio.autoplay = true;
    audio.dataset.participantId = participantId;
    el.audio.append(audio);
  }
  return audio;
}

function removeParticipantMedia(participantId) {
  removeTile(`p:${participantId}`);
  for (const tile of [...el.grid.children]) {
    if (tile.dataset.ownerId === participantId) removeTile(tile.dataset.key);
  }
  const audio = el.audio.querySelector(`audio[data-participant-id="${CSS.escape(participantId)}"]`);
  if (audio) {
    audio.srcObject = null;
    audio.remove();
  }
}

function clearRemoteMedia() {
  for (const tile of [...el.grid.children]) {
    if (tile.dataset.key !== "local" && tile.dataset.key !== "own-screen") removeTile(tile.dataset.key);
  }
  for (const audio of [...el.audio.children]) {
    audio.srcObject = null;
    audio.remove();
  }
}

// ---------------------------------------------------------------- subscribing

function displayNameOf(participantId, fallback) {
  const info = state.participants.get(participantId);
  return info ? info.display_name || info.username : fallback;
}

/** Put a received track where it belongs, by the consumer its m-line carries. */
function attachTrack(info, track) {
  if (!info || !track) return;
  if (info.kind === "audio") {
    setStream(audioElement(info.participant_id), track);
    return;
  }
  if (info.source === "screen") {
    const tile = screenTile(`s:${info.producer_id}`, info.username,
      displayNameOf(info.participant_id, info.username));
    tile.dataset.ownerId = info.participant_id;
    tile.dataset.producerId = info.producer_id;
    setStream(tile.querySelector("video"), track);
    return;
  }
  if (!state.participants.has(info.participant_id)) {
    state.participants.set(info.participant_id, {
      participant_id: info.participant_id, username: info.username, display_name: info.username,
      audio_muted: false, video_muted: false,
    });
  }
  const tile = participantTile(info.participant_id);
  tile.dataset.producerId = info.producer_id;
  setStream(tile.querySelector("video"), track);
  updateParticipantTile(info.participant_id);
}

function attachAllConsumers(pc) {
  for (const transceiver of pc.getTransceivers()) {
    const info = state.consumers.get(transceiver.mid);
    const direction = transceiver.currentDirection;
    if (info && (direction === "recvonly" || direction === "sendrecv")) {
      attachTrack(info, transceiver.receiver.track);
    }
  }
}

function subscribePc(gen) {
  if (state.subscribePc) return state.subscribePc;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
  pc.answerSent = false;
  pc.ontrack = (event) => attachTrack(state.consumers.get(event.transceiver.mid), event.track);
  pc.onicecandidate = (event) => {
    if (pc.answerSent && gen === state.generation) state.client.ice("subscribe", event.candidate);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed" && gen === state.generation) connectionLost();
  };
  state.subscribePc = pc;
  return pc;
}

async function handleOffer(gen, message) {
  if (gen !== state.generation) return;
  const pc = subscribePc(gen);
  state.consumers = new Map(message.consumers.map((c) => [String(c.mid), c]));
  await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await waitForGathering(pc);
  if (gen !== state.generation) return;
  state.client.answer(pc.localDescription.sdp);
  pc.answerSent = true;
  attachAllConsumers(pc);
}

// ---------------------------------------------------------------- publishing

function publishPc(gen) {
  if (state.publishPc) return state.publishPc;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
  pc.offerSent = false;
  pc.onicecandidate = (event) => {
    if (pc.offerSent && gen === state.generation) state.client.ice("publish", event.candidate);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed" && gen === state.generation) connectionLost();
  };
  state.publishPc = pc;
  return pc;
}

/** One offer/answer round on the publish PC for newly added transceivers. */
async function negotiatePublish(gen, entries) {
  const pc = state.publishPc;
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await waitForGathering(pc);
  if (gen !== state.generation) return;
  const tracks = entries.map((e) => ({ mid: e.transceiver.mid, kind: e.kind, source: e.source }));
  const sdp = pc.localDescription.sdp;
  pc.offerSent = true;
  const published = await state.client.publish(sdp, tracks);
  if (gen !== state.generation) return;
  await pc.setRemoteDescription({ type: "answer", sdp: published.sdp });
  rememberOwnTracks(published.tracks || []);
}

function rememberOwnTracks(tracks) {
  for (const track of tracks) {
    if (track.participant_id === state.participantId) state.producers[track.source] = track.producer_id;
  }
}

function publishTracks(gen, wanted) {
  const run = async () => {
    if (gen !== state.generation) return;
    const pc = publishPc(gen);
    const entries = [];
    for (const { track, kind, source } of wanted) {
      if (!track || track.readyState === "ended") continue;
      const transceiver = pc.addTransceiver(track, { direction: "sendonly" });
      if (source === "screen") state.screenTransceiver = transceiver;
      entries.push({ transceiver, kind, source });
    }
    if (entries.length) await negotiatePublish(gen, entries);
  };
  state.publishChain = state.publishChain.then(run, run);
  return state.publishChain;
}

function ownTracks() {
  return [
    { track: state.local.audio, kind: "audio", source: "microphone" },
    { track: state.local.video, kind: "video", source: "camera" },
    { track: state.local.screen, kind: "video", source: "screen" },
  ].filter((entry) => entry.track);
}

// ---------------------------------------------------------------- joining

async function connect() {
  const gen = ++state.generation;
  const client = new SignalingClient(wsUrl());
  state.client = client;
  state.offerChain = Promise.resolve();
  state.publishChain = Promise.resolve();
  client.on("offer", (m) => {
    state.offerChain = state.offerChain.then(() => handleOffer(gen, m)).catch((err) => {
      console.error("subscribe offer failed", err);
      if (gen === state.generation) connectionLost();
    });
  });
  client.on("participant_joined", (m) => onParticipantJoined(m.participant));
  client.on("participant_left", (m) => onParticipantLeft(m.participant_id));
  client.on("track_published", (m) => onTrackPublished(m.track));
  client.on("track_unpublished", (m) => onTrackUnpublished(m.producer_id, m.participant_id));
  client.on("mute_changed", (m) => onMuteChanged(m.participant_id, m.kind, m.muted));
  client.on("error", (m) => onServerError(m));
  client.onclose = () => { if (gen === state.generation) connectionLost(); };

  try {
    await client.connect();
    const joined = await client.join(page.meetingId);
    if (gen !== state.generation) return;
    onJoined(joined);
    await publishTracks(gen, ownTracks());
    if (gen !== state.generation) return;
    if (state.local.audioMuted) client.mute("audio", true);
    if (state.local.videoMuted) client.mute("video", true);
    if (state.phase === "reconnecting") toast(t("reconnected"));
    setPhase("joined");
    state.attempt = 0;
    hideBanner();
  } catch (err) {
    if (gen !== state.generation) return;
    console.error("joining failed", err);
    const answered = err && err.code !== "timeout" && err.code !== "connection_lost";
    if (err && (err.fatal || (answered && err.request === "join"))) {
      endMeeting("ended", errorText(err));
    } else if (answered && err.request === "publish") {
      // Refused media: stay in the meeting to watch and listen.
      toast(errorText(err), true);
      setPhase("joined");
      state.attempt = 0;
      hideBanner();
    } else {
      connectionLost();
    }
  }
}

function onJoined(joined) {
  state.participantId = joined.participant_id;
  state.iceServers = Array.isArray(joined.ice_servers) ? joined.ice_servers : [];
  state.participants = new Map();
  for (const p of joined.participants || []) {
    if (p.participant_id === joined.participant_id) continue;
    state.participants.set(p.participant_id, { ...p });
    participantTile(p.participant_id);
    updateParticipantTile(p.participant_id);
  }
  localTile().dataset.participantId = joined.participant_id;
}

function onParticipantJoined(participant) {
  if (participant.participant_id === state.participantId) return;
  state.participants.set(participant.participant_id, { ...participant });
  const tile = participantTile(participant.participant_id);
  tile.dataset.participant = participant.username;
  tile.querySelector(".tile-name").textContent = participant.display_name || participant.username;
  updateParticipantTile(participant.participant_id);
}

function onParticipantLeft(participantId) {
  state.participants.delete(participantId);
  removeParticipantMedia(participantId);
}

function onTrackPublished(track) {
  if (track.participant_id === state.participantId) state.producers[track.source] = track.producer_id;
}

function onTrackUnpublished(producerId, participantId) {
  if (participantId === state.participantId) return;
  for (const tile of [...el.grid.children]) {
    if (tile.dataset.producerId !== producerId) continue;
    if (tile.classList.contains("tile-screen")) {
      removeTile(tile.dataset.key);
    } else {
      tile.querySelector("video").srcObject = null;
      delete tile.dataset.producerId;
      updateParticipantTile(participantId);
    }
  }
}

function onMuteChanged(participantId, kind, muted) {
  if (participantId === state.participantId) return;
  const info = state.participants.get(participantId);
  if (!info) return;
  info[kind === "audio" ? "audio_muted" : "video_muted"] = muted;
  updateParticipantTile(participantId);
}

function onServerError(message) {
  if (message.fatal) {
    endMeeting("ended", errorText(message));
    return;
  }
  toast(errorText(message), true);
}

/** Close both peer connections and the socket of the current connection. */
function teardown() {
  state.generation += 1;
  clearTimeout(state.reconnectTimer);
  if (state.client) {
    state.client.onclose = null;
    state.client.close();
  }
  for (const pc of [state.publishPc, state.subscribePc]) {
    if (pc) pc.close();
  }
  state.client = null;
  state.publishPc = null;
  state.subscribePc = null;
  state.screenTransceiver = null;
  state.producers = {};
  state.consumers = new Map();
  state.participants = new Map();
  clearRemoteMedia();
}

function connectionLost() {
  if (state.phase === "left" || state.phase === "ended" || state.phase === "preview") return;
  teardown();
  const delay = Math.min(1000 * 2 ** state.attempt, BACKOFF_MAX_MS);
  state.attempt += 1;
  setPhase("reconnecting");
  showBanner(t("reconnecting", { seconds: Math.round(delay / 1000) }));
  state.reconnectTimer = setTimeout(() => {
    showBanner(t("reconnecting_now"));
    connect();
  }, delay);
}

async function join() {
  if (state.phase === "joining" || state.phase === "joined" || state.phase === "reconnecting") return;
  el.joinButton.disabled = true;
  el.rejoinButton.disabled = true;
  if (!state.local.audio && !state.local.video) await acquireMedia();
  setPhase("joining");
  el.prejoin.hidden = true;
  el.ended.hidden = true;
  el.call.hidden = false;
  showBanner(t("joining"));
  stopPreview();
  updateLocalTile();
  updateButtons();
  state.attempt = 0;
  el.joinButton.disabled = false;
  el.rejoinButton.disabled = false;
  await connect();
}

function stopPreview() {
  el.preview.srcObject = null;
}

function leaveMeeting() {
  if (state.client) state.client.leave();
  endMeeting("left", "");
}

/** Stop for good (leave or fatal error); the Rejoin button starts over. */
function endMeeting(phase, detail) {
  if (state.phase === "left" || state.phase === "ended") return;
  teardown();
  stopLocalMedia();
  removeTile("own-screen");
  removeTile("local");
  hideBanner();
  setPhase(phase);
  el.call.hidden = true;
  el.endedHeading.textContent = phase === "left" ? t("left") : t("ended");
  el.endedDetail.textContent = detail;
  el.ended.hidden = false;
  el.rejoinButton.focus();
}

// ---------------------------------------------------------------- buttons

function updateButtons() {
  const { audio, video, screen, audioMuted, videoMuted } = state.local;
  el.micButton.disabled = !audio;
  el.micButton.setAttribute("aria-pressed", String(audioMuted));
  el.micButton.textContent = audioMuted ? t("unmute") : t("mute");
  el.cameraButton.disabled = !video;
  el.cameraButton.setAttribute("aria-pressed", String(videoMuted));
  el.cameraButton.textContent = videoMuted ? t("camera_on") : t("camera_off");
  el.screenButton.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  el.screenButton.setAttribute("aria-pressed", String(Boolean(screen)));
  el.screenButton.textContent = screen ? t("stop_share") : t("share_screen");
}

function toggleMute(kind) {
  const key = kind === "audio" ? "audioMuted" : "videoMuted";
  state.local[key] = !state.local[key];
  applyTrackState();
  if (state.client && state.phase === "joined") state.client.mute(kind, state.local[key]);
  updateButtons();
  updateLocalTile();
}

async function startShare() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) {
    if (err && err.name !== "NotAllowedError" && err.name !== "AbortError") toast(t("share_failed"), true);
    return;
  }
  const track = stream.getVideoTracks()[0];
  if (!track) return;
  if ("contentHint" in track) track.contentHint = "detail";
  track.addEventListener("ended", () => stopShare());
  state.local.screen = track;
  const tile = screenTile("own-screen", page.username, page.displayName);
  setStream(tile.querySelector("video"), track);
  updateButtons();
  if (state.phase === "joined" && state.client) {
    const gen = state.generation;
    try {
      await publishTracks(gen, [{ track, kind: "video", source: "screen" }]);
    } catch (err) {
      console.error("publishing the screen failed", err);
      if (gen === state.generation) toast(t("share_failed"), true);
    }
  }
}

function stopShare() {
  const track = state.local.screen;
  if (!track) return;
  state.local.screen = null;
  const producerId = state.producers.screen;
  delete state.producers.screen;
  if (producerId && state.client) state.client.unpublish(producerId);
  if (state.screenTransceiver) {
    state.screenTransceiver.sender.replaceTrack(null).catch(() => {});
    state.screenTransceiver = null;
  }
  track.stop();
  removeTile("own-screen");
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
  el.rejoinButton.addEventListener("click", () => join());
  el.leaveButton.addEventListener("click", () => leaveMeeting());
  el.micButton.addEventListener("click", () => toggleMute("audio"));
  el.cameraButton.addEventListener("click", () => toggleMute("video"));
  el.screenButton.addEventListener("click", () => (state.local.screen ? stopShare() : startShare()));
  el.cameraSelect.addEventListener("change", () => switchDevice("video"));
  el.micSelect.addEventListener("change", () => switchDevice("audio"));
  window.addEventListener("pagehide", () => {
    if (state.client && state.phase === "joined") state.client.leave();
  });
  updateButtons();
  acquireMedia();
}

start();
