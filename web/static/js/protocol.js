// The /ws wire protocol, version 1 (see signaling/live/protocol.py). No DOM access here.
//
// A SignalingClient wraps one WebSocket: connect() sends `hello` and waits for
// `welcome`; join() sends `join` and waits for `joined`; publish() sends `publish`
// and waits for `published`. Every other server message goes to the handler
// registered for its type with on(type, handler).

export const PROTOCOL_VERSION = 1;

const DEFAULT_TIMEOUT_MS = 15000;

/** Builders for every client message, exactly as the server parses them. */
export const messages = {
  hello: () => ({ type: "hello", version: PROTOCOL_VERSION }),
  join: (meetingId) => ({ type: "join", meeting_id: String(meetingId) }),
  publish: (sdp, tracks) => ({
    type: "publish",
    sdp,
    tracks: tracks.map((t) => ({ mid: String(t.mid), kind: t.kind, source: t.source })),
  }),
  unpublish: (producerId) => ({ type: "unpublish", producer_id: String(producerId) }),
  answer: (sdp) => ({ type: "answer", sdp }),
  ice: (transport, candidate) => ({
    type: "ice",
    transport,
    candidate: candidate ? candidate.candidate : "",
    sdp_mid: candidate && candidate.sdpMid != null ? candidate.sdpMid : null,
    sdp_mline_index: candidate && candidate.sdpMLineIndex != null ? candidate.sdpMLineIndex : null,
  }),
  mute: (kind, muted) => ({ type: "mute", kind, muted: Boolean(muted) }),
  recording: (action) => ({ type: "recording", action: action === "start" ? "start" : "stop" }),
  leave: () => ({ type: "leave" }),
  chat: (text, to) => ({ type: "chat", text: String(text), to: to === "hosts" ? "hosts" : "everyone" }),
  lock: (locked) => ({ type: "lock", locked: Boolean(locked) }),
  lobbyAdmit: (entryId) => ({ type: "lobby_admit", entry_id: entryId == null ? null : String(entryId) }),
  lobbyDeny: (entryId) => ({ type: "lobby_deny", entry_id: entryId == null ? null : String(entryId) }),
  guestLink: () => ({ type: "guest_link" }),
  visible: (tiles) => ({ type: "visible", tiles }),
};

/** An `error` message from the server, or a lost connection, as an exception. */
export class SignalingError extends Error {
  constructor({ code, title, detail, request = null, fatal = false, extra = {} }) {
    super(detail || title || code);
    this.name = "SignalingError";
    this.code = code;
    this.title = title || code;
    this.detail = detail || "";
    this.request = request;
    this.fatal = Boolean(fatal);
    this.extra = extra;
  }
}

export class SignalingClient {
  /**
   * @param {string} url  the ws:// or wss:// address of /ws
   */
  constructor(url) {
    this.url = url;
    this.ws = null;
    this.handlers = new Map();
    this.waiters = [];
    this.deliberate = false;
    this.closed = false;
    /** Called once when the socket closes without close() having been called. */
    this.onclose = null;
    /** Called with every server message no waiter took, after its handler. */
    this.onany = null;
  }

  /** Register the handler of one server message type ("offer", "error", ...). */
  on(type, handler) {
    this.handlers.set(type, handler);
    return this;
  }

  /** Open the socket and complete the hello/welcome handshake; resolves to `welcome`. */
  connect(timeoutMs = DEFAULT_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      let opened = false;
      const ws = new WebSocket(this.url);
      this.ws = ws;
      const timer = setTimeout(() => {
        if (!opened) {
          reject(this._lost("timeout"));
          ws.close();
        }
      }, timeoutMs);
      ws.addEventListener("open", () => {
        opened = true;
        clearTimeout(timer);
        const welcome = this.waitFor("welcome", "hello", timeoutMs);
        this.send(messages.hello());
        welcome.then(resolve, reject);
      });
      ws.addEventListener("message", (event) => this._onMessage(event));
      ws.addEventListener("close", (event) => {
        clearTimeout(timer);
        this._onClose(event);
        if (!opened) reject(this._lost("closed"));
      });
    });
  }

  /** Enter the meeting; resolves to `joined`. */
  join(meetingId) {
    const joined = this.waitFor("joined", "join");
    this.send(messages.join(meetingId));
    return joined;
  }

  /** Offer tracks to the server; resolves to `published` (which carries the answer). */
  publish(sdp, tracks) {
    const published = this.waitFor("published", "publish");
    this.send(messages.publish(sdp, tracks));
    return published;
  }

  unpublish(producerId) { this.send(messages.unpublish(producerId)); }
  answer(sdp) { this.send(messages.answer(sdp)); }
  ice(transport, candidate) { this.send(messages.ice(transport, candidate)); }
  mute(kind, muted) { this.send(messages.mute(kind, muted)); }
  recording(action) { this.send(messages.recording(action)); }
  leave() { this.send(messages.leave()); }
  visible(tiles) { this.send(messages.visible(tiles)); }

  /** Wait for `type` without a time limit from now on (the lobby: a host decides when). */
  hold(type) {
    for (const waiter of this.waiters) {
      if (waiter.type === type) clearTimeout(waiter.timer);
    }
  }

  /** Send one client message; silently dropped when the socket is not open. */
  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Close on purpose: no onclose callback, pending waits fail. */
  close() {
    this.deliberate = true;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
    this._rejectAll(this._lost("closed"));
  }

  /**
   * Resolve with the next message of `type`; reject on an `error` answering the
   * client message `request`, on a fatal error, on close or after `timeoutMs`.
   */
  waitFor(type, request, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const waiter = { type, request, resolve, reject, timer: 0 };
      waiter.timer = setTimeout(() => {
        this._removeWaiter(waiter);
        reject(new SignalingError({ code: "timeout", title: "timeout", request }));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  _onMessage(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    if (message.type === "error") {
      const error = new SignalingError(message);
      const waiting = this.waiters.filter((w) => error.fatal || (w.request && w.request === error.request));
      for (const waiter of waiting) {
        this._removeWaiter(waiter);
        waiter.reject(error);
      }
      if (waiting.length && !error.fatal) return;
    } else {
      const waiter = this.waiters.find((w) => w.type === message.type);
      if (waiter) {
        this._removeWaiter(waiter);
        waiter.resolve(message);
        return;
      }
    }
    const handler = this.handlers.get(message.type);
    for (const each of [handler, this.onany]) {
      if (!each) continue;
      try {
        each(message);
      } catch (err) {
        console.error("handler for", message.type, "failed", err);
      }
    }
  }

  _onClose(event) {
    if (this.closed) return;
    this.closed = true;
    this._rejectAll(this._lost("closed"));
    if (!this.deliberate && this.onclose) this.onclose(event);
  }

  _lost(reason) {
    return new SignalingError({ code: "connection_lost", title: reason, detail: "" });
  }

  _removeWaiter(waiter) {
    clearTimeout(waiter.timer);
    this.waiters = this.waiters.filter((w) => w !== waiter);
  }

  _rejectAll(error) {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
