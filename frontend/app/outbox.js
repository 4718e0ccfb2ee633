// The outbox: what the worker does on the phone waits here (IndexedDB, photos as blobs)
// until the API has accepted it. Two kinds of record: a report (上报, kind "report"), and
// an on-site verdict on a task (核查, kind "verify"), which is as often made where there is
// no signal.
//
// A record gets its key when it is queued and keeps it on every retry: a report's
// idempotency key, a verdict's command id. So the API makes one report of it, or the
// workflow applies it once, however often it is sent (a lost answer, two tabs, a retry
// after a timeout). Photos are uploaded first; each photo id is stored as soon as it is
// known, so a retry never uploads a photo twice.
//
// When a send fails:
// - no network, a timeout (408), too many requests (429), the broker down (503) or another
//   5xx: the draft waits (待发送) and is retried after Retry-After when the server gave one,
//   otherwise after a growing delay; coming back online retries at once;
// - the session expired (401): it waits until the worker signs in again;
// - any other 4xx (bad input, a reused key): final (未能提交) with the server's reason; the
//   draft is kept, and the worker may retry or delete it.
import { api, ApiError, session, uniqueKey } from "/shared/api.js";
import { uploadPhoto } from "./photos.js";
import { store } from "./store.js";
import { errorText, transient } from "./ui.js";

export const WAITING = "waiting";
export const SENDING = "sending";
export const SENT = "sent";
export const FAILED = "failed";
export const STATE_LABELS = { [WAITING]: "待发送", [SENDING]: "发送中", [SENT]: "已提交", [FAILED]: "未能提交" };

const FIRST_DELAY_MS = 2_000;
const MAX_DELAY_MS = 5 * 60_000;
const KEEP_SENT_MS = 3 * 24 * 3600_000;

const listeners = new Set();
let timer = null;
let flushing = null;
let again = false;

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed() { for (const fn of listeners) fn(); }

function me() { return session()?.user?.user_id || null; }

