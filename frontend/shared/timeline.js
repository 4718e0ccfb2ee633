// A case's timeline, newest last, with "更早的记录" paging back through
// GET /api/v1/cases/{id}/timeline?before_seq=.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api } from "./api.js";
import { KIND, COMMAND, STATE, STAGE, PRIORITY, when, short, actorName, errorText } from "./labels.js";
import { SensorChart } from "./charts.js";
import { Photos } from "./photos.js";

const html = htm.bind(h);

// What an entry's data says, as short phrases (names looked up in ``names``).
function facts(t, names, open) {
  const d = t.data || {}, out = [];
  const dept = (code) => names.departments?.[code] || code;
  const link = (id) => html`<a class="caselink" href=${"#" + id} onClick=${(e) => { if (open) { e.preventDefault(); open(id); } }}>${id}</a>`;
  if (t.kind === "command_rejected") out.push(html`<span class="err">「${COMMAND[d.command] || d.command}」：${d.reason}</span>`);
  if (d.department && ["dispatched", "rerouted"].includes(t.kind)) out.push(`→ ${dept(d.department)}`);
  else if (d.department && ["accepted", "returned"].includes(t.kind)) out.push(dept(d.department));
  if (d.auto) out.push("（自动）");
  if (d.category && t.kind !== "opened") out.push(`类别 ${names.categories?.[d.category] || d.category}`);
  if (d.hours != null) out.push(`${d.hours} 小时`);
  if (d.on_time === true) out.push("按期");
  else if (d.on_time === false) out.push(html`<span class="err">超期</span>`);
  if (d.target_case_id) out.push(html`→ ${link(d.target_case_id)}`);
  if (d.from_case_id) out.push(html`来自 ${link(d.from_case_id)}`);
  if (d.new_case_id) out.push(html`新案件 ${link(d.new_case_id)}`);
  if (d.report_count != null) out.push(html`<span class="muted">共 ${d.report_count} 条上报</span>`);
  if (t.kind === "sla_breached" && d.priority) out.push(`优先级升为${PRIORITY[d.priority] || d.priority}`);
  if (d.deadline && t.kind !== "sla_breached") out.push(html`<span class="muted">${STAGE[d.stage] || d.stage || ""}时限至 ${short(d.deadline)}</span>`);
  if (d.device_id && t.kind.startsWith("sensor_")) out.push(`设备 ${d.device_id}：${d.text || ""}`);
  if (t.reason) out.push(`原因：${t.reason}`);
  if (t.evidence?.notes) out.push(`说明：${t.evidence.notes}`);
  return out.flatMap((x, i) => (i ? [" ", x] : [x]));
}

function Entry({ t, names, open }) {
  const d = t.data || {};
  const cls = t.kind === "command_rejected" ? "bad" : t.kind.startsWith("sla_") ? "alert" : "";
  const chart = t.kind.startsWith("sensor_") && d.device_id && (d.readings || []).length;
  return html`<li class=${cls} data-kind=${t.kind}>
    <b class="kind">${KIND[t.kind] || t.kind}</b> ${facts(t, names, open)}
    <br /><span class="muted">${when(t.at)} · ${actorName(t.actor)} · ${STATE[t.state] || t.state}</span>
    <${Photos} ids=${t.evidence?.photos} />
    ${chart && html`<${SensorChart} sensor=${{ ...d, clear: null }} mark=${d.observed_at} kind=${t.kind === "sensor_verified" ? "mark" : "alarm"} />`}
  </li>`;
}

// c: the case (its ``timeline`` and ``timeline_before_seq``); names: {departments, categories}.
export function Timeline({ c, names = {}, open }) {
  const [older, setOlder] = useState({ items: [], before: c.timeline_before_seq, busy: false, error: "" });
  useEffect(() => setOlder({ items: [], before: c.timeline_before_seq, busy: false, error: "" }), [c.case_id]);
  const before = older.items.length ? older.before : c.timeline_before_seq;
  async function more() {
    setOlder((o) => ({ ...o, busy: true }));
    try {
      const page = await api(`/api/v1/cases/${encodeURIComponent(c.case_id)}/timeline?before_seq=${before}&size=50`);
      setOlder((o) => ({ items: [...page.items, ...o.items], before: page.before_seq, busy: false, error: "" }));
    } catch (e) {
      setOlder((o) => ({ ...o, busy: false, error: `时间线加载失败：${errorText(e)}` }));
    }
  }
  const first = c.timeline[0]?.seq ?? Infinity;
  const entries = [...older.items.filter((t) => t.seq < first), ...c.timeline];
  return html`<section class="timeline">
    <h3>时间线 <span class="muted">${entries.length} 条</span></h3>
    ${before && html`<button class="older" disabled=${older.busy} onClick=${more}>${older.busy ? "加载中…" : "更早的记录"}</button>`}
    ${older.error && html`<p class="err">${older.error}</p>`}
    <ol>${entries.map((t) => html`<${Entry} key=${t.seq} t=${t} names=${names} open=${open} />`)}</ol>
  </section>`;
}
