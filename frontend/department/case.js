// One case, as the department sees it: what to fix and where, the time left, the actions.
import { h } from "preact";
import htm from "htm";
import { PRIORITY, when, stageOf } from "/shared/labels.js";
import { useCase, Sources } from "/shared/cases.js";
import { GridMap, useGridNames } from "/shared/map.js";
import { Timeline } from "/shared/timeline.js";
import { ActionBar } from "/shared/actionbar.js";
import { useNow } from "/shared/queue.js";
import { Countdown, SlaBadge, StateTag } from "/shared/badges.js";
import { DEPARTMENT_ACTIONS } from "./actions.js";

const html = htm.bind(h);
// Why a case in the department's list has nothing for it to do.
const IDLE = {
  pending: "待派遣台立案派遣", registered: "已退回派遣台，等待重新派遣", reported_back: "已反馈，等待核查",
  verified: "核查通过，等待结案", deferred: "派遣台已缓办，计时暂停", closed: "已结案",
};

function Deadline({ c }) {
  const now = useNow();
  if (c.state === "deferred") return html`缓办中，计时暂停`;
  if (!c.deadline) return html`<span class="muted">—</span>`;
  return html`${stageOf(c).label}时限 ${when(c.deadline)}（<${Countdown} c=${c} now=${now} />） <${SlaBadge} s=${c.sla_state} />`;
}

export function CaseView({ id, version, names, onDone, open, onLoaded }) {
  const { c, error } = useCase(id, version, onLoaded);
  const grids = useGridNames();
  if (!id) return html`<section class="case empty"><p class="muted">选择左侧案件查看详情并办理。</p></section>`;
  if (!c) return html`<section class="case"><p class=${error ? "err" : "muted"}>${error || "加载中…"}</p></section>`;
  const place = [c.address, c.town_name, grids[c.grid] || c.grid].filter(Boolean).join(" · ");
  return html`<section class="case" data-case=${c.case_id}>
    <h2>${c.case_id} <${StateTag} c=${c} /> <${SlaBadge} s=${c.sla_state} />
      <span class=${`tag p-${c.priority}`}>${PRIORITY[c.priority] || c.priority || ""}</span></h2>
    <p class="text">${c.text}</p>
    <p class="muted">${place}</p>
    <${ActionBar} key=${c.case_id} c=${c} actions=${DEPARTMENT_ACTIONS} ctx=${{ names }} onDone=${onDone} title="办理"
      idle=${IDLE[c.state] || "当前状态无可用操作"} />
    <div class="casegrid">
      <dl class="facts">
        <dt>类别</dt><dd>${c.category_name || "—"}（${c.category || "—"}） · ${c.dimension || ""}</dd>
        <dt>时限</dt><dd><${Deadline} c=${c} /></dd>
        <dt>办理</dt><dd>上报 ${c.report_count} 条 · 返工 ${c.rework_count} 次 · 退单 ${c.returned_count} 次</dd>
      </dl>
      <${GridMap} location=${c.location} grid=${c.grid} label=${place} height=${220} />
    </div>
    <${Sources} c=${c} />
    <${Timeline} c=${c} names=${names} open=${open} />
  </section>`;
}
