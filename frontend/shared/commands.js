// Sending a command to a case and saying, in Chinese, what became of it.
//
// send() posts {command_id, reason?, evidence, body} (the actor comes from the token), waits
// for the workflow's outcome through commandResult() and answers {ok, text}, the line shown
// to whoever clicked. One command_id per intent: a retried click after a network error
// reuses it, so the workflow applies the command once.
import { api, commandResult, uniqueKey } from "./api.js";
import { COMMAND, errorText } from "./labels.js";

const intents = new Map();

export async function send(caseId, body, { reason, notes, photos, label } = {}) {
  const name = label || COMMAND[body.kind] || body.kind;
  const payload = { body, evidence: { notes: notes || null, photos: photos || [] } };
  if (reason) payload.reason = reason;
  const key = caseId + JSON.stringify(payload);
  if (!intents.has(key)) intents.set(key, uniqueKey("ui"));
  payload.command_id = intents.get(key);
  let accepted;
  try {
    accepted = await api(`/api/v1/cases/${encodeURIComponent(caseId)}/commands`, { method: "POST", body: payload });
  } catch (e) {
    if (e.status && e.status < 500) intents.delete(key);  // refused as sent: a new try is a new intent
    return { ok: false, text: `「${name}」未提交：${errorText(e)}` };
  }
  intents.delete(key);
  const outcome = await commandResult(accepted.status_url).catch((e) => ({ status: "error", reason: errorText(e) }));
  return describe(name, outcome);
}

export function describe(name, outcome) {
  switch (outcome.status) {
    case "applied": return { ok: true, text: `「${name}」已执行` };
    case "rejected": return { ok: false, text: `「${name}」被拒绝：${outcome.reason || "原因未说明"}` };
    case "duplicate": return { ok: true, text: `「${name}」此前已执行，未重复执行` };
    case "unknown_case": return { ok: false, text: `「${name}」被拒绝：案件不存在` };
    case "pending": return { ok: null, text: `「${name}」已提交，处理结果稍后出现在时间线` };
    default: return { ok: false, text: `「${name}」结果未知：${outcome.reason || ""}` };
  }
}
