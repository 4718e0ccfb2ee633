// One verification task: the case as reported and as the department says it left it, and
// the on-site verdict (核查通过, or 核查不通过 with the reason) with a photo.
//
// The verdict goes through the outbox (outbox.js) like a report: without signal it waits on
// the phone and is sent when the connection returns. Its command id is made when it is
// queued and kept on every retry, so it cannot verify twice; photos already uploaded are
// not uploaded again.
import { useEffect, useState } from "preact/hooks";
import { api, commandResult } from "/shared/api.js";
import { onCase } from "./feed.js";
import { PinMap } from "./map.js";
import { FAILED, queueVerify, remove, SENT, settled } from "./outbox.js";
import { useOutbox } from "./outbox-view.js";
import { PhotoPicker, Thumb } from "./photos.js";
import { Empty, errorText, EVENT_LABELS, html, Notice, StateTag, when } from "./ui.js";

const VERIFY_STATE = "reported_back";

function useCase(caseId) {
  const [item, setItem] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api(`/api/v1/cases/${encodeURIComponent(caseId)}`)
    .then((c) => { setItem(c); setError(null); })
    .catch((e) => setError(errorText(e)));
  useEffect(() => {
    load();
    return onCase((summary) => { if (summary.case_id === caseId) load(); });
  }, [caseId]);
  return { item, error, load };
}

function Photos({ refs }) {
  if (!refs?.length) return null;
  return html`<div class="strip">${refs.map((ref) => html`<${Thumb} photo=${ref} />`)}</div>`;
}

function Sources({ sources }) {
  return html`
    <ul class="sources">
      ${sources.map((s) => html`
        <li>
          <p class="meta">${when(s.received_at || s.occurred_at)} ${s.reporter?.name || ""}</p>
          <p class="text">${s.text?.original ?? s.text?.normalised ?? s.text ?? ""}</p>
          <${Photos} refs=${s.photos} />
        </li>`)}
    </ul>`;
}

function Timeline({ entries }) {
  return html`
    <ol class="timeline">
      ${[...entries].reverse().map((e) => html`
        <li key=${e.seq}>
          <div class="row"><b>${EVENT_LABELS[e.kind] || e.kind}</b><time>${when(e.at)}</time></div>
          ${e.actor?.name && html`<p class="meta">${e.actor.name}</p>`}
          ${e.reason && html`<p class="meta">原因：${e.reason}</p>`}
          ${e.evidence?.notes && e.evidence.notes !== e.reason && html`<p class="text">${e.evidence.notes}</p>`}
          <${Photos} refs=${e.evidence?.photos} />
        </li>`)}
    </ol>`;
}

// The department's latest 处置反馈: what the worker goes to check.
function latestReport(timeline = []) {
  return [...timeline].reverse().find((e) => e.kind === "reported_back") || null;
}

function outcomeText(passed, result) {
  if (result.status === "applied") return passed ? "核查通过，已生效，等待结案" : "核查不通过，已退回处置部门返工";
  if (result.status === "duplicate") return "这次核查已提交过，结果以案件状态为准";
  if (result.status === "pending") return "已提交，平台仍在处理，稍后在任务中查看结果";
  return `未生效：${result.reason || "案件状态已变化"}`;
}

const SAVED = "网络不可用：核查结果已保存在本机，恢复网络后自动提交（不会重复核查），可在「待发送」查看";
const SENT_LATER = "保存在本机的核查结果已提交，结果以案件状态为准";

