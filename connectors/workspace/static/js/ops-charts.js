// Charts of the ops page, drawn by the vendored uPlot 1.6.32 (static/vendor/README.md): live lines
// that keep the last minutes of polled points, and bars for the historical views.
import uPlot from "../vendor/uplot/uPlot.esm.js";

const COLORS = ["#1f6feb", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457"];
const HEIGHT = 200;

function widthOf(node) { return Math.max(280, Math.min(640, (node.clientWidth || 520) - 8)); }

function draw(node, series, data, { scales, axes, tz } = {}) {
  node.replaceChildren();
  const zoned = tz ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz) } : {};
  return new uPlot({ width: widthOf(node), height: HEIGHT, series: [{}, ...series], legend: { live: false }, scales, axes, ...zoned },
                   data, node);
}

// Clock times on a live chart's x axis (uPlot's defaults show fractions of seconds for short spans).
const CLOCK = { space: 90, values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false })) };

// A line per key (a queue), the last `minutes` of points; new keys redraw the chart with their series.
export class LiveChart {
  constructor(node, { minutes = 15, percent = false } = {}) {
    Object.assign(this, { node, minutes, percent, keys: [], times: [], values: new Map(), plot: null });
  }

  push(at, values) {
    const t = at / 1000, horizon = t - this.minutes * 60;
    this.times.push(t);
    const fresh = Object.keys(values).filter((k) => !this.values.has(k));
    for (const key of fresh) this.values.set(key, this.times.slice(0, -1).map(() => null));
    for (const [key, list] of this.values) list.push(values[key] ?? null);
    while (this.times.length && this.times[0] < horizon) { this.times.shift(); for (const list of this.values.values()) list.shift(); }
    if (fresh.length || !this.plot) this.redraw(); else this.plot.setData(this.data());
  }

  data() { return [this.times, ...[...this.values.values()]]; }

  redraw() {
    if (this.plot) this.plot.destroy();
    const series = [...this.values.keys()].map((key, i) => ({ label: key, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }));
    const y = this.percent ? { range: [0, 100] } : { range: (u, min, max) => [0, Math.max(3, max + 1)] };
    this.plot = draw(this.node, series, this.data(), { scales: { x: { time: true }, y }, axes: [CLOCK, {}] });
  }
}

// Two bars per interval (e.g. offered, answered): `x` epoch seconds of each interval start, the first
// series left of it and the second right of it (uPlot's bars `align`); times shown in `tz`.
export function bars(node, x, groups, tz) {
  const keys = Object.keys(groups).slice(0, 2);
  // One interval's width either side (uPlot would otherwise span a lone point over years).
  const step = x.slice(1).reduce((min, t, i) => Math.min(min, t - x[i]), Infinity);
  const pad = Number.isFinite(step) ? step : 3600;
  const series = keys.map((label, i) => ({
    label, fill: `${COLORS[i]}cc`, stroke: COLORS[i], width: 1, points: { show: false },
    paths: uPlot.paths.bars({ size: [0.4, 48], align: i === 0 ? -1 : 1 }) }));
  const y = { range: (u, min, max) => [0, Math.max(1, max)] };
  const range = () => [x[0] - pad, x[x.length - 1] + pad];
  return draw(node, series, [x, ...keys.map((k) => groups[k])], { scales: { x: { time: true, range }, y }, tz });
}

// A histogram of `values` (seconds) in `bins` equal-width bins, x labelled by each bin's start.
export function histogram(node, values, bins = 12) {
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  const top = Math.max(1, ...finite), width = niceWidth(top / bins);
  const count = Math.ceil((top + 1e-9) / width) || 1;
  const x = Array.from({ length: count }, (_, i) => i * width);
  const y = x.map(() => 0);
  for (const v of finite) y[Math.min(count - 1, Math.floor(v / width))] += 1;
  const series = [{ label: "interactions", fill: COLORS[0] + "cc", stroke: COLORS[0], points: { show: false },
                    paths: uPlot.paths.bars({ size: [0.9, 80], align: 1 }) }];
  const axes = [{ label: "handle time (s)", values: (u, ticks) => ticks.map((t) => `${Math.round(t)}`) }, { label: "interactions" }];
  return draw(node, series, [x, y], { axes, scales: { x: { time: false, range: [0, count * width] } } });
}

function niceWidth(raw) {
  const step = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * step).find((w) => w >= raw) || 10 * step;
}
