// Action buttons for a case, each with its keyboard shortcut, and the small form some need.
//
// An action: {id, label, key, when(c), danger?, reason?: "required"|"optional",
//   fields?(c, ctx) -> markup (named inputs), values?(form, c, ctx) -> body fields,
//   body(values, c) -> command body, label?}.
// One keystroke runs an action without a form; an action with a form opens it with the
// confirm button (or the first text box) focused, so Enter completes it. Esc closes it.
import { h } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { send } from "./commands.js";

const html = htm.bind(h);
const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function ActionForm({ a, c, ctx, busy, onSubmit, onCancel }) {
  const [error, setError] = useState("");
  const ref = useRef(null);
  useLayoutEffect(() => {
    const form = ref.current;
    const text = form.querySelector("input[type=text], input:not([type]), textarea");
    (text || form.querySelector("button.go")).focus();
  }, [a.id]);
  function submit(e) {
    e.preventDefault();
    const form = new FormData(e.target);
    const reason = String(form.get("reason") || "").trim();
    try {
      if (a.reason === "required" && !reason) throw new Error(`请填写「${a.label}」的原因`);
      const values = a.values ? a.values(form, c, ctx) : {};
      setError("");
      onSubmit(a, { ...values, reason });
    } catch (err) {
      setError(err.message);
    }
  }
  return html`<form class="actform" ref=${ref} data-act=${a.id} onSubmit=${submit} onKeyDown=${(e) => e.key === "Escape" && onCancel()}>
    <b>${a.label}</b>
    ${a.fields?.(c, ctx)}
    ${a.reason && html`<input name="reason" type="text" size="26" maxlength="2000" placeholder=${`原因（${a.reason === "required" ? "必填" : "可选"}）`} />`}
    <button class="go" disabled=${busy}>确认${a.label}</button>
    <button type="button" onClick=${onCancel}>取消 <kbd>Esc</kbd></button>
    ${error && html`<span class="err formerr" role="alert">${error}</span>`}
  </form>`;
}

export function ActionBar({ c, actions, ctx = {}, onDone, title = "操作", idle = "当前状态无可用操作" }) {
  const [open, setOpen] = useState(null);
  const [busy, setBusy] = useState(false);
  const offered = actions.filter((a) => a.when(c, ctx));
  // A form belongs to the state it was opened in (render with key=case_id for a new case).
  const openedIn = useRef(c.state);
  if (openedIn.current !== c.state) {
    openedIn.current = c.state;
    if (open) setOpen(null);
  }

  async function run(a, values = {}) {
    setBusy(true);
    const { reason, notes, photos, ...fields } = values;
    const outcome = await send(c.case_id, a.body(fields, c), { reason, notes, photos, label: a.label });
    setBusy(false);
    if (outcome.ok !== false) setOpen(null);
    onDone?.(outcome, a);
  }
  function trigger(a) {
    if (busy) return;
    openedIn.current = c.state;
    if (a.fields || a.reason) setOpen(a.id);
    else run(a);
  }

  const latest = useRef();
  latest.current = { offered, trigger, open };
  useLayoutEffect(() => {  // layout: listening from the moment the buttons are drawn
    function onKey(e) {
      if (e.ctrlKey || e.metaKey || e.altKey || TYPING.has(e.target.tagName)) return;
      if (e.key === "Escape") { setOpen(null); return; }
      const a = latest.current.offered.find((x) => x.key.toLowerCase() === e.key.toLowerCase());
      if (a) { e.preventDefault(); latest.current.trigger(a); }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const form = offered.find((a) => a.id === open);
  return html`<div class="actionbox">
    <div class="actions" aria-label=${title}>
      <span class="muted">${title}</span>
      ${offered.length ? offered.map((a) => html`<button type="button" data-act=${a.id} class=${a.danger ? "danger" : ""}
          disabled=${busy} aria-keyshortcuts=${a.key} title=${`快捷键 ${a.key.toUpperCase()}`} onClick=${() => trigger(a)}>
          ${a.label}<kbd>${a.key.toUpperCase()}</kbd></button>`)
        : html`<span class="muted idle">${idle}</span>`}
      ${offered.length > 0 && html`<span class="muted keys">按字母键执行，Enter 确认，Esc 取消</span>`}
    </div>
    ${form && html`<${ActionForm} key=${form.id} a=${form} c=${c} ctx=${ctx} busy=${busy} onSubmit=${run} onCancel=${() => setOpen(null)} />`}
  </div>`;
}
