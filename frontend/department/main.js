// The department's view: its own cases (the API scopes the list to its department and
// town), live over SSE; one case at a time to accept, report back on, return or extend.
import { h, render } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";
import { useScreen } from "/shared/api.js";
import { useOpenCase } from "/shared/cases.js";
import { Gate, UserBadge } from "/shared/login.js";
import { useLiveQueue, useNow } from "/shared/queue.js";
import { learn, useNames } from "/shared/taxonomy.js";
import { Toasts, useToasts } from "/shared/toast.js";
import { Countdown, SlaBadge, StateTag } from "/shared/badges.js";
import { when } from "/shared/labels.js";
import { useGridNames } from "/shared/map.js";
import { CaseView } from "./case.js";

const html = htm.bind(h);
const VIEWS = [
  ["", "全部待办"], ["dispatched", "待受理"], ["in_progress", "处置中"], ["reported_back", "已反馈待核查"], ["closed", "已结案"],
];
const PAGE_SIZE = 50;
useScreen("department");

function Queue({ queue, selected, open }) {
  const now = useNow();
  const grids = useGridNames();
  if (queue.error) return html`<p class="err">加载失败：${queue.error}</p>`;
  if (!queue.loaded) return html`<p class="muted">加载中…</p>`;
  if (!queue.items.length) return html`<p class="muted" id="rows">暂无案件</p>`;
  return html`<ul class="cards" id="rows">${queue.items.map((c) => html`<li key=${c.case_id} data-id=${c.case_id}
      class=${`case row-${c.sla_state} ${c.case_id === selected ? "sel" : ""} ${queue.fresh.has(c.case_id) ? "fresh" : ""}`}
      onClick=${() => open(c.case_id)}>
    <div class="line"><b class=${`p-${c.priority}`}>${c.case_id}</b> <${StateTag} c=${c} /> <${SlaBadge} s=${c.sla_state} />
      <span class="right"><${Countdown} c=${c} now=${now} /></span></div>
    <div class="line">${c.category_name || "—"} · <span class="muted">${c.address || grids[c.grid] || c.grid || ""}</span></div>
    <div class="text" title=${when(c.created_at)}>${c.text}</div>
  </li>`)}</ul>`;
}

function Department({ user }) {
  const names = useNames();
  const [state, setState] = useState("");
  const [page, setPage] = useState(1);
  const [selected, open] = useOpenCase();
  const [version, setVersion] = useState(0);
  const [toasts, toast] = useToasts();
  const query = new URLSearchParams({ sort: "queue", size: String(PAGE_SIZE), page: String(page), ...(state ? { state } : {}) }).toString();
  const queue = useLiveQueue(query, {
    onCase: (c) => { learn(c); if (c.case_id === location.hash.slice(1)) setVersion((v) => v + 1); },
  });
  const me = { ...user, department_name: names.departments[user.department], town_name: names.towns[user.town] };
  function done(outcome) {
    toast(outcome);
    setVersion((v) => v + 1);
    queue.reload();
  }
  return html`<div class="department">
    <header class="top">
      <h1>临港新片区 一网统管</h1><span class="sub">处置部门</span>
      <span class=${`livedot ${queue.live}`} title="案件变化实时推送">${queue.live === "open" ? "实时" : "连接中…"}</span>
      <${UserBadge} user=${me} />
    </header>
    <main class="work">
      <div class="queuebox">
        <nav class="views">${VIEWS.map(([value, label]) => html`<button type="button" class=${value === state ? "on" : ""}
          onClick=${() => { setState(value); setPage(1); }}>${label}</button>`)}</nav>
        <p class="muted" id="total">${names.departments[user.department] || user.department} · ${names.towns[user.town] || user.town}：共 ${queue.total} 件</p>
        <div class="listbox"><${Queue} queue=${queue} selected=${selected} open=${open} /></div>
        ${queue.total > PAGE_SIZE && html`<p class="pager"><button disabled=${page <= 1} onClick=${() => setPage(page - 1)}>上一页</button>
          第 ${page} 页 / 共 ${Math.ceil(queue.total / PAGE_SIZE)} 页
          <button disabled=${page * PAGE_SIZE >= queue.total} onClick=${() => setPage(page + 1)}>下一页</button></p>`}
      </div>
      <div class="casebox"><${CaseView} id=${selected} version=${version} names=${names} onDone=${done} open=${open} onLoaded=${queue.patch} /></div>
    </main>
    <${Toasts} items=${toasts} onDismiss=${toast.dismiss} />
  </div>`;
}

function App() {
  return html`<${Gate} title="处置部门" roles=${["department"]}>${(user) => html`<${Department} user=${user} />`}<//>`;
}

const root = document.getElementById("root");
root.textContent = "";
render(html`<${App} />`, root);
