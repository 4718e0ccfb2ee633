// One case, as the dispatcher sees it: what was reported (text, photos, sensor readings),
// where (the unit-grid map), what the classifier suggested, look-alike cases nearby with a
// one-click 合并, the actions, and the whole timeline.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api } from "/shared/api.js";
import { send } from "/shared/commands.js";
import { PRIORITY, pct, when, stageOf, errorText } from "/shared/labels.js";
import { useCase, Sources, Awaiting } from "/shared/cases.js";
import { GridMap, useGridNames } from "/shared/map.js";
import { SensorChart } from "/shared/charts.js";
import { Timeline } from "/shared/timeline.js";
import { ActionBar } from "/shared/actionbar.js";
import { useNow } from "/shared/queue.js";
import { Countdown, SlaBadge, StateTag } from "/shared/badges.js";
import { DISPATCHER_ACTIONS } from "./actions.js";

const html = htm.bind(h);

function Deadline({ c }) {
  const now = useNow();
  if (c.state === "deferred") return html`缓办中，计时暂停`;
  if (!c.deadline) return html`<span class="muted">—</span>`;
  const { label } = stageOf(c);
  return html`${label}时限 ${when(c.deadline)}（<${Countdown} c=${c} now=${now} />） <${SlaBadge} s=${c.sla_state} />`;
}

// The classifier's top suggestions. A suggestion's confidence is its class's probability;
// the case's ``confidence`` is its department's (the classes of one department added up,
// docs/router.md "Top-3 and departments"), which decides auto-dispatch.
function Suggestions({ c, names }) {
  const top = c.suggestions || [];
  return html`<section class="suggestions">
    <h3>分类建议 <span class="muted">模型 ${c.model_version || "—"}</span></h3>
    <p class="deptconf">建议部门 <b>${c.department_name || names.departments[c.department] || c.department || "未定"}</b>
      · 部门置信度 <b>${pct(c.confidence)}</b> <span class="muted">（该部门各类别概率之和，决定是否自动派遣）</span></p>
    ${top.length ? html`<ol class="top3">${top.slice(0, 3).map((s) => html`<li>
        <b>${s.category_name}</b> <span class="muted">${s.category}</span> → ${names.departments[s.department] || s.department}
        <span class="conf">类别置信度 ${pct(s.confidence)}</span>
        <span class="bar"><span style=${`width:${Math.round((s.confidence || 0) * 100)}%`}></span></span></li>`)}</ol>`
      : html`<p class="muted">无分类建议</p>`}
  </section>`;
}

// Look-alike cases nearby; 合并 keeps the older case and merges the newer into it.
function Similar({ c, items, error, canAct, onDone }) {
  const [busy, setBusy] = useState("");
  async function merge(other) {
    const keepOther = new Date(other.created_at) <= new Date(c.created_at);
    const [from, into] = keepOther ? [c.case_id, other.case_id] : [other.case_id, c.case_id];
    setBusy(other.case_id);
    const outcome = await send(from, { kind: "merge", target_case_id: into }, { label: `合并 ${from} → ${into}` });
    setBusy("");
    onDone(outcome);
  }
  return html`<section class="similar">
    <h3>相似案件 <span class="muted">附近可能是同一件事</span></h3>
    ${error ? html`<p class="muted">相似案件暂不可用：${error}</p>`
      : !items ? html`<p class="muted">查找中…</p>`
      : !items.length ? html`<p class="muted">附近没有相似案件</p>`
      : html`<ul>${items.map((s) => html`<li data-similar=${s.case_id}>
          <a class="caselink" href=${"#" + s.case_id}>${s.case_id}</a> <span class=${`tag s-${s.state}`}>${s.state_label}</span>
          ${" "}${s.category_name} · 相距 ${s.distance_m != null ? `${Math.round(s.distance_m)} 米` : "—"} · 相似度 ${Math.round(Number(s.score || 0) * 100)}%
          <br /><span class="muted">${s.text}</span>
          ${canAct && html` <button type="button" class="merge" disabled=${Boolean(busy)} title="两案合为一案：较新的并入较早的" onClick=${() => merge(s)}>合并</button>`}
        </li>`)}</ul>`}
  </section>`;
}

