// 我的上报: the worker's reports as the API knows them (newest first), each with its case
// number and the case's state, kept current by the live feed. Drafts not yet accepted
// are listed first, from the outbox.
import { useEffect, useState } from "preact/hooks";
import { api } from "/shared/api.js";
import { onCase } from "./feed.js";
import { SENT, STATE_LABELS } from "./outbox.js";
import { useOutbox } from "./outbox-view.js";
import { Empty, errorText, html, Notice, StateTag, when } from "./ui.js";

function useMyReports() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);

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
          if (current.every((r) => r.case_id)) return current; // someone else's case (a task)
          // maybe the case of a report that had none yet: read the list again, once
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
  return { items, error, load };
}

export function MyReportsScreen({ online }) {
  const { items, error, load } = useMyReports();
  const drafts = useOutbox().filter((r) => r.state !== SENT);
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
