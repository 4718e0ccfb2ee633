// The dispatcher's console: sign-in, the live queue, one case with its actions, and the
// figures and boards above them. Dispatchers and admins act; managers read.
import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { useScreen } from "/shared/api.js";
import { useOpenCase } from "/shared/cases.js";
import { Gate, UserBadge } from "/shared/login.js";
import { useLiveQueue } from "/shared/queue.js";
import { learn, useNames } from "/shared/taxonomy.js";
import { Toasts, useToasts } from "/shared/toast.js";
import { Filters, QueueTable, NO_FILTERS, PAGE_SIZE, queryOf } from "./queue.js";
import { CaseView } from "./case.js";
import { Figures, Hotspots, Faults } from "./boards.js";

const html = htm.bind(h);
useScreen("console");

// The filters outlive a reload of the tab (not the tab itself).
const FILTERS_KEY = "cityops.console.filters";
function savedFilters() {
  try { return { ...NO_FILTERS, ...JSON.parse(sessionStorage.getItem(FILTERS_KEY) || "{}") }; } catch { return NO_FILTERS; }
}

function Console({ user }) {
  const names = useNames();
  const [filters, setFilters] = useState(savedFilters);
  const [page, setPage] = useState(1);
  const [selected, open] = useOpenCase();
  const [version, setVersion] = useState(0);
  // Bumped when a case near the open one changes: its look-alikes are asked again.
  const [nearby, setNearby] = useState(0);
  const shown = useRef(null);
  const [toasts, toast] = useToasts();
  const query = queryOf(filters, page);
  const queue = useLiveQueue(query, {
    onCase: (c) => {
      learn(c);
      if (c.case_id === location.hash.slice(1)) setVersion((v) => v + 1);
      else if (isNear(shown.current, c)) setNearby((v) => v + 1);
    },
  });
  const loaded = (c) => { shown.current = c; queue.patch(c); };
  useEffect(() => queue.items.forEach(learn), [queue.items]);
  const pages = Math.max(1, Math.ceil(queue.total / PAGE_SIZE));
  const filter = (next) => {
    setFilters(next);
    setPage(1);
    sessionStorage.setItem(FILTERS_KEY, JSON.stringify(next));
  };

  // J / K move through the queue (the arrow keys keep scrolling the page).
  useEffect(() => {
    function onKey(e) {
      if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
      const step = { j: 1, k: -1 }[e.key.toLowerCase()];
      if (!step || !queue.items.length) return;
      e.preventDefault();
      const at = queue.items.findIndex((c) => c.case_id === selected);
      const next = queue.items[Math.min(queue.items.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
      open(next.case_id);
      document.querySelector(`tr[data-id="${next.case_id}"]`)?.scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [queue.items, selected]);

  function done(outcome) {
    toast(outcome);
    setVersion((v) => v + 1);
    queue.reload();
  }

  return html`<div class="console">
    <header class="top">
      <h1>临港新片区 一网统管</h1><span class="sub">派遣台</span>
      <span class=${`livedot ${queue.live}`} title="案件变化实时推送">${queue.live === "open" ? "实时" : "连接中…"}</span>
      <span class="sub" id="total">共 ${queue.total} 件</span>
      <a class="sub" href="/overview" style="color:#fff">管理总览</a>
      <${UserBadge} user=${user} />
    </header>
    <section class="strip">
      <${Figures} dimension=${filters.dimension} onDimension=${(d) => filter({ ...filters, dimension: d })} />
      <${Hotspots} open=${open} />
      <${Faults} />
    </section>
    <main class="work">
      <div class="queuebox">
        <${Filters} filters=${filters} onChange=${filter} names=${names} />
        <div class="tablebox"><${QueueTable} queue=${queue} selected=${selected} onOpen=${open} /></div>
        <p class="pager"><button disabled=${page <= 1} onClick=${() => setPage(page - 1)}>上一页</button>
          <span id="pageinfo"> 第 ${page} 页 / 共 ${pages} 页 </span>
          <button disabled=${page >= pages} onClick=${() => setPage(page + 1)}>下一页</button></p>
      </div>
      <div class="casebox"><${CaseView} id=${selected} version=${version} user=${user} names=${names} nearby=${nearby} onDone=${done} open=${open} onLoaded=${loaded} /></div>
    </main>
    <${Toasts} items=${toasts} onDismiss=${toast.dismiss} />
  </div>`;
}

// The look-alike search's own reach (services/api/cases/similar.py): the same unit grid or
// within 500 m.
const NEAR_M = 500;
function isNear(a, b) {
  if (!a || !b) return false;
  if (a.grid && a.grid === b.grid) return true;
  if (!a.location || !b.location) return false;
  const rad = Math.PI / 180;
  const dlat = (b.location.lat - a.location.lat) * rad;
  const dlon = (b.location.lon - a.location.lon) * rad * Math.cos(((a.location.lat + b.location.lat) / 2) * rad);
  return 6371000 * Math.hypot(dlat, dlon) <= NEAR_M;
}

function App() {
  return html`<${Gate} title="派遣台" roles=${["dispatcher", "manager", "admin"]}>${(user) => html`<${Console} user=${user} />`}<//>`;
}

const root = document.getElementById("root");
root.textContent = "";
render(html`<${App} />`, root);
