// One case: which one is open (the address's #LG…), fetched again whenever its version
// changes (a live event or an action's outcome), its sources (what was reported, by whom,
// with photos), and whether an extension waits for a decision.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api } from "./api.js";
import { SOURCE, when } from "./labels.js";
import { learn } from "./taxonomy.js";
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
    }).catch((e) => live && setState((s) => ({ c: s.c?.case_id === id ? s.c : null, error: e.message })));
    return () => { live = false; };
  }, [id, version]);
  return state.c?.case_id === id ? state : { c: null, error: state.error };
}

function Source({ s }) {
  const who = s.sensor ? `设备 ${s.sensor.device_id}` : s.source_type === "proactive" ? "系统" : (s.reporter?.name || s.reporter?.id || "");
  return html`<li><span class=${`tag src-${s.source_type}`}>${SOURCE[s.source_type] || s.source_type}</span>
    <span class="muted"> ${who} · ${when(s.received_at || s.occurred_at)}</span><br />${s.text}
    <${Photos} ids=${s.photos} /></li>`;
}

export function Sources({ c }) {
  const sources = c.sources || [];
  return html`<section class="sources"><h3>来源 <span class="muted">${c.report_count ?? sources.length} 条</span></h3>
    <ol class="sources">${sources.map((s) => html`<${Source} key=${s.source_id} s=${s} />`)}</ol></section>`;
}
