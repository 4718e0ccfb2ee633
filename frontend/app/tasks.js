// 核查任务: the cases in the worker's grids whose department has reported the work done and
// that wait for someone to look on site. The live feed adds and drops them as they change.
import { useEffect, useState } from "preact/hooks";
import { api } from "/shared/api.js";
import { onCase } from "./feed.js";
import { Empty, errorText, html, Notice, SLA_LABELS, when } from "./ui.js";

const VERIFY_STATE = "reported_back";

export function useTasks() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);

  async function load() {
    try {
      setItems((await api("/api/v1/me/tasks")).items || []);
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
        const known = current.some((c) => c.case_id === summary.case_id);
        if (known && summary.state !== VERIFY_STATE) return current.filter((c) => c.case_id !== summary.case_id);
        if (known) return current.map((c) => (c.case_id === summary.case_id ? summary : c));
        if (summary.state === VERIFY_STATE) { clearTimeout(reload); reload = setTimeout(load, 500); }
        return current;
      });
    });
    return () => { off(); clearTimeout(reload); };
  }, []);
  return { items, error, load };
}

export function TasksScreen({ go, online }) {
  const { items, error, load } = useTasks();
  return html`
    <section class="screen tasks">
      <h1>核查任务 <button type="button" class="link" onClick=${load}>刷新</button></h1>
      <p class="hint">处置部门已反馈、等待现场核查的案件（本人负责的网格）。</p>
      ${!online && html`<${Notice} kind="warn">当前离线，显示的是上次同步的内容<//>`}
      <${Notice} kind="error">${error && items === null ? `未能读取核查任务：${error}` : null}<//>
      <ul class="list">
        ${(items || []).map((c) => html`
          <li key=${c.case_id}>
            <a class="card task" href=${`#/tasks/${c.case_id}`} data-case=${c.case_id}
              onClick=${(e) => { e.preventDefault(); go(`#/tasks/${c.case_id}`); }}>
              <div class="row">
                <b class="case-id">${c.case_id}</b>
                ${SLA_LABELS[c.sla_state] && html`<span class=${`tag sla-${c.sla_state}`}>${SLA_LABELS[c.sla_state]}</span>`}
              </div>
              <p class="text">${c.category_name || "未分类"}${c.department_name ? ` · ${c.department_name}` : ""}</p>
              <p class="meta">${c.address || c.text || ""}</p>
              <p class="meta">更新于 ${when(c.updated_at)}${c.rework_count ? ` · 已返工 ${c.rework_count} 次` : ""}</p>
            </a>
          </li>`)}
      </ul>
      ${items && !items.length && html`<${Empty}>暂无待核查的案件。<//>`}
      ${items === null && !error && html`<p class="hint">正在读取…</p>`}
    </section>`;
}
