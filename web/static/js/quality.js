// Network quality in the meeting. Every 5 s a compact getStats() summary of both peer
// connections goes to the server as a `quality_report` (see
// signaling/quality/client_reports.py for its fields and limits), and each tile shows the
// network quality the server judged for that participant (`quality` messages).

export const REPORT_INTERVAL_MS = 5000;
const STATES = new Set(["good", "warning", "poor"]);

/** A finite number clamped to 0..max, or null. */
function num(value, max) {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return Math.min(max, Math.max(0, value));
}

function ratio(part, whole, max = 100) {
  return whole > 0 ? num((100 * part) / whole, max) : null;
}

export class QualityReporter {
  /** @param {import("./call.js").Call} call */
  constructor(call) {
    this.call = call;
    this.timer = 0;
    this.previous = new Map(); // stats id -> the same report 5 s earlier
  }

  start() {
    if (!this.timer) this.timer = setInterval(() => this.report().catch(() => {}), REPORT_INTERVAL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
    this.previous.clear();
  }

  /** Read both peer connections and send one summary; nothing is sent outside a call. */
  async report() {
    const call = this.call;
    if (call.phase !== "joined" || !call.client) return null;
    const summary = { type: "quality_report", streams: [], pairs: [] };
    const seen = new Map();
    if (call.publishPc) await this._read(call.publishPc, "publish", summary, seen);
    if (call.subscribePc) await this._read(call.subscribePc, "subscribe", summary, seen);
    this.previous = seen;
    summary.streams = summary.streams.slice(0, 32);
    call.client.send(summary);
    return summary;
  }

  async _read(pc, transport, summary, seen) {
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    let pairId = null;
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    });
    stats.forEach((r) => {
      if (r.type === "outbound-rtp" && transport === "publish") {
        summary.streams.push(this._outbound(r));
      } else if (r.type === "inbound-rtp" && transport === "subscribe") {
        summary.streams.push(this._inbound(r, this.previous.get(r.id)));
        seen.set(r.id, r);
      } else if (r.type === "candidate-pair" && !pairId && r.nominated && r.state === "succeeded") {
        pairId = r.id;
      }
    });
    const pair = pairId ? byId.get(pairId) : null;
    if (pair) {
      const local = byId.get(pair.localCandidateId) || {};
      const remote = byId.get(pair.remoteCandidateId) || {};
      const rtt = num(pair.currentRoundTripTime, 60);
      summary.pairs.push({
        transport,
        rtt_ms: rtt === null ? null : rtt * 1000,
        available_outgoing_bps: num(pair.availableOutgoingBitrate, 1e10),
        local_type: local.candidateType || null,
        remote_type: remote.candidateType || null,
      });
    }
  }

  _outbound(r) {
    const screen = this.call.screenTransceiver;
    const source = r.kind === "audio" ? "microphone"
      : (screen && screen.mid != null && String(screen.mid) === String(r.mid) ? "screen" : "camera");
    const out = { direction: "outbound", kind: r.kind, source };
    if (r.kind === "video") {
      out.fps = num(r.framesPerSecond, 240);
      out.width = num(r.frameWidth, 16384);
      out.height = num(r.frameHeight, 16384);
      const reason = r.qualityLimitationReason;
      out.quality_limitation = ["none", "cpu", "bandwidth", "other"].includes(reason) ? reason : null;
    }
    return out;
  }

  _inbound(r, before) {
    const consumer = this.call.consumers.get(String(r.mid));
    const out = {
      direction: "inbound", kind: r.kind,
      producer_id: consumer ? String(consumer.producer_id) : null,
      jitter_ms: num((r.jitter ?? NaN) * 1000, 60000),
    };
    const d = (name) => (r[name] ?? 0) - ((before && before[name]) ?? 0);
    const lost = Math.max(0, d("packetsLost"));
    out.loss_percent = ratio(lost, lost + Math.max(0, d("packetsReceived")));
    const emitted = d("jitterBufferEmittedCount");
    out.jitter_buffer_ms = emitted > 0 ? num((1000 * d("jitterBufferDelay")) / emitted, 60000) : null;
    if (r.kind === "video") {
      out.fps = num(r.framesPerSecond, 240);
      out.width = num(r.frameWidth, 16384);
      out.height = num(r.frameHeight, 16384);
      out.freezes = before ? num(d("freezeCount"), 10000) : null;
      out.frame_loss_percent = before ? ratio(Math.max(0, d("framesDropped")), d("framesReceived")) : null;
    } else {
      out.concealed_percent = before
        ? ratio(Math.max(0, d("concealedSamples")), d("totalSamplesReceived")) : null;
    }
    return out;
  }
}

/**
 * Show a participant's network quality on a tile's indicator.
 * @param {HTMLElement|null} tile
 * @param {string} state  good | warning | poor
 * @param {(key: string) => string} t
 */
export function paintQuality(tile, state, t) {
  if (!tile || !STATES.has(state)) return;
  const indicator = tile.querySelector(".indicator-quality");
  if (!indicator) return;
  const label = t(`network_${state}`);
  indicator.dataset.state = state;
  indicator.title = label;
  indicator.setAttribute("aria-label", label);
  indicator.hidden = false;
}
