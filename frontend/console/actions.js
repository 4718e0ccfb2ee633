// The dispatcher's actions. services/dispatch/permissions.py decides; ``when`` only avoids
// offering what it would refuse in the case's state. Keys are the shortcuts on the buttons.
import { h } from "preact";
import htm from "htm";
import { TERMINAL, pct } from "/shared/labels.js";
import { extensionPending } from "/shared/cases.js";

const html = htm.bind(h);
const CASE_ID = /^LG[A-Z2-7]{12}$/;
const is = (...states) => (c) => states.includes(c.state);

// "department|category" choices: the router's department, its suggestions, every department.
function routeChoices(c, ctx, keepCurrent) {
  const choices = new Map();
  const add = (value, label) => { if (!choices.has(value)) choices.set(value, label); };
  const dept = (code) => ctx.names.departments[code] || code;
  if (c.department) add(`${c.department}|`, `${dept(c.department)}（${keepCurrent ? "系统建议" : "当前"}）`);
  for (const s of c.suggestions || []) {
    add(`${s.department}|${s.category === c.category ? "" : s.category}`, `${dept(s.department)} · ${s.category_name} · 类别置信度 ${pct(s.confidence)}`);
  }
  for (const [code, name] of Object.entries(ctx.names.departments).sort((a, b) => a[1].localeCompare(b[1], "zh-CN"))) add(`${code}|`, name);
  const values = [...choices.keys()];
  const pick = keepCurrent ? values[0] : values.find((v) => !v.startsWith(`${c.department}|`)) || values[0];
  return { values, choices, pick };
}

function routeField(keepCurrent) {
  return (c, ctx) => {
    const { values, choices, pick } = routeChoices(c, ctx, keepCurrent);
    return html`<label>部门 <select name="route">${values.map((v) => html`<option value=${v} selected=${v === pick}>${choices.get(v)}</option>`)}</select></label>`;
  };
}
function routeValues(form) {
  const [department, category] = String(form.get("route") || "").split("|");
  if (!department) throw new Error("请选择部门");
  return { department, ...(category ? { category } : {}) };
}

export const DISPATCHER_ACTIONS = [
  { id: "register", label: "立案", key: "r", when: is("pending"), body: () => ({ kind: "register" }) },
  { id: "dispatch", label: "派遣", key: "d", when: is("pending", "registered"), fields: routeField(true), values: routeValues,
    body: (v) => ({ kind: "dispatch", ...v }) },
  { id: "reject", label: "不予立案", key: "x", danger: true, when: is("pending", "registered"), reason: "required", body: () => ({ kind: "reject" }) },
  { id: "reroute", label: "改派", key: "g", when: is("dispatched", "in_progress"), fields: routeField(false), values: routeValues,
    reason: "required", body: (v) => ({ kind: "reroute", ...v }) },
  { id: "defer", label: "缓办", key: "h", when: is("dispatched", "in_progress"), reason: "required", body: () => ({ kind: "defer" }) },
  { id: "resume", label: "恢复", key: "u", when: is("deferred"), body: () => ({ kind: "resume" }) },
  { id: "approve", label: "批准延期", key: "a", when: (c) => c.state === "in_progress" && extensionPending(c),
    body: () => ({ kind: "decide_extension", approve: true }) },
  { id: "deny", label: "驳回延期", key: "n", when: (c) => c.state === "in_progress" && extensionPending(c), reason: "optional",
    body: () => ({ kind: "decide_extension", approve: false }) },
  { id: "verify", label: "核查通过", key: "v", when: is("reported_back"), body: () => ({ kind: "verify", passed: true }) },
  { id: "rework", label: "返工", key: "w", danger: true, when: is("reported_back"), reason: "optional", body: () => ({ kind: "verify", passed: false }) },
  { id: "close", label: "结案", key: "c", when: is("verified"), body: () => ({ kind: "close" }) },
  { id: "merge", label: "合并", key: "m", when: (c) => !TERMINAL.has(c.state), reason: "optional",
    fields: (c, ctx) => html`<label>并入案件 <input name="target" type="text" size="17" maxlength="14" placeholder="LG…"
      value=${ctx.similar?.[0]?.case_id || ""} /></label>`,
    values: (form, c) => {
      const target = String(form.get("target") || "").trim().toUpperCase();
      if (!CASE_ID.test(target)) throw new Error("目标案件号应为 LG 加 12 位字母或数字");
      if (target === c.case_id) throw new Error("不能合并到本案件");
      return { target };
    },
    body: (v) => ({ kind: "merge", target_case_id: v.target }) },
  { id: "split", label: "拆分", key: "s", when: (c) => !TERMINAL.has(c.state) && c.report_count > 1, reason: "optional",
    fields: (c) => html`<label>拆出来源 <select name="source">${(c.sources || []).slice(1).map((s) =>
      html`<option value=${s.source_id}>${(s.text || s.source_id).slice(0, 30)}</option>`)}</select></label>`,
    values: (form) => ({ source: String(form.get("source") || "") }),
    body: (v) => ({ kind: "split", source_id: v.source }) },
];