// The current user's drafts, newest first.
export async function list() {
  const user = me();
  const records = (await store.all()).filter((r) => r.user_id === user);
  return records.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

async function enqueue(record) {
  await store.put(record);
  changed();
  requestSync();
  flush();
  return record;
}

// A record's kind; records written before verdicts could wait have none: reports.
export const isReport = (record) => (record.kind || "report") === "report";

export async function queue({ text, location, address, category_hint, photos }) {
  const now = new Date().toISOString();
  const record = {
    key: uniqueKey("app"),
    kind: "report",
    user_id: me(),
    created_at: now,
    occurred_at: now,
    text,
    location,
    address: address || null,
    category_hint: category_hint || null,
    photos: photos.map((blob) => ({ blob, photo_id: null })),
    state: WAITING,
    attempts: 0,
    next_at: 0,
    error: null,
    report_id: null,
  };
  return enqueue(record);
}

// A 核查 verdict on the case ``case_id``; ``notes`` is the reason when it fails.
export async function queueVerify({ case_id, passed, notes, photos }) {
  const now = new Date().toISOString();
  const record = {
    key: uniqueKey("verify"),
    kind: "verify",
    user_id: me(),
    created_at: now,
    case_id,
    passed,
    notes,
    photos: photos.map((blob) => ({ blob, photo_id: null })),
    state: WAITING,
    attempts: 0,
    next_at: 0,
    error: null,
    status_url: null,
  };
  return enqueue(record);
}

// The record once the sending under way (if any) is over: sent, failed, or still waiting.
export async function settled(key) {
  await flush();
  return store.get(key);
}

// Sends a draft again now with its own key (a failed one after the worker fixed the cause,
// or any one to check that the API answers with the same report).
export async function resend(key) {
  const record = await store.get(key);
  if (!record) return null;
  Object.assign(record, { state: WAITING, attempts: 0, next_at: 0, error: null });
  await store.put(record);
  changed();
  return flush();
}

export async function remove(key) {
  await store.delete(key);
  changed();
}

// Sends every draft that is due. One flush at a time in this page, and one across the
// phone's tabs when the browser has Web Locks.
export function flush() {
  if (flushing) { again = true; return flushing; }
  flushing = (async () => {
    do {
      again = false;
      await (navigator.locks ? navigator.locks.request("cityops-outbox", sendDue) : sendDue());
    } while (again);
  })().catch((error) => {
    console.error("outbox: sending stopped", error); // IndexedDB itself failed; the timer tries again
  }).finally(() => { flushing = null; schedule(); });
  return flushing;
}

async function sendDue() {
  if (!me() || !navigator.onLine) return;
  for (const record of await list()) {
    // SENDING left behind by a page closed mid-send: the lock says nobody sends it now
    const due = (record.state === WAITING || record.state === SENDING) && record.next_at <= Date.now();
    if (due) await send(record);
    if (!navigator.onLine) return;
  }
}

function reportBody(record) {
  const body = {
    idempotency_key: record.key,
    text: record.text,
    location: record.location,
    photos: record.photos.map((p) => p.photo_id),
    occurred_at: record.occurred_at,
  };
  if (record.address) body.address = record.address;
  if (record.category_hint) body.category_hint = record.category_hint;
  return body;
}

function verifyCommand(record) {
  const command = {
    command_id: record.key,
    evidence: { notes: record.notes || (record.passed ? "现场核查：问题已处置" : ""), photos: record.photos.map((p) => p.photo_id) },
    body: { kind: "verify", passed: record.passed },
  };
  if (!record.passed) command.reason = record.notes;
  return command;
}

async function send(record) {
  Object.assign(record, { state: SENDING, attempts: record.attempts + 1 });
  await store.put(record);
  changed();
  try {
    for (const photo of record.photos) {
      if (photo.photo_id) continue;
      photo.photo_id = (await uploadPhoto(photo.blob)).photo_id;
      await store.put(record);
    }
    if (isReport(record)) {
      const accepted = await api("/api/v1/reports", { method: "POST", body: reportBody(record) });
      record.report_id = accepted.report_id;
    } else {
      const path = `/api/v1/cases/${encodeURIComponent(record.case_id)}/commands`;
      const accepted = await api(path, { method: "POST", body: verifyCommand(record) });
      record.status_url = accepted.status_url;
    }
    Object.assign(record, { state: SENT, sent_at: new Date().toISOString(), error: null });
    record.photos = record.photos.map(({ photo_id }) => ({ photo_id })); // the blobs are on the server now
  } catch (error) {
    settleFailure(record, error);
  }
  await store.put(record);
  changed();
}

function settleFailure(record, error) {
  const offline = !(error instanceof ApiError);
  const retry = transient(error) || error.status === 401 || offline;
  record.error = errorText(error);
  record.offline = offline;
  if (!retry) { record.state = FAILED; return; }
  record.state = WAITING;
  const backoff = Math.min(FIRST_DELAY_MS * 2 ** (record.attempts - 1), MAX_DELAY_MS);
  const wait = error.retryAfter ? error.retryAfter * 1000 : backoff * (0.75 + Math.random() / 2);
  record.next_at = Date.now() + wait;
}

function schedule() {
  clearTimeout(timer);
  list().then((records) => {
    const due = records.filter((r) => r.state === WAITING).map((r) => r.next_at);
    if (due.length) timer = setTimeout(flush, Math.max(0, Math.min(...due) - Date.now()));
  }).catch(() => {});
}

function requestSync() {
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register("outbox")).catch(() => {});
}

// Makes the waiting drafts that ``which`` picks due now, and sends them.
async function hurry(which) {
  for (const record of await list()) {
    if (record.state === WAITING && which(record)) {
      record.next_at = 0;
      await store.put(record);
    }
  }
  return flush();
}

// 全部重试: every waiting draft, now.
export function retryAll() { return hurry(() => true); }

// Back online: drafts that failed for want of a network go at once; a server's Retry-After
// is still honoured.
function online() { hurry((record) => record.offline).catch(() => {}); }

async function pruneSent() {
  const old = Date.now() - KEEP_SENT_MS;
  for (const record of await store.all()) {
    if (record.state === SENT && Date.parse(record.sent_at) < old) await store.delete(record.key);
  }
}

export function startOutbox() {
  window.addEventListener("online", online);
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "flush-outbox") flush();
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) flush(); });
  pruneSent().catch(() => {}).finally(flush);
}
