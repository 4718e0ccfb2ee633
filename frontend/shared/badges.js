// Small pieces of a case every screen draws the same way: its state, its time-limit badge,
// and the live countdown to its deadline.
import { h } from "preact";
import htm from "htm";
import { STATE, SLA, countdown, when } from "./labels.js";

const html = htm.bind(h);

export const StateTag = ({ c }) => html`<span class=${`tag s-${c.state}`}>${STATE[c.state] || c.state_label || c.state}</span>`;
export const SlaBadge = ({ s }) => (SLA[s] ? html`<span class=${`sla sla-${s}`}>${SLA[s]}</span>` : null);

// now: ms since epoch, from useNow() in shared/queue.js, so every row ticks together.
export function Countdown({ c, now }) {
  if (c.state === "deferred") return html`<span class="muted">计时暂停</span>`;
  if (!c.deadline) return html`<span class="muted">—</span>`;
  if (String(c.stage || "").endsWith(":stopped")) return html`<span class="muted" title=${when(c.deadline)}>计时已停</span>`;
  const left = new Date(c.deadline).getTime() - now;
  const cls = left < 0 ? "over" : left < 3600_000 ? "near" : "";
  return html`<span class=${`countdown ${cls}`} title=${`时限 ${when(c.deadline)}`}>${countdown(c.deadline, now)}</span>`;
}
