// What every quality chart shares: times on the x axis in the page's language and the
// configured time zone ("14:05", "02/12 14:05" across days, never "2:05pm"), value
// axes that start at zero (loss, jitter, bitrate, packets/s and MOS are never
// negative), and the same number of decimals on every label of an axis, written as
// the page's language writes numbers ("4.375,5" in Vietnamese).

const LOCALES = { vi: "vi-VN", en: "en-GB" };

export function locale(lang) {
  return LOCALES[lang] || LOCALES.vi;
}

/** Labels for the x axis: each tick's time (and day, when the chart spans days). */
export function timeLabels(lang, tz) {
  const time = new Intl.DateTimeFormat(locale(lang), {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz });
  const date = new Intl.DateTimeFormat(locale(lang), { day: "2-digit", month: "2-digit", timeZone: tz });
  const dayOf = (moment) => {
    const parts = Object.fromEntries(date.formatToParts(moment).map((p) => [p.type, p.value]));
    return `${parts.day}/${parts.month} ${time.format(moment)}`;  // as the pages write days
  };
  return (splits) => {
    const spansDays = splits.length > 1 && splits[splits.length - 1] - splits[0] >= 86400;
    return splits.map((ts) => {
      if (ts == null) return "";
      const moment = new Date(ts * 1000);
      return spansDays ? dayOf(moment) : time.format(moment);
    });
  };
}

/** Decimals that tell apart ticks `step` apart: 0 for 5, 1 for 0.5, 2 for 0.25. */
export function decimalsFor(step) {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  for (let decimals = 0; decimals < 3; decimals += 1) {
    const scaled = step * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) return decimals;
  }
  return 3;
}

/** Labels for a value axis: one number of decimals for all, in the page's language. */
export function numberLabels(lang) {
  return (splits) => {
    const values = splits.filter((v) => v != null);
    const step = values.length > 1 ? Math.abs(values[1] - values[0]) : 1;
    const decimals = decimalsFor(step);
    const format = new Intl.NumberFormat(locale(lang), {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return splits.map((v) => (v == null ? "" : format.format(Math.max(0, v) + 0)));
  };
}

/** A value scale from zero to a little above the highest value (1 when all are 0). */
export function fromZero(min, max) {
  const top = Number.isFinite(max) && max > 0 ? max * 1.1 : 1;
  return [0, top];
}

/** uPlot options for a chart of `series` with value axes `axes` (scale names). */
export function chartOptions({ lang, tz, uPlot, width, height, series, axes }) {
  const scales = { x: { time: true } };
  for (const axis of axes) scales[axis.scale || "y"] = { range: (u, min, max) => fromZero(min, max) };
  return {
    width, height, series, legend: { live: false }, scales,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
    axes: [
      { values: (u, splits) => timeLabels(lang, tz)(splits) },
      ...axes.map((axis) => ({ ...axis, values: (u, splits) => numberLabels(lang)(splits) })),
    ],
  };
}
