// Chinese labels for the codes the API sends, and small formatters every screen uses.
//
// States: cityops/contracts/states.py; event and command kinds: cityops/contracts/events.py;
// source types and roles: cityops/contracts/common.py; clock stages: services/dispatch/clocks.py.

export const STATE = {
  pending: "待立案", registered: "已立案", dispatched: "已派遣", in_progress: "处置中", deferred: "缓办",
  reported_back: "待核查", verified: "核查通过", closed: "已结案", invalid: "不予立案", merged: "已合并",
};
export const TERMINAL = new Set(["closed", "invalid", "merged"]);

export const KIND = {
  opened: "建案", source_attached: "合并上报", registered: "立案", invalidated: "不予立案", dispatched: "派遣",
  rerouted: "改派", accepted: "受理", returned: "退单", extension_requested: "申请延期", extension_approved: "延期批准",
  extension_denied: "延期驳回", deferred: "缓办", resumed: "恢复办理", reported_back: "处理反馈", verified: "核查通过",
  rework: "返工", closed: "结案", merged_into: "合并到他案", sources_merged: "并入来源", source_detached: "拆分来源",
  sla_warning: "临期预警", sla_breached: "超期", command_rejected: "操作被拒绝",
  sensor_verified: "传感器核查：已恢复正常", sensor_relapsed: "传感器：再次超限",
};

export const COMMAND = {
  open: "建案", register: "立案", reject: "不予立案", dispatch: "派遣", reroute: "改派", accept: "受理",
  return: "退单", request_extension: "申请延期", decide_extension: "延期审批", defer: "缓办", resume: "恢复",
  report_back: "处理反馈", verify: "核查", close: "结案", merge: "合并", attach: "并入来源", split: "拆分来源",
  sla_alert: "时限提醒", sensor_signal: "传感器信号",
};

export const STAGE = { register: "立案", dispatch: "派遣", dispose: "处置" };
export const SOURCE = { grid_worker: "网格员", citizen_app: "市民", hotline_12345: "12345", sensor: "传感器", proactive: "主动发现" };
export const SLA = { warning: "临期", breached: "超期" };
export const PRIORITY = { urgent: "紧急", high: "高", normal: "普通", low: "低" };
export const ROLE = {
  dispatcher: "派遣员", department: "处置部门", grid_worker: "网格员", citizen: "市民", system: "系统",
  admin: "系统管理员", manager: "管理者", device: "设备",
};
export const DIMENSIONS = ["净", "畅", "宁", "和", "美"];

export const pct = (x) => (x == null ? "—" : `${(x * 100).toFixed(1)}%`);
// Times read in Beijing time whatever the browser's zone: the city keeps one clock.
const ZONE = { timeZone: "Asia/Shanghai", hour12: false };
export const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", ZONE) : "");
export const short = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", {
  ...ZONE, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "");
export const hhmm = (iso) => new Date(iso).toLocaleTimeString("zh-CN", { ...ZONE, hour: "2-digit", minute: "2-digit" });

// "剩 2:14:05" / "已超 1 天 3 小时": a deadline as a countdown from now (ms since epoch).
export function countdown(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  const span = d >= 1 ? `${d} 天 ${h} 小时` : `${h}:${pad(m)}:${pad(s % 60)}`;
  return ms >= 0 ? `剩 ${span}` : `已超 ${span}`;
}

// Which stage's clock a case runs ("dispose" or "dispose:stopped") and whether it stopped.
export function stageOf(c) {
  const [stage, stopped] = String(c.stage || "").split(":");
  return { stage, label: STAGE[stage] || stage || "", stopped: Boolean(stopped) };
}

export function actorName(actor = {}) {
  if (actor.role === "system") return "系统";
  return `${actor.name || actor.id || ""}（${ROLE[actor.role] || actor.role || ""}）`;
}

// An error as the person reads it: the server's reason (api.js passes it on, in Chinese),
// or, when the request never reached the server, that the network is down.
export function errorText(e) {
  if (e && e.status) return e.message;
  if (e instanceof TypeError) return "网络不通，请检查网络后重试";
  return e?.message || "未知错误";
}
