// What every screen of the app shares: htm bound to preact, the Chinese wording of errors,
// times and timeline entries, and a few small components.
import { h } from "preact";
import htm from "htm";
import { ApiError } from "/shared/api.js";

export const html = htm.bind(h);

// Whether trying the same request again later may work (no network, busy, down).
export function transient(error) {
  if (!(error instanceof ApiError)) return error instanceof TypeError;
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

// An error as a sentence a grid worker can act on (a transient one says what happened; the
// screen says what happens next).
export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return "登录已过期，请重新登录";
    if (error.status === 403) return `无权执行此操作：${error.message}`;
    if (error.status === 404) return `未找到：${error.message}`;
    if (error.status === 413) return "照片或内容太大，请减少照片后重试";
    if (error.status === 429) return "操作太频繁";
    if (error.status === 503) return "服务暂时不可用";
    if (error.status >= 500) return `服务器出错（${error.status}）`;
    return error.message || `请求未被接受（${error.status}）`;
  }
  if (error instanceof TypeError) return "网络不可用";
  return error?.message || String(error);
}

const pad = (n) => String(n).padStart(2, "0");

// "12-01 09:05" (this year) or "2025-12-01 09:05", in the phone's time zone.
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getFullYear() === new Date().getFullYear() ? day : `${d.getFullYear()}-${day}`;
}

export const EVENT_LABELS = {
  opened: "生成案件", source_attached: "合并同类上报", registered: "立案", invalidated: "不予立案",
  dispatched: "派遣", rerouted: "改派", accepted: "受理", returned: "退单",
  extension_requested: "申请延期", extension_approved: "同意延期", extension_denied: "不同意延期",
  deferred: "缓办", resumed: "恢复办理", reported_back: "处置反馈", verified: "核查通过",
  rework: "核查不通过（返工）", closed: "结案", merged_into: "合并到其他案件",
  sources_merged: "并入其他案件的上报", source_detached: "拆分上报", sla_warning: "即将超期",
  sla_breached: "已超期", command_rejected: "操作未生效", sensor_verified: "传感器核查正常",
  sensor_relapsed: "传感器再次报警",
};

export const SLA_LABELS = { ok: "", warning: "即将超期", breached: "已超期" };

export function Notice({ kind = "info", children }) {
  if (!children) return null;
  return html`<p class=${`notice ${kind}`} role=${kind === "error" ? "alert" : "status"}>${children}</p>`;
}

export function StateTag({ state, label }) {
  return html`<span class=${`tag state-${state || "none"}`}>${label || state}</span>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}
