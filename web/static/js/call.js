// One participant's connection to a meeting: the /ws signaling socket and two
// RTCPeerConnections. No DOM access: the page learns what happens through hooks.
//
// publish PC:   the browser offers its own tracks (`publish`), the server answers
//               (`published`).
// subscribe PC: the server offers everyone else's tracks (`offer`, repeatedly as
//               people come and go), the browser answers (`answer`).
//
// When the socket drops, a peer connection fails or the server says the media path is
// gone, everything is torn down once (however many of these happen together) and the
// call joins again with the same local tracks after 1 s, 2 s, 4 s, then every 5 s, for
// as long as it takes: a refusal that may pass (the media server restarting, a network
// error) is retried; one that cannot change (not invited, meeting over, signed out,
// joined elsewhere) ends the call and says why.

import { SignalingClient } from "./protocol.js";

const GATHER_TIMEOUT_MS = 2000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 5000;
/** Refusals of a join that may pass by themselves: the call keeps trying. */
const PASSING = new Set([
  "media_unavailable", "internal_error", "too_many_requests", "timeout", "connection_lost",
  "media_lost",
]);

/** Resolve once ICE gathering is complete, or after `timeoutMs` regardless. */
export function waitForGathering(pc, timeoutMs = GATHER_TIMEOUT_MS) {
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

/** Whether an error was the server refusing a request (rather than a lost connection). */
function answeredBy(err, request) {
  return Boolean(err) && err.request === request && err.code !== "timeout"
    && err.code !== "connection_lost";
}

const NO_HOOK = () => {};

export class Call {
  /**
   * @param {object} options
   * @param {string} options.url          ws:// or wss:// address of /ws
   * @param {string} options.meetingId
   * @param {() => {track: MediaStreamTrack, kind: string, source: string}[]} options.localTracks
   * @param {() => {audio: boolean, video: boolean}} options.localMuted
   * @param {object} options.hooks         onPhase, onJoined, onParticipantJoined,
   *   onParticipantLeft, onTrack, onTrackUnpublished, onMuteChanged, onActiveSpeaker, onError,
   *   onPublishRefused, onReconnecting, onQuality, onMessage (every server message);
   *   onChat, onChatHistory, onLobby, onLockState, onGuestLink (chat.js, lobby.js)
   */
  constructor({ url, meetingId, localTracks, localMuted, hooks }) {
    this.url = url;
    this.meetingId = meetingId;
    this.localTracks = localTracks;
    this.localMuted = localMuted;
    this.hooks = hooks;
    this.phase = "idle"; // idle | joining | waiting (in the lobby) | joined | reconnecting | left | ended
    this.generation = 0; // bumped on every teardown and connect; a loss of an older one is stale
    this.attempt = 0;
    this.reconnectTimer = 0;
    this.client = null;
    this.publishPc = null;
    this.subscribePc = null;
    this.publishChain = Promise.resolve();
    this.offerChain = Promise.resolve();
    this.participantId = null;
    this.iceServers = [];
    this.producers = {}; // own producer id by source
    this.consumers = new Map(); // subscribe mid -> ConsumerInfo of the latest offer
    this.screenTransceiver = null;
  }

  _hook(name, ...args) {
    (this.hooks[name] || NO_HOOK)(...args);
  }

  _setPhase(phase, detail = null) {
    this.phase = phase;
    this._hook("onPhase", phase, detail);
  }

  /** Join the meeting (or join again after leave). */
  start() {
    if (["joining", "waiting", "joined", "reconnecting"].includes(this.phase)) return;
    this.attempt = 0;
    this._setPhase("joining");
    this._connect();
  }

  /** Leave on purpose: tell the server, close everything, never rejoin. */
  leave() {
    if (this.client) this.client.leave();
    this._teardown();
    this._setPhase("left");
  }

  /** Tell the others that our microphone or camera is muted. */
  setMuted(kind, muted) {
    if (this.client && this.phase === "joined") this.client.mute(kind, muted);
  }

  /** Send a chat, lock or lobby message (protocol.js `messages`) while in the meeting. */
  sendRoom(message) {
    if (this.client && this.phase === "joined") return this.client.send(message);
    return false;
  }

  /** Send another client message (hands, host controls) while in the meeting. */
  send(message) {
    if (this.client && this.phase === "joined") this.client.send(message);
  }

  /** Say whose cameras this page shows: the server forwards only those. */
  showTiles(tiles) {
    if (this.client) this.client.visible(tiles);
  }

  /** Ask the server to start or stop recording the meeting. */
  setRecording(start) {
    if (this.client && this.phase === "joined") this.client.recording(start ? "start" : "stop");
  }

  /** Publish a newly shared screen in its own publish round. */
  publishScreen(track) {
    if (this.phase !== "joined") return Promise.resolve();
    return this._publish(this.generation, [{ track, kind: "video", source: "screen" }]);
  }

  /** Stop sending the screen and tell the server its producer is gone. */
  unpublishScreen() {
    const producerId = this.producers.screen;
    delete this.producers.screen;
    if (producerId && this.client) this.client.unpublish(producerId);
    if (this.screenTransceiver) {
      // Stop sending now without renegotiating; the next publish round offers this
      // m-line as inactive, and a later share gets a new one.
      this.screenTransceiver.sender.replaceTrack(null).catch(() => {});
      this.screenTransceiver.direction = "inactive";
      this.screenTransceiver = null;
    }
  }

  /** Swap a local track (another camera or microphone) without renegotiating. */
  async replaceTrack(oldTrack, newTrack) {
    if (!this.publishPc || !oldTrack) return;
    for (const sender of this.publishPc.getSenders()) {
      if (sender.track === oldTrack) await sender.replaceTrack(newTrack);
    }
  }

  // ---------------------------------------------------------------- connecting

  async _connect() {
    const gen = ++this.generation;
    const client = new SignalingClient(this.url);
    this.client = client;
    this.offerChain = Promise.resolve();
    this.publishChain = Promise.resolve();
    client.on("offer", (m) => this._queueOffer(gen, m));
    client.on("participant_joined", (m) => {
      if (m.participant.participant_id !== this.participantId) this._hook("onParticipantJoined", m.participant);
    });
    client.on("participant_left", (m) => this._hook("onParticipantLeft", m.participant_id));
    client.on("track_published", (m) => {
      if (m.track.participant_id === this.participantId) this.producers[m.track.source] = m.track.producer_id;
    });
    client.on("track_unpublished", (m) => {
      if (m.participant_id !== this.participantId) this._hook("onTrackUnpublished", m.producer_id, m.participant_id);
    });
    client.on("track_unsupported", (m) => this._hook("onTrackUnsupported", m));
    client.on("mute_changed", (m) => {
      if (m.participant_id !== this.participantId) this._hook("onMuteChanged", m.participant_id, m.kind, m.muted);
    });
    client.on("recording_state", (m) => this._hook("onRecordingState", m));
    client.on("active_speaker", (m) => {
      this._hook("onActiveSpeaker", m.participant_id === this.participantId ? "local" : m.participant_id);
    });
    client.on("quality", (m) => this._hook("onQuality", m));
    client.on("lobby_waiting", (m) => {
      if (gen !== this.generation) return;
      client.hold("joined"); // a host lets us in when they decide
      this._setPhase("waiting", m);
    });
    client.on("chat_message", (m) => this._hook("onChat", m.message));
    client.on("chat_history", (m) => this._hook("onChatHistory", m.messages || []));
    client.on("lobby", (m) => this._hook("onLobby", m));
    client.on("lock_state", (m) => this._hook("onLockState", m));
    client.on("guest_link_created", (m) => this._hook("onGuestLink", m));
    client.on("tile_order", (m) => this._hook("onTileOrder", m));
    client.on("error", (m) => {
      if (gen !== this.generation) return;
      if (m.fatal && m.extra && m.extra.rejoin) this._lost(gen, m); // media path gone: join again
      else if (m.fatal) this._end(m);
      else this._hook("onError", m);
    });
    client.onclose = () => this._lost(gen, "socket closed");
    client.onany = (m) => { if (gen === this.generation) this._hook("onMessage", m); };

    try {
      await client.connect();
      const joined = await client.join(this.meetingId);
      if (gen !== this.generation) return;
      this.participantId = joined.participant_id;
      this.iceServers = Array.isArray(joined.ice_servers) ? joined.ice_servers : [];
      this._hook("onJoined", joined);
      try {
        await this._publish(gen, this.localTracks());
      } catch (err) {
        if (gen !== this.generation || !answeredBy(err, "publish")) throw err;
        this._hook("onPublishRefused", err); // stay in the meeting to watch and listen
      }
      if (gen !== this.generation) return;
      const muted = this.localMuted();
      if (muted.audio) client.mute("audio", true);
      if (muted.video) client.mute("video", true);
      this.attempt = 0;
      this._setPhase("joined");
    } catch (err) {
      if (gen !== this.generation) return;
      const passing = !err || !err.code || PASSING.has(err.code);
      if (err && !passing && (err.fatal || answeredBy(err, "join"))) this._end(err);
      else this._lost(gen, err);
    }
  }

  /**
   * A connection of generation `gen` is gone: tear down and join again, once per loss.
   * The teardown moves to a new generation, so the other connections of `gen` failing
   * too (or any late callback of it) change nothing: this check is the one guard.
   */
  _lost(gen, reason) {
    if (gen !== this.generation) return;
    if (this.phase === "left" || this.phase === "ended" || this.phase === "idle") return;
    console.warn("connection lost, joining again", reason);
    this._teardown();
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** this.attempt, BACKOFF_MAX_MS);
    this.attempt += 1;
    const code = reason && typeof reason === "object" && reason.code ? reason.code : "connection_lost";
    this._setPhase("reconnecting", { delayMs: delay, code, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => this._connect(), delay);
  }

  /** Stop for good after a fatal or refusing error from the server. */
  _end(error) {
    this._teardown();
    this._setPhase("ended", error);
  }

  _teardown() {
    this.generation += 1;
    clearTimeout(this.reconnectTimer);
    if (this.client) {
      this.client.onclose = null;
      this.client.close();
    }
    for (const pc of [this.publishPc, this.subscribePc]) {
      if (pc) pc.close();
    }
    this.client = null;
    this.publishPc = null;
    this.subscribePc = null;
    this.screenTransceiver = null;
    this.producers = {};
    this.consumers = new Map();
  }

  _newPc(gen, role) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    let described = false; // true once our SDP went out: later candidates are trickled
    pc.onicecandidate = (event) => {
      if (described && gen === this.generation) this.client.ice(role, event.candidate);
    };
    pc.onconnectionstatechange = () => {
      // ICE found no path (a firewall, an unreachable relay) or lost it: the page says
      // the audio and video connection is gone, not the connection to the server.
      if (pc.connectionState === "failed") {
        this._lost(gen, { code: "media_lost", message: `${role} connection failed` });
      }
    };
    return { pc, markDescribed: () => { described = true; } };
  }

  // ---------------------------------------------------------------- publishing

  /** Add sendonly transceivers for `wanted` tracks and run one offer/answer round. */
  _publish(gen, wanted) {
    const run = async () => {
      if (gen !== this.generation) return;
      if (!this.publishPc) {
        const { pc, markDescribed } = this._newPc(gen, "publish");
        this.publishPc = pc;
        this.markPublishDescribed = markDescribed;
      }
      const pc = this.publishPc;
      const entries = [];
      for (const { track, kind, source } of wanted) {
        if (!track || track.readyState === "ended") continue;
        const transceiver = pc.addTransceiver(track, { direction: "sendonly" });
        if (source === "screen") this.screenTransceiver = transceiver;
        entries.push({ transceiver, kind, source });
      }
      if (!entries.length) return;
      await pc.setLocalDescription(await pc.createOffer());
      await waitForGathering(pc);
      if (gen !== this.generation) return;
      const tracks = entries.map((e) => ({ mid: e.transceiver.mid, kind: e.kind, source: e.source }));
      const sdp = pc.localDescription.sdp;
      this.markPublishDescribed();
      const published = await this.client.publish(sdp, tracks);
      if (gen !== this.generation) return;
      await pc.setRemoteDescription({ type: "answer", sdp: published.sdp });
      for (const track of published.tracks || []) {
        if (track.participant_id === this.participantId) this.producers[track.source] = track.producer_id;
      }
    };
    this.publishChain = this.publishChain.then(run, run);
    return this.publishChain;
  }

  // ---------------------------------------------------------------- subscribing

  _queueOffer(gen, message) {
    this.offerChain = this.offerChain
      .then(() => this._answer(gen, message))
      .catch((err) => {
        console.error("applying the subscribe offer failed", err);
        this._lost(gen, err);
      });
  }

  async _answer(gen, message) {
    if (gen !== this.generation) return;
    if (!this.subscribePc) {
      const { pc, markDescribed } = this._newPc(gen, "subscribe");
      pc.ontrack = (event) => this._attach(event.transceiver, event.track);
      this.subscribePc = pc;
      this.markSubscribeDescribed = markDescribed;
    }
    const pc = this.subscribePc;
    this.consumers = new Map((message.consumers || []).map((c) => [String(c.mid), c]));
    await pc.setRemoteDescription({ type: "offer", sdp: message.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc);
    if (gen !== this.generation) return;
    this.client.answer(pc.localDescription.sdp);
    this.markSubscribeDescribed();
    // A recycled m-line may carry someone else now without a new `track` event.
    for (const transceiver of pc.getTransceivers()) {
      const direction = transceiver.currentDirection;
      if (direction === "recvonly" || direction === "sendrecv") {
        this._attach(transceiver, transceiver.receiver.track);
      }
    }
  }

  _attach(transceiver, track) {
    const info = this.consumers.get(transceiver.mid);
    if (info && track) this._hook("onTrack", info, track);
  }
}
