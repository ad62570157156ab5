// The IT dashboard: live meetings, participants and streams (worst first), alerts and
// the SFU workers, redrawn from the snapshots /it/ws pushes every few seconds. A click
// on a participant's "Details" asks the socket for that participant's recent figures,
// drawn with uPlot (vendored in /static/vendor/uplot).

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { chartOptions } from "./charts.js";

const root = document.getElementById("it-app");
const strings = JSON.parse(document.getElementById("i18n").textContent);
const $ = (id) => document.getElementById(id);
const RETRY_MS = 3000;
const STREAM_KEYS = ["up:microphone", "up:camera", "up:screen", "down:audio", "down:video"];
const COLOURS = ["#0b5cad", "#b3261e", "#1e7a3c", "#8a4fbf", "#c77700"];

function t(key, params = {}) {
  const text = strings.text[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const STATE_TEXT = { good: t("q_good"), warning: t("q_warning"), poor: t("q_poor") };
const STREAM_TEXT = {
  "up:microphone": t("q_up_microphone"), "up:camera": t("q_up_camera"), "up:screen": t("q_up_screen"),
  "down:audio": t("q_down_audio"), "down:video": t("q_down_video"),
};
const REASON_TEXT = {
  rtt: t("q_reason_rtt"), loss: t("q_reason_loss"), jitter: t("q_reason_jitter"),
  mos: t("q_reason_mos"), fps: t("q_reason_fps"), frame_loss: t("q_reason_frame_loss"),
};

const state = { ws: null, watch: null, updates: 0, last: null, charts: new Map(), workerChart: null };
window.giaobanIt = state;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name.startsWith("data-") || name === "role" || name.startsWith("aria-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
}

function figure(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function badge(s) {
  return el("span", { className: "q-badge", "data-state": s, text: STATE_TEXT[s] || s });
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString(strings.lang === "vi" ? "vi-VN" : "en-GB",
    { timeZone: "Asia/Ho_Chi_Minh", hour12: false });
}

// ---------------------------------------------------------------- socket

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}${root.dataset.wsPath}`);
  state.ws = ws;
  ws.addEventListener("open", () => {
    setConnection("connected");
    if (state.watch) send({ type: "watch", participant_id: state.watch });
  });
  ws.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "snapshot") showSnapshot(message);
    else if (message.type === "detail") showDetail(message.detail);
    else if (message.type === "error" && message.fatal) setConnection("refused", message.detail);
  });
  ws.addEventListener("close", () => {
    if (root.dataset.state === "refused") return;
    setConnection("disconnected");
    setTimeout(connect, RETRY_MS);
  });
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function setConnection(phase, detail = "") {
  root.dataset.state = phase;
  const texts = { connected: t("q_connected"), disconnected: t("q_disconnected"), refused: detail };
  $("it-connection").textContent = texts[phase] || "";
}

// ---------------------------------------------------------------- snapshot

function showSnapshot(snap) {
  state.last = snap;
  state.updates += 1;
  root.dataset.updates = String(state.updates);
  root.dataset.at = String(snap.at);
  for (const node of $("it-totals").querySelectorAll("[data-total]")) {
    node.textContent = String(snap.totals[node.dataset.total] ?? 0);
  }
  showAlerts(snap.alerts);
  showMeetings(snap.meetings);
  showWorkers(snap.workers, snap.worker_series);
  const dropped = Object.values(snap.reports.dropped).reduce((a, b) => a + b, 0);
  $("it-reports").textContent = t("q_reports", { accepted: snap.reports.accepted, dropped });
  if (snap.detail) showDetail(snap.detail);
}

function showAlerts(alerts) {
  const list = $("it-alerts");
  list.replaceChildren(...alerts.map((a) => el("li", {
    className: "it-alert", "data-testid": "it-alert", "data-participant": a.username, "data-stream": a.stream,
    text: t("q_alert", {
      name: a.display_name, stream: STREAM_TEXT[a.stream] || a.stream, meeting: a.meeting_title,
      since: clock(a.poor_since), reasons: a.reasons.map((r) => REASON_TEXT[r] || r).join(", "),
    }),
  })));
  $("it-no-alerts").hidden = alerts.length > 0;
}

function showMeetings(meetings) {
  const box = $("it-meetings");
  const template = $("it-meeting-template");
  box.replaceChildren(...meetings.map((m) => {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.meetingId = m.meeting_id;
    card.dataset.state = m.state;
    card.querySelector(".it-meeting-title").textContent = m.title;
    const head = card.querySelector(".q-badge");
    head.dataset.state = m.state;
    head.textContent = STATE_TEXT[m.state];
    card.querySelector(".it-report-link").href = m.report_url;
    const table = card.querySelector("table");
    for (const p of m.participants) table.append(participantRows(p));
    return card;
  }));
  $("it-no-meetings").hidden = meetings.length > 0;
}

function participantRows(p) {
  const body = el("tbody", {
    className: "it-participant", "data-testid": "it-participant", "data-participant": p.username,
    "data-participant-id": p.participant_id, "data-state": p.state,
  });
  const streams = p.streams.length ? p.streams : [null];
  streams.forEach((s, i) => {
    const row = el("tr", { "data-testid": s ? "it-stream" : null, "data-stream": s ? s.key : null,
      "data-state": s ? s.state : null });
    if (i === 0) {
      const name = el("th", { scope: "row", rowSpan: streams.length, className: "it-person" },
        el("span", { className: "it-person-name", text: p.display_name }), " ", badge(p.state));
      if (p.candidate && p.candidate.local_type) {
        name.append(el("span", { className: "muted it-candidate",
          text: t("q_candidate", { type: p.candidate.local_type }) }));
      }
      row.append(name);
    }
    if (!s) {
      row.append(el("td", { colSpan: 10, className: "muted", text: t("q_no_figures") }));
      body.append(row);
      return;
    }
    const cell = (field, text) => el("td", { "data-field": field, text });
    const stateCell = el("td", {}, badge(s.state));
    if (s.reasons.length) stateCell.append(" ", el("span", { className: "muted",
      text: s.reasons.map((r) => REASON_TEXT[r] || r).join(", ") }));
    row.append(
      cell("stream", STREAM_TEXT[s.key] + (s.paused ? ` (${t("q_paused")})` : "")),
      stateCell,
      cell("bitrate", figure(s.bitrate_kbps, 0)),
      cell("loss", figure(s.loss_percent)),
      cell("jitter", figure(s.jitter_ms)),
      cell("rtt", figure(s.rtt_ms, 0)),
      cell("mos", figure(s.mos, 2)),
      cell("fps", s.width ? `${figure(s.fps, 0)} (${s.width}×${s.height})` : figure(s.fps, 0)),
      cell("nack_pli", `${s.nacks} / ${s.plis}`),
    );
    if (i === 0) {
      const button = el("button", { type: "button", className: "button button-quiet",
        "data-testid": "it-details", text: t("q_details") });
      button.addEventListener("click", () => watch(p.participant_id));
      row.append(el("td", { rowSpan: streams.length }, button));
    }
    body.append(row);
  });
  return body;
}

function showWorkers(workers, series) {
  $("it-workers").replaceChildren(...workers.map((w) => el("tr", {
    "data-testid": "it-worker", "data-worker": String(w.worker), "data-alive": String(w.alive),
  },
  el("td", { text: t("q_worker_process", { worker: w.worker, pid: w.pid }) }),
  el("td", {}, el("span", { className: "q-badge", "data-state": w.alive ? "good" : "poor",
    text: w.alive ? t("q_worker_alive") : t("q_worker_silent") })),
  el("td", { "data-field": "cpu", text: `${figure(w.cpu_percent)} %` }),
  el("td", { text: String(w.routers) }),
  el("td", { text: String(w.streams) }),
  el("td", { "data-field": "pps", text: figure(w.packets_per_s, 0) }))));
  const numbers = Object.keys(series);
  if (!numbers.length) return;
  const data = [series[numbers[0]].t, ...numbers.map((n) => series[n].cpu), ...numbers.map((n) => series[n].pps)];
  const lines = [{}, ...numbers.map((n, i) => ({ label: t("q_cpu_of", { n }), stroke: COLOURS[i % 5], scale: "%" })),
    ...numbers.map((n, i) => ({ label: t("q_pps_of", { n }), stroke: COLOURS[(i + 2) % 5], scale: "pps", dash: [4, 3] }))];
  state.workerChart = drawChart($("it-worker-chart"), state.workerChart, lines, data, [
    { scale: "%", label: "%" }, { scale: "pps", side: 1, label: t("q_pps"), grid: { show: false } }]);
}

// ---------------------------------------------------------------- drill-down

function watch(participantId) {
  state.watch = participantId;
  for (const chart of state.charts.values()) chart.destroy();
  state.charts.clear();
  $("it-detail-charts").replaceChildren();
  send({ type: "watch", participant_id: participantId });
}

function showDetail(detail) {
  const box = $("it-detail");
  if (!detail || detail.participant_id !== state.watch) {
    box.hidden = !state.watch;
    return;
  }
  box.hidden = false;
  box.dataset.participant = detail.username;
  $("it-detail-name").replaceChildren(
    el("span", { text: t("q_detail_of", { name: detail.display_name }) }), " ", badge(detail.state));
  const keys = STREAM_KEYS.filter((k) => detail.series[k] && detail.series[k].t.length);
  const times = [...new Set(keys.flatMap((k) => detail.series[k].t))].sort((a, b) => a - b);
  const metrics = [
    ["bitrate", t("q_chart_bitrate")], ["loss", t("q_chart_loss")], ["jitter", t("q_chart_jitter")],
    ["rtt", t("q_chart_rtt")], ["mos", t("q_chart_mos")],
  ];
  for (const [metric, title] of metrics) {
    const data = [times, ...keys.map((k) => align(times, detail.series[k].t, detail.series[k][metric]))];
    const lines = [{}, ...keys.map((k, i) => ({ label: STREAM_TEXT[k], stroke: COLOURS[i % 5] }))];
    let holder = $("it-detail-charts").querySelector(`[data-metric="${metric}"]`);
    if (!holder) {
      holder = el("figure", { className: "it-chart", "data-metric": metric, "data-testid": "it-chart" },
        el("figcaption", { text: title }));
      $("it-detail-charts").append(holder);
    }
    const id = `${metric}:${keys.join(",")}`;
    const old = state.charts.get(metric);
    const chart = drawChart(holder, old && old.giaobanId === id ? old : null, lines, data, [{}]);
    if (old && old !== chart) old.destroy();
    chart.giaobanId = id;
    state.charts.set(metric, chart);
  }
}

function align(times, own, values) {
  const at = new Map(own.map((x, i) => [x, values[i]]));
  return times.map((x) => (at.has(x) ? at.get(x) : null));
}

function drawChart(holder, chart, series, data, axes) {
  if (chart) {
    chart.setData(data);
    return chart;
  }
  for (const old of holder.querySelectorAll(".uplot")) old.remove();
  const width = Math.max(280, Math.min(560, holder.clientWidth || 480));
  const scaled = axes.map((a) => ({ scale: "y", ...a }));
  const lines = series.map((s, i) => (i === 0 || s.scale ? s : { ...s, scale: "y" }));
  return new uPlot(chartOptions({
    lang: strings.lang, tz: strings.tz, uPlot, width, height: 170, series: lines, axes: scaled,
  }), data, holder);
}

// ---------------------------------------------------------------- start

$("it-detail-close").addEventListener("click", () => {
  state.watch = null;
  $("it-detail").hidden = true;
  send({ type: "watch", participant_id: null });
});
connect();
