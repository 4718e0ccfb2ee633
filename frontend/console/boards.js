// The strip above the queue: today's figures (GET /api/v1/stats), the 净畅宁和美 dimension
// buttons that filter the queue, the 热点 board (GET /api/v1/hotspots) and the 设备故障 board
// (GET /api/v1/devices?fault=true, shown only to accounts the API lets read devices).
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api, authHeaders } from "/shared/api.js";
import { DIMENSIONS, STATE, pct, errorText } from "/shared/labels.js";

const html = htm.bind(h);

function usePolled(load, everyMs, deps = []) {
  const [state, setState] = useState({ value: null, error: "" });
  useEffect(() => {
    let live = true;
    const run = () => load().then((value) => live && setState({ value, error: "" }))
      .catch((e) => live && setState((s) => ({ value: s.value, error: errorText(e), status: e.status })));
    run();
    const t = setInterval(() => { if (!document.hidden) run(); }, everyMs);
    return () => { live = false; clearInterval(t); };
  }, deps);
  return state;
}

function todayStart() {
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  return encodeURIComponent(`${day}T00:00:00+08:00`);
}

const Tile = ({ value, label, hint }) => html`<div class="tile" title=${hint}><b>${value}</b><span>${label}</span></div>`;

export function Figures({ dimension, onDimension }) {
  const { value, error } = usePolled(() => Promise.all([
    api(`/api/v1/stats?group_by=none&from=${todayStart()}`),
    api(`/api/v1/stats?group_by=dimension&from=${todayStart()}`),
  ]), 60_000);
  if (!value) return html`<div id="tiles" class="tiles"><span class=${error ? "err" : "muted"}>${error ? `今日指标加载失败：${error}` : "今日指标加载中…"}</span></div>`;
  const [all, dims] = value;
  const g = all.groups[0] || {};
  const count = Object.fromEntries(dims.groups.map((d) => [d.key, d.cases]));
  return html`<div id="tiles" class="tiles">
    <span class="caption">今日<br />北京时间</span>
    <${Tile} value=${g.registered ?? 0} label="立案数" hint="今日立案的案件数" />
    <${Tile} value=${pct(g.close_rate)} label="结案率" hint=${`结案 ${g.closed ?? 0} / 应结案 ${g.due ?? 0}`} />
    <${Tile} value=${pct(g.on_time_rate)} label="按期结案率" hint=${`按期结案 ${g.closed_on_time ?? 0} / 应结案 ${g.due ?? 0}`} />
    <${Tile} value=${pct(g.rework_rate)} label="返工率" hint=${`返工 ${g.reworked ?? 0} / 核查 ${g.verified_or_reworked ?? 0}`} />
    <${Tile} value=${pct(g.return_rate)} label="退单率" hint=${`退单 ${g.returned ?? 0} / 首次派遣 ${g.dispatched ?? 0}`} />
    <${Tile} value=${pct(g.auto_dispatch_share)} label="自动派遣占比" hint=${`自动派遣 ${g.auto_dispatched ?? 0} / 首次派遣 ${g.dispatched ?? 0}`} />
    <div class="dims" id="dims">${DIMENSIONS.map((d) => html`<button type="button" data-dim=${d} class=${d === dimension ? "on" : ""}
      title=${`今日「${d}」类案件；点击筛选`} onClick=${() => onDimension(d === dimension ? "" : d)}>${d}<b>${count[d] ?? 0}</b></button>`)}</div>
  </div>`;
}

export function Hotspots({ open }) {
  const { value, error } = usePolled(() => api("/api/v1/hotspots?size=20"), 30_000);
  if (!value) return html`<div class="board" id="hotspots"><h3>热点</h3><span class="muted">${error ? `暂不可用：${error}` : "加载中…"}</span></div>`;
  return html`<div class="board" id="hotspots"><h3>热点<b>${value.total}</b></h3>
    ${value.items.length ? html`<ul>${value.items.map((h) => html`<li title=${`${h.category_name || h.category} · ${h.place || h.place_id || ""}${h.count != null ? ` 近${h.window}第 ${h.count} 次` : ""}`}>
        <a class="caselink" href=${"#" + h.case_id} data-open=${h.case_id} onClick=${(e) => { e.preventDefault(); open(h.case_id); }}>${h.case_id}</a>
        <span class=${`tag s-${h.state}`}>${STATE[h.state] || h.state_label}</span>
        ${h.category_name || h.category} · ${h.place || h.place_id || ""}
        ${h.count != null && html` <span class="muted">近${h.window}第 ${h.count} 次</span>`}</li>`)}</ul>`
      : html`<span class="muted">暂无热点</span>`}
  </div>`;
}

// Not through api(): its 401 signs the user out, and a route this account may not read
// should only hide the board.
async function devicesAtFault() {
  const r = await fetch("/api/v1/devices?fault=true&limit=100", { headers: authHeaders() });
  if (!r.ok) throw Object.assign(new Error(`服务暂不可用（${r.status}）`), { status: r.status });
  return r.json();
}

export function Faults() {
  const { value, error, status } = usePolled(devicesAtFault, 30_000);
  if (status === 401 || status === 403) return null;  // not this account's to see
  if (!Array.isArray(value)) {
    return html`<div class="board" id="faults"><h3>设备故障</h3><span class="muted">${error ? `暂不可用：${error}` : "加载中…"}</span></div>`;
  }
  return html`<div class="board" id="faults"><h3>设备故障<b>${value.length}</b></h3>
    ${value.length ? html`<ul>${value.map((f) => html`<li>${f.device.device_id} <span class="muted">${f.device.type} · ${f.device.town || ""}</span></li>`)}</ul>`
      : html`<span class="muted">无故障设备</span>`}
  </div>`;
}
