// A sensor's readings as a small inline-SVG line chart (no chart library: the screens work
// offline). The threshold is dashed, the clear level light; the alarm (or signal) is a dot.
//
// sensor: {device_id, unit, threshold, clear, readings: [{at, value}]}; mark: the alarm's
// time; kind: "alarm" (red) or "mark" (green, a recovery).
import { h } from "preact";
import htm from "htm";
import { hhmm } from "./labels.js";

const html = htm.bind(h);
const W = 380, H = 160, L = 44, R = 10, T = 10, B = 22;

const num = (x) => (x == null || x === "" || !Number.isFinite(Number(x)) ? null : Number(x));
const fmt = (x) => String(Math.round(x * 100) / 100);

// The reading nearest to ``iso``, or -1 when ``iso`` lies off the readings by over a step.
function nearest(points, iso) {
  const t = Date.parse(iso || "");
  if (!Number.isFinite(t)) return -1;
  const step = points.length > 1 ? (points[points.length - 1].t - points[0].t) / (points.length - 1) : 60_000;
  if (t < points[0].t - step || t > points[points.length - 1].t + step) return -1;
  let best = -1, gap = Infinity;
  points.forEach((p, i) => { const d = Math.abs(p.t - t); if (d < gap) { gap = d; best = i; } });
  return best;
}

function scale(points, threshold, clear) {
  const levels = [...points.map((p) => p.v), threshold, clear].filter((v) => v != null);
  let lo = Math.min(...levels), hi = Math.max(...levels);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  lo -= pad; hi += pad;
  const t0 = points[0].t, span = points[points.length - 1].t - t0 || 60_000;
  return {
    lo: lo + pad, hi: hi - pad,
    x: (t) => L + ((W - L - R) * (t - t0)) / span,
    y: (v) => T + ((H - T - B) * (hi - v)) / (hi - lo),
  };
}

export function SensorChart({ sensor, mark, kind = "alarm" }) {
  const unit = sensor.unit || "", threshold = num(sensor.threshold), clear = num(sensor.clear);
  const title = `设备 ${sensor.device_id} 读数` + (threshold != null ? `（阈值 ${fmt(threshold)} ${unit}）` : "");
  const points = (sensor.readings || []).map((r) => ({ t: Date.parse(r.at), v: num(r.value), at: r.at }))
    .filter((p) => Number.isFinite(p.t) && p.v != null).sort((a, b) => a.t - b.t);
  if (!points.length) return html`<figure class="chart"><figcaption>${title}</figcaption><span class="muted">无读数</span></figure>`;
  const { x, y, lo, hi } = scale(points, threshold, clear);
  // Above-threshold alarms clear below it; below-threshold ones (a dark lamp) clear above it.
  const above = clear == null || threshold == null || clear <= threshold;
  const breached = (v) => threshold != null && (above ? v >= threshold : v <= threshold);
  let at = nearest(points, mark);
  if (at < 0 && kind === "alarm") at = points.findIndex((p) => breached(p.v));
  const level = (v, cls, name) => v != null && html`<line class=${cls} stroke-dasharray=${cls === "threshold" ? "5 3" : "2 3"}
    x1=${L} x2=${W - R} y1=${y(v).toFixed(1)} y2=${y(v).toFixed(1)}><title>${name} ${fmt(v)} ${unit}</title></line>`;
  const ticks = [...new Set([0, Math.floor((points.length - 1) / 2), points.length - 1])];
  return html`<figure class="chart"><figcaption>${title}</figcaption>
    <svg class="readings" data-device=${sensor.device_id} viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-label=${title}>
      <line class="axis" x1=${L} x2=${L} y1=${T} y2=${H - B} /><line class="axis" x1=${L} x2=${W - R} y1=${H - B} y2=${H - B} />
      <text x="4" y=${T + 8}>${unit}</text>
      <text x=${L - 4} y=${(y(lo) + 3).toFixed(1)} text-anchor="end">${fmt(lo)}</text>
      <text x=${L - 4} y=${(y(hi) + 3).toFixed(1)} text-anchor="end">${fmt(hi)}</text>
      ${level(clear, "clear", "恢复")}${level(threshold, "threshold", "阈值")}
      ${threshold != null && html`<text x=${W - R - 2} y=${(y(threshold) - 3).toFixed(1)} text-anchor="end" class="thlabel">阈值 ${fmt(threshold)}</text>`}
      <polyline class="series" points=${points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")} />
      ${at >= 0 && html`<circle class=${kind} cx=${x(points[at].t).toFixed(1)} cy=${y(points[at].v).toFixed(1)} r="4">
        <title>${kind === "alarm" ? "报警" : "信号"} ${hhmm(points[at].at)} ${fmt(points[at].v)} ${unit}</title></circle>`}
      ${ticks.map((i, n) => html`<text x=${x(points[i].t).toFixed(1)} y=${H - 6}
        text-anchor=${ticks.length > 1 && n === ticks.length - 1 ? "end" : n === 0 ? "start" : "middle"}>${hhmm(points[i].at)}</text>`)}
    </svg></figure>`;
}
