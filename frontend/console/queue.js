// The dispatcher's queue: filters (status, department, town, class, source type, 净畅宁和美
// dimension, time limit, keywords) and the table, most urgent first, with live countdowns.
import { h } from "preact";
import htm from "htm";
import { STATE, SOURCE, SLA, PRIORITY, DIMENSIONS, when } from "/shared/labels.js";
import { Countdown, SlaBadge, StateTag } from "/shared/badges.js";
import { useNow } from "/shared/queue.js";

const html = htm.bind(h);
export const PAGE_SIZE = 50;
export const NO_FILTERS = { state: "", department: "", town: "", category: "", source_type: "", dimension: "", sla_state: "", q: "" };

export function queryOf(filters, page) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) p.append(k, v);
  p.set("sort", "queue");
  p.set("page", page);
  p.set("size", PAGE_SIZE);
  return p.toString();
}

function Select({ name, value, set, all, options, title }) {
  return html`<select name=${name} title=${title} value=${value} onChange=${(e) => set(name, e.target.value)}>
    <option value="">${all}</option>
    ${options.map(([code, label]) => html`<option value=${code}>${label}</option>`)}
  </select>`;
}

export function Filters({ filters, onChange, names }) {
  const set = (k, v) => onChange({ ...filters, [k]: v });
  const byName = (table) => Object.entries(table).sort((a, b) => a[1].localeCompare(b[1], "zh-CN"));
  const classes = names.classes.length
    ? names.classes.filter((c) => !filters.department || !c.department || c.department === filters.department).map((c) => [c.code, `${c.name}（${c.code}）`])
    : byName(names.categories);
  return html`<form class="filters" onSubmit=${(e) => { e.preventDefault(); set("q", new FormData(e.target).get("q").trim()); }}>
    <${Select} name="state" value=${filters.state} set=${set} all="待办（未办结）" title="状态" options=${Object.entries(STATE)} />
    <${Select} name="department" value=${filters.department} set=${set} all="全部部门" title="责任部门" options=${byName(names.departments)} />
    <${Select} name="town" value=${filters.town} set=${set} all="全部街镇" title="街镇" options=${byName(names.towns)} />
    <${Select} name="category" value=${filters.category} set=${set} all="全部类别" title="类别" options=${classes} />
    <${Select} name="source_type" value=${filters.source_type} set=${set} all="全部来源" title="来源类型" options=${Object.entries(SOURCE)} />
    <${Select} name="dimension" value=${filters.dimension} set=${set} all="净畅宁和美" title="维度" options=${DIMENSIONS.map((d) => [d, d])} />
    <${Select} name="sla_state" value=${filters.sla_state} set=${set} all="全部时限" title="时限" options=${Object.entries(SLA)} />
    <input name="q" placeholder="关键词 回车筛选" size="14" value=${filters.q} />
    ${Object.values(filters).some(Boolean) && html`<button type="button" class="link" onClick=${() => onChange(NO_FILTERS)}>清除</button>`}
  </form>`;
}

function Row({ c, selected, fresh, now, onOpen }) {
  return html`<tr class=${`case row-${c.sla_state} ${selected ? "sel" : ""} ${fresh ? "fresh" : ""}`} data-id=${c.case_id}
      onClick=${() => onOpen(c.case_id)}>
    <td class=${`id p-${c.priority}`} title=${`优先级：${PRIORITY[c.priority] || c.priority || "—"}`}>${c.case_id}</td>
    <td><${StateTag} c=${c} /></td>
    <td class="nw"><${SlaBadge} s=${c.sla_state} /> <${Countdown} c=${c} now=${now} /></td>
    <td class="nw">${c.category_name || "—"} <span class="muted">${c.dimension || ""}</span></td>
    <td class="nw">${c.department_name || c.department || "未定"}</td>
    <td class="nw">${c.town_name || "辖区外"}</td>
    <td class="text" title=${`${c.text || ""}\n上报于 ${when(c.created_at)}`}>${c.text || ""}</td>
  </tr>`;
}

export function QueueTable({ queue, selected, onOpen }) {
  const now = useNow();
  const { items, loaded, error, fresh } = queue;
  let body;
  if (error) body = html`<tr><td colspan="7" class="err">加载失败：${error}</td></tr>`;
  else if (!loaded) body = html`<tr><td colspan="7" class="muted">加载中…</td></tr>`;
  else if (!items.length) body = html`<tr><td colspan="7" class="muted">暂无案件</td></tr>`;
  else body = items.map((c) => html`<${Row} key=${c.case_id} c=${c} now=${now} selected=${c.case_id === selected}
    fresh=${fresh.has(c.case_id)} onOpen=${onOpen} />`);
  return html`<table class="queue">
    <thead><tr><th>案件号</th><th>状态</th><th title="排序：超期、临期在前；同档按优先级，再按剩余时间">时限倒计时 ↑</th><th>类别</th><th>责任部门</th><th>街镇</th><th>描述</th></tr></thead>
    <tbody id="rows">${body}</tbody>
  </table>`;
}
