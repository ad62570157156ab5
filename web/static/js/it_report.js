// A past meeting's quality report: one uPlot chart per participant (loss, jitter,
// round trip and MOS over the meeting), from the JSON data block of the page.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { chartOptions } from "./charts.js";

const strings = JSON.parse(document.getElementById("i18n").textContent);
const report = JSON.parse(document.getElementById("report-data").textContent);
const COLOURS = ["#0b5cad", "#b3261e", "#1e7a3c", "#8a4fbf", "#c77700"];

function t(key, params = {}) {
  const text = strings.text[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const STREAM_TEXT = {
  "up:microphone": t("q_up_microphone"), "up:camera": t("q_up_camera"), "up:screen": t("q_up_screen"),
  "down:audio": t("q_down_audio"), "down:video": t("q_down_video"),
};
const METRICS = [["loss", t("q_chart_loss")], ["jitter", t("q_chart_jitter")], ["mos", t("q_chart_mos")]];

function align(times, own, values) {
  const at = new Map(own.map((x, i) => [x, values[i]]));
  return times.map((x) => (at.has(x) ? at.get(x) : null));
}

for (const holder of document.querySelectorAll(".report-charts")) {
  const streams = report.charts[holder.dataset.username] || {};
  const keys = Object.keys(streams);
  const times = [...new Set(keys.flatMap((k) => streams[k].t))].sort((a, b) => a - b);
  if (!times.length) continue;
  for (const [metric, title] of METRICS) {
    const used = keys.filter((k) => streams[k][metric].some((v) => v !== null));
    if (!used.length) continue;
    const figure = document.createElement("figure");
    figure.className = "it-chart";
    figure.dataset.metric = metric;
    figure.dataset.testid = "report-chart";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    figure.append(caption);
    holder.append(figure);
    const data = [times, ...used.map((k) => align(times, streams[k].t, streams[k][metric]))];
    new uPlot(chartOptions({
      lang: strings.lang, tz: strings.tz, uPlot,
      width: Math.max(280, Math.min(460, figure.clientWidth || 420)), height: 160,
      series: [{}, ...used.map((k, i) => ({
        label: STREAM_TEXT[k] || k, stroke: COLOURS[i % 5], scale: "y" }))],
      axes: [{ scale: "y" }],
    }), data, figure);
  }
}
