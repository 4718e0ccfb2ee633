// 我的上报: the worker's reports as the API knows them (newest first), each with its case
// number and the case's state, kept current by the live feed. Drafts not yet accepted
// are listed first, from the outbox.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "/shared/api.js";
import { onCase } from "./feed.js";
import { isReport, SENT, STATE_LABELS } from "./outbox.js";
import { useOutbox } from "./outbox-view.js";
import { Empty, errorText, html, Notice, StateTag, when } from "./ui.js";

// Reports this phone sent that the list does not show with a case yet: while there are
// any, a case event the list does not know may be theirs, and the list is read again.
function waiting(items, sent) {
  const cased = new Set(items.filter((r) => r.case_id).map((r) => r.report_id));
  return items.some((r) => !r.case_id) || sent.some((id) => !cased.has(id));
}

function useMyReports(sent) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const expected = useRef(sent);
  expected.current = sent;

  async function load() {
    try {
      const data = await api("/api/v1/me/reports");
      setItems(data.items || []);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }

  useEffect(() => {
    load();
    let reload = null;
    const off = onCase((summary) => {
      setItems((current) => {
        if (!current) return current;
        if (!current.some((r) => r.case_id === summary.case_id)) {
          if (!waiting(current, expected.current)) return current; // a task, not a report of mine
          clearTimeout(reload);
          reload = setTimeout(load, 800);
          return current;
        }
        return current.map((r) => (r.case_id === summary.case_id
          ? { ...r, state: summary.state, state_label: summary.state_label }
          : r));
      });
    });
    return () => { off(); clearTimeout(reload); };
  }, []);

  // and read again now and then while a report still waits for its case (the feed may have
  // told of it before this list could show it)
  const delay = useRef(2000);
  useEffect(() => {
    if (!items || !waiting(items, expected.current)) { delay.current = 2000; return undefined; }
    const timer = setTimeout(load, delay.current);
    delay.current = Math.min(delay.current * 2, 60_000);
    return () => clearTimeout(timer);
  }, [items]);
  return { items, error, load };
}

export function MyReportsScreen({ online }) {
  const records = useOutbox().filter(isReport);
  const drafts = records.filter((r) => r.state !== SENT);
  const { items, error, load } = useMyReports(records.filter((r) => r.state === SENT).map((r) => r.report_id));
  return html`
    <section class="screen mine">
      <h1>我的上报 <button type="button" class="link" onClick=${load}>刷新</button></h1>
      ${!online && html`<${Notice} kind="warn">当前离线，显示的是上次同步的内容<//>`}
      <${Notice} kind="error">${error && items === null ? `未能读取我的上报：${error}` : null}<//>
      <ul class="list">
        ${drafts.map((d) => html`
          <li class="card report draft" key=${d.key}>
            <div class="row"><span class=${`tag outbox-${d.state}`}>${STATE_LABELS[d.state]}</span><time>${when(d.created_at)}</time></div>
            <p class="text">${d.text}</p>
            <p class="meta">尚未提交到平台</p>
          </li>`)}
        ${(items || []).map((r) => html`
          <li class="card report" key=${r.report_id} data-report=${r.report_id}>
            <div class="row">
              <${StateTag} state=${r.case_id ? r.state : "none"} label=${r.case_id ? r.state_label : "立案中"} />
              <time>${when(r.received_at)}</time>
            </div>
            <p class="text">${r.text}</p>
            <p class="meta">${r.case_id ? html`案件号 <b class="case-id">${r.case_id}</b>` : "正在生成案件…"}</p>
          </li>`)}
      </ul>
      ${items && !items.length && !drafts.length && html`<${Empty}>还没有上报。点「上报」记录发现的问题。<//>`}
      ${items === null && !error && html`<p class="hint">正在读取…</p>`}
    </section>`;
}