function VerifyForm({ caseId, onDone }) {
  const [passed, setPassed] = useState(null);
  const [notes, setNotes] = useState("");
  const [photos, setPhotos] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    if (passed === null) return setError("请选择「核查通过」或「核查不通过」");
    if (!passed && !notes.trim()) return setError("请填写核查不通过的原因");
    if (!photos.length) return setError("请拍一张现场照片作为核查依据");
    setBusy(true);
    setError(null);
    try {
      const queued = await queueVerify({ case_id: caseId, passed, notes: notes.trim(), photos });
      const record = await settled(queued.key);
      if (record?.state === SENT) {
        const result = await commandResult(record.status_url);
        onDone({ ok: result.status === "applied" || result.status === "duplicate", text: outcomeText(passed, result) });
      } else if (record?.state === FAILED) {
        await remove(record.key); // refused for good: the form is where to try again
        setError(record.error);
      } else {
        onDone({ ok: true, text: SAVED });
      }
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="verify" onSubmit=${submit} novalidate>
      <h2>现场核查</h2>
      <div class="choice" role="radiogroup" aria-label="核查结论">
        <button type="button" role="radio" aria-checked=${passed === true} class=${passed === true ? "pass on" : "pass"}
          onClick=${() => setPassed(true)}>核查通过</button>
        <button type="button" role="radio" aria-checked=${passed === false} class=${passed === false ? "fail on" : "fail"}
          onClick=${() => setPassed(false)}>核查不通过</button>
      </div>
      <label class="field">
        <span>${passed === false ? "不通过的原因（必填）" : "核查说明（可不填）"}</span>
        <textarea name="notes" rows="3" maxlength="2000" value=${notes} onInput=${(e) => setNotes(e.currentTarget.value)}
          placeholder=${passed === false ? "例如：井盖仍有松动，未按要求更换" : "例如：井盖已更换，现场已清理"}></textarea>
      </label>
      <div class="field">
        <span>现场照片</span>
        <${PhotoPicker} photos=${photos} onChange=${setPhotos} onError=${setError} name="verify-photos" label="拍摄核查照片" />
      </div>
      <${Notice} kind="error">${error}<//>
      <button class="primary big" type="submit" disabled=${busy}>${busy ? "正在提交…" : "提交核查结果"}</button>
    </form>`;
}

export function TaskScreen({ caseId, go }) {
  const { item, error, load } = useCase(caseId);
  const [outcome, setOutcome] = useState(null);
  const waiting = useOutbox().some((r) => r.kind === "verify" && r.case_id === caseId && r.state !== SENT && r.state !== FAILED);
  const done = (result) => { setOutcome(result); load(); };
  return html`
    <section class="screen task">
      <button type="button" class="back" onClick=${() => go("#/tasks")}>‹ 返回任务列表</button>
      <${Notice} kind="error">${error && !item ? `未能读取案件：${error}` : null}<//>
      ${!item && !error && html`<p class="hint">正在读取…</p>`}
      ${item && html`
        <header class="casehead">
          <div class="row"><h1 class="case-id">${item.case_id}</h1><${StateTag} state=${item.state} label=${item.state_label} /></div>
          <p class="meta">${item.category_name || "未分类"}${item.department_name ? ` · ${item.department_name}` : ""}</p>
          ${item.address && html`<p class="meta">地址：${item.address}</p>`}
          ${item.deadline && html`<p class="meta">时限：${when(item.deadline)}</p>`}
        </header>
        ${item.location && html`<div class="where"><${PinMap} position=${item.location} fixed zoom=${16} /></div>`}
        <h2>上报内容</h2>
        ${item.sources?.length ? html`<${Sources} sources=${item.sources} />` : html`<p class="text">${item.text}</p>`}
        ${latestReport(item.timeline) && html`<h2>处置部门反馈</h2><div class="feedback"><${Timeline} entries=${[latestReport(item.timeline)]} /></div>`}
        ${outcome && html`<div class=${`outcome ${outcome.ok ? "ok" : "error"}`} role="status">${outcome.text === SAVED && !waiting ? SENT_LATER : outcome.text}</div>`}
        ${waiting && !outcome && html`<${Notice} kind="warn">${SAVED}<//>`}
        ${!outcome?.ok && !waiting && (item.state === VERIFY_STATE
          ? html`<${VerifyForm} key=${item.case_id} caseId=${item.case_id} onDone=${done} />`
          : html`<${Notice}>此案件当前为「${item.state_label}」，无需核查。<//>`)}
        <h2>办理经过</h2>
        ${item.timeline?.length ? html`<${Timeline} entries=${item.timeline} />` : html`<${Empty}>暂无记录<//>`}
      `}
    </section>`;
}
