// 待发送: the reports and 核查 verdicts on this phone and where each one is (待发送 / 发送中 /
// 已提交 / 未能提交).
import { useEffect, useState } from "preact/hooks";
import { FAILED, SENT, STATE_LABELS, WAITING, isReport, list, remove, resend, retryAll, subscribe } from "./outbox.js";
import { BlobThumb } from "./photos.js";
import { editDraft } from "./report.js";
import { Empty, html, when } from "./ui.js";

export function useOutbox() {
  const [records, setRecords] = useState([]);
  useEffect(() => {
    const load = () => list().then(setRecords).catch(() => {});
    load();
    return subscribe(load);
  }, []);
  return records;
}

function retryIn(record) {
  const seconds = Math.round((record.next_at - Date.now()) / 1000);
  return seconds > 0 ? `，${seconds} 秒后自动重试` : "，正在重试";
}

// Re-renders every second while a draft waits, so its countdown moves.
function useTick(active) {
  const [, setNow] = useState(0);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
}

function Draft({ record, online, go }) {
  const report = isReport(record);
  const blobs = record.photos.filter((p) => p.blob).map((p) => p.blob);
  return html`
    <li class=${`card draft ${record.state}`} data-key=${record.key}>
      <div class="row">
        <span class=${`tag outbox-${record.state}`}>${STATE_LABELS[record.state]}</span>
        <time>${when(record.created_at)}</time>
      </div>
      ${report
        ? html`<p class="text">${record.text}</p>`
        : html`<p class="text"><b>核查 ${record.case_id}：${record.passed ? "核查通过" : "核查不通过"}</b>${record.notes ? ` · ${record.notes}` : ""}</p>`}
      ${blobs.length > 0 && html`<div class="strip">${blobs.slice(0, 4).map((b) => html`<${BlobThumb} blob=${b} />`)}</div>`}
      <p class="meta">${record.photos.length} 张照片${record.address ? ` · ${record.address}` : ""}</p>
      ${record.state === SENT && (report
        ? html`<p class="meta ok">已提交，上报编号 <b class="report-id">${record.report_id}</b>，进度见「我的上报」</p>`
        : html`<p class="meta ok">已提交，结果见「核查任务」</p>`)}
      ${record.state === WAITING && record.error && html`<p class="meta warn">${record.offline || !online ? "网络不可用" : record.error}${retryIn(record)}</p>`}
      ${record.state === WAITING && !record.error && !online && html`<p class="meta warn">当前离线，联网后自动发送</p>`}
      ${record.state === FAILED && html`<p class="meta error" role="alert">未能提交：${record.error}</p>`}
      ${record.state !== SENT && html`
        <div class="actions">
          ${record.state !== "sending" && html`<button type="button" onClick=${() => resend(record.key)}>立即重试</button>`}
          ${record.state === FAILED && report && html`<button type="button" onClick=${() => { editDraft(record); go("#/report"); }}>修改</button>`}
          ${record.state === FAILED && html`<button type="button" class="danger"
            onClick=${() => confirm(report ? "删除这条未能提交的上报？" : "删除这条未能提交的核查结果？") && remove(record.key)}>删除</button>`}
        </div>`}
    </li>`;
}

export function OutboxScreen({ online, go }) {
  const records = useOutbox();
  useTick(records.some((r) => r.state === WAITING && r.error));
  const unsent = records.filter((r) => r.state !== SENT).length;
  const failed = records.filter((r) => r.state === FAILED).length;
  const summary = [
    unsent - failed ? `${unsent - failed} 条等待发送。` : "",
    failed ? `${failed} 条未能提交，请查看原因。` : "",
  ].join("") || "全部已提交。";
  return html`
    <section class="screen outbox">
      <h1>待发送</h1>
      <p class="hint">
        ${summary}
        ${online ? "" : "当前离线，联网后自动发送。"}
        ${unsent - failed > 0 && online && html`<button type="button" class="link" onClick=${() => retryAll()}>全部重试</button>`}
      </p>
      ${records.length
        ? html`<ul class="list">${records.map((r) => html`<${Draft} key=${r.key} record=${r} online=${online} go=${go} />`)}</ul>`
        : html`<${Empty}>这里会列出在本机保存、等待发送的上报和核查结果。<//>`}
    </section>`;
}