// The open case's look-alikes, asked again on each new version; the list shown stays until
// the new answer comes, unless another case was opened.
function useSimilar(id, version) {
  const [state, setState] = useState({ id: "", items: null, error: "" });
  useEffect(() => {
    if (!id) return undefined;
    let live = true;
    setState((prev) => (prev.id === id ? prev : { id, items: null, error: "" }));
    api(`/api/v1/cases/${encodeURIComponent(id)}/similar`)
      .then((body) => live && setState({ id, items: body.items || [], error: "" }))
      .catch((e) => live && setState({ id, items: null, error: errorText(e) }));
    return () => { live = false; };
  }, [id, version]);
  return state.id === id ? state : { items: null, error: "" };
}

export function CaseView({ id, version, nearby, user, names, onDone, open, onLoaded }) {
  const { c, error } = useCase(id, version, onLoaded);
  const similar = useSimilar(id, `${version}.${nearby}`);
  const grids = useGridNames();
  if (!id) return html`<section class="case empty"><p class="muted">选择左侧案件查看详情；<kbd>J</kbd>/<kbd>K</kbd> 上下切换。</p></section>`;
  if (!c) return html`<section class="case"><p class=${error ? "err" : "muted"}>${error || "加载中…"}</p></section>`;
  const canAct = user.role === "dispatcher" || user.role === "admin";
  const charts = (c.sources || []).filter((s) => s.sensor);
  const place = [c.address, c.town_name || "辖区外", grids[c.grid] || c.grid].filter(Boolean).join(" · ");
  return html`<section class="case" data-case=${c.case_id}>
    <h2>${c.case_id} <${StateTag} c=${c} /> <${SlaBadge} s=${c.sla_state} />
      <span class=${`tag p-${c.priority}`}>${PRIORITY[c.priority] || c.priority || ""}</span>
      ${c.auto_dispatched && html`<span class="tag">自动派遣</span>`}</h2>
    <p class="text">${c.text}</p>
    <p class="muted">${place}</p>
    <${Awaiting} c=${c} />
    ${canAct ? html`<${ActionBar} key=${c.case_id} c=${c} actions=${DISPATCHER_ACTIONS} ctx=${{ names, similar: similar.items }} onDone=${onDone} title="调度操作" />`
      : html`<p class="muted readonly">只读：${user.role_label || "管理者"}可查看，不能操作案件</p>`}
    <div class="casegrid">
      <div>
        <dl class="facts">
          <dt>类别</dt><dd>${c.category_name || "—"}（${c.category || "—"}） · ${c.dimension || ""}</dd>
          <dt>责任部门</dt><dd>${c.department_name || c.department || "未定"}</dd>
          <dt>时限</dt><dd><${Deadline} c=${c} /></dd>
          <dt>办理</dt><dd>上报 ${c.report_count} 条 · 返工 ${c.rework_count} 次 · 退单 ${c.returned_count} 次</dd>
          ${c.merged_into && html`<dt>已合并到</dt><dd><a class="caselink" href=${"#" + c.merged_into}>${c.merged_into}</a></dd>`}
        </dl>
        <${Suggestions} c=${c} names=${names} />
      </div>
      <${GridMap} location=${c.location} grid=${c.grid} label=${place} height=${230} />
    </div>
    ${charts.map((s) => html`<${SensorChart} sensor=${s.sensor} mark=${s.occurred_at} kind="alarm" />`)}
    <${Sources} c=${c} />
    <${Similar} c=${c} items=${similar.items} error=${similar.error} canAct=${canAct} onDone=${onDone} />
    <${Timeline} c=${c} names=${names} open=${open} />
  </section>`;
}
