// 临港网格通: the grid worker's app. Signs in, then four screens behind a tab bar:
// 上报 (#/report), 待发送 (#/outbox), 我的上报 (#/mine), 核查任务 (#/tasks, #/tasks/<case>).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onSession, session, signOut, useScreen } from "/shared/api.js";
import { onFeedState, startFeed, stopFeed } from "./feed.js";
import { LoginScreen } from "./login.js";
import { MyReportsScreen } from "./mine.js";
import { flush, SENT, startOutbox } from "./outbox.js";
import { OutboxScreen, useOutbox } from "./outbox-view.js";
import { ReportScreen } from "./report.js";
import { TaskScreen } from "./task.js";
import { TasksScreen } from "./tasks.js";
import { html } from "./ui.js";

useScreen("app");

const TABS = [
  { hash: "#/report", label: "上报", icon: "＋" },
  { hash: "#/outbox", label: "待发送", icon: "⇪" },
  { hash: "#/mine", label: "我的上报", icon: "☰" },
  { hash: "#/tasks", label: "核查任务", icon: "✓" },
];

function useHash() {
  const [hash, setHash] = useState(location.hash || "#/report");
  useEffect(() => {
    const changed = () => setHash(location.hash || "#/report");
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    addEventListener("online", up);
    addEventListener("offline", down);
    return () => { removeEventListener("online", up); removeEventListener("offline", down); };
  }, []);
  return online;
}

function useSession() {
  const [held, setHeld] = useState(session());
  useEffect(() => onSession(setHeld), []);
  return held;
}

function go(hash) { location.hash = hash; }

function Screen({ hash, online }) {
  const task = hash.match(/^#\/tasks\/([A-Za-z0-9]+)$/);
  if (task) return html`<${TaskScreen} caseId=${task[1]} go=${go} />`;
  if (hash === "#/outbox") return html`<${OutboxScreen} online=${online} go=${go} />`;
  if (hash === "#/mine") return html`<${MyReportsScreen} online=${online} />`;
  if (hash === "#/tasks") return html`<${TasksScreen} go=${go} online=${online} />`;
  return html`<${ReportScreen} go=${go} />`;
}

function TabBar({ hash }) {
  const unsent = useOutbox().filter((r) => r.state !== SENT).length;
  return html`
    <nav class="tabs" aria-label="主菜单">
      ${TABS.map((t) => html`
        <a href=${t.hash} class=${hash.startsWith(t.hash) ? "on" : ""} aria-current=${hash.startsWith(t.hash) ? "page" : undefined}>
          <span class="icon" aria-hidden="true">${t.icon}</span>
          <span>${t.label}</span>
          ${t.hash === "#/outbox" && unsent > 0 && html`<b class="badge" aria-label=${`${unsent} 条待发送`}>${unsent}</b>`}
        </a>`)}
    </nav>`;
}

function leave() {
  if (!confirm("退出登录？本机未发送的上报会保留，下次登录后继续发送。")) return;
  navigator.serviceWorker?.controller?.postMessage({ type: "clear-data" });
  signOut();
}

function App() {
  const held = useSession();
  const hash = useHash();
  const online = useOnline();
  const [feed, setFeed] = useState("closed");
  useEffect(() => onFeedState(setFeed), []);
  useEffect(() => {
    if (!held) return undefined;
    startFeed();
    flush();
    return stopFeed;
  }, [held?.user?.user_id]);

  if (!held) return html`<main class="app"><${LoginScreen} online=${online} /></main>`;
  const user = held.user || {};
  return html`
    <div class="app">
      <header class="top">
        <span class="brand">临港网格通</span>
        <span class="who">
          <i class=${`dot ${online && feed === "open" ? "live" : ""}`} title=${online && feed === "open" ? "实时进度已连接" : "实时进度未连接"}></i>
          ${user.name || user.user_id}${online ? "" : " · 离线"}
        </span>
        <button type="button" class="link light" onClick=${leave}>退出</button>
      </header>
      ${!online && html`<p class="offline" role="status">当前离线：新上报会保存在本机，联网后自动发送</p>`}
      ${user.role && user.role !== "grid_worker" && html`<p class="offline soft">本应用供网格员使用，当前账号的部分功能可能不可用</p>`}
      <main><${Screen} hash=${hash} online=${online} /></main>
      <${TabBar} hash=${hash} />
    </div>`;
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
}
startOutbox();
const root = document.getElementById("root");
root.textContent = ""; // the "loading" line
render(html`<${App} />`, root);
