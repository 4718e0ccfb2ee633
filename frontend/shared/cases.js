// One case: which one is open (the address's #LG…), fetched again whenever its version
// changes (a live event or an action's outcome), its sources (what was reported, by whom,
// with photos), and whether an extension waits for a decision.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api } from "./api.js";
import { SOURCE, when, errorText } from "./labels.js";
import { learn, useNames } from "./taxonomy.js";
import { Photos } from "./photos.js";

const html = htm.bind(h);
const CASE_ID = /^LG[A-Z2-7]{12}$/;

// The open case follows the address (#LG…), so a link, Back and a reload all work.
export function useOpenCase() {
  const read = () => (CASE_ID.test(location.hash.slice(1)) ? location.hash.slice(1) : null);
  const [id, setId] = useState(read);
  useEffect(() => {
    const on = () => setId(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const open = (next) => { if (next !== read()) location.hash = next; setId(next); };
  return [id, open];
}

export function extensionPending(c) {
  let asked = 0, decided = 0;
  for (const t of c.timeline || []) {
    if (t.kind === "extension_requested") asked = t.seq;
    if (t.kind === "extension_approved" || t.kind === "extension_denied") decided = t.seq;
  }
  return asked > decided;
}

export function useCase(id, version, onLoaded) {
  const [state, setState] = useState({ c: null, error: "" });
  useEffect(() => {
    if (!id) { setState({ c: null, error: "" }); return undefined; }
    let live = true;
    api(`/api/v1/cases/${encodeURIComponent(id)}`).then((c) => {
      learn(c);
      if (live) { setState({ c, error: "" }); onLoaded?.(c); }
    }).catch((e) => live && setState((s) => ({ c: s.c?.case_id === id ? s.c : null, error: errorText(e) })));
    return () => { live = false; };
  }, [id, version]);
  return state.c?.case_id === id ? state : { c: null, error: state.error };
}

function Source({ s, names }) {
  // a case's source brief names its reporter by id (services/indexer/document.py)
  const reporter = typeof s.reporter === "string" ? s.reporter : (s.reporter?.name || s.reporter?.id || "");
  const who = s.sensor ? `设备 ${s.sensor.device_id}` : s.source_type === "proactive" ? "系统" : reporter;
  const picked = s.category_hint && (names.categories[s.category_hint] || s.category_hint);
  return html`<li><span class=${`tag src-${s.source_type}`}>${SOURCE[s.source_type] || s.source_type}</span>
    <span class="muted"> ${who} · ${when(s.received_at || s.occurred_at)}</span>
    ${picked && html`<span class="tag hint" title="上报人自选的类别，供参考">上报人选：${picked}</span>`}<br />${s.text}
    <${Photos} ids=${s.photos} /></li>`;
}

export function Sources({ c }) {
  const sources = c.sources || [];
  const names = useNames();
  return html`<section class="sources"><h3>来源 <span class="muted">${c.report_count ?? sources.length} 条</span></h3>
    <ol class="sources">${sources.map((s) => html`<${Source} key=${s.source_id} s=${s} names=${names} />`)}</ol></section>`;
}

// The latest timeline entry of ``kind`` (the timeline is in seq order).
export function latest(c, kind) {
  const found = (c.timeline || []).filter((t) => t.kind === kind);
  return found[found.length - 1] || null;
}

// What waits for the dispatcher's decision, drawn above the buttons: the department's
// report (核查) or its request for more time (延期审批).
export function Awaiting({ c }) {
  const report = c.state === "reported_back" && latest(c, "reported_back");
  const ask = c.state === "in_progress" && extensionPending(c) && latest(c, "extension_requested");
  if (!report && !ask) return null;
  const t = report || ask;
  return html`<div class="awaiting">
    <b>${report ? "部门反馈，待核查" : `申请延期 ${t.data?.hours ?? ""} 小时，待审批`}</b>
    <span class="muted"> ${t.actor?.name || t.actor?.id || ""} · ${when(t.at)}</span>
    ${t.evidence?.notes && html`<p>${t.evidence.notes}</p>`}
    ${t.reason && html`<p>原因：${t.reason}</p>`}
    <${Photos} ids=${t.evidence?.photos} />
  </div>`;
}
