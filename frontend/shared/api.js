// The API client every screen uses: sign-in, tokens, refresh, and errors in Chinese.
//
// Tokens live in localStorage under one key per screen ("cityops.<screen>"), so that a
// dispatcher and a department user can be signed in on one machine in two tabs.
// api(path, init) adds the bearer token, refreshes it once on 401, and throws ApiError with
// the server's reason (problem details: {title, detail, status}) on any non-2xx answer.

export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

let screen = "cityops";
const listeners = new Set();

export function useScreen(name) { screen = name; }
function storeKey() { return `cityops.${screen}`; }

export function session() {
  try { return JSON.parse(localStorage.getItem(storeKey()) || "null"); } catch { return null; }
}
function save(tokens) {
  if (tokens) localStorage.setItem(storeKey(), JSON.stringify(tokens));
  else localStorage.removeItem(storeKey());
  for (const fn of listeners) fn(tokens);
}
export function onSession(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function signOut() { save(null); }
// 退出所有设备: every token of this person stops working (a lost phone, a shared computer),
// then this page signs out too. Throws (ApiError, or a network error) if the server did not
// take it: the person is told, not signed out here alone.
export async function signOutEverywhere() {
  await api("/api/v1/auth/logout", { method: "POST" });
  save(null);
}

async function reason(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) detail = body.detail.map((d) => d.msg).join("；");
    else if (body.title) detail = body.title;
  } catch { /* not JSON */ }
  const wait = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, detail, Number.isFinite(wait) && wait > 0 ? wait : null);
}

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", { method: "POST", body: form });
  if (!r.ok) throw await reason(r);
  const tokens = await r.json();
  save(tokens);
  return tokens.user;
}

let refreshing = null;
async function refresh() {
  const held = session();
  if (!held) return false;
  refreshing ??= fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: held.refresh_token }),
  }).then(async (r) => {
    if (!r.ok) { save(null); return false; }
    save(await r.json());
    return true;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

export function authHeaders() {
  const held = session();
  return held ? { Authorization: `Bearer ${held.access_token}` } : {};
}

// fetch with the token; JSON bodies are sent as JSON. Returns the parsed JSON (or null).
export async function api(path, init = {}, retried = false) {
  const headers = { ...authHeaders(), ...(init.headers || {}) };
  let body = init.body;
  if (body !== undefined && !(body instanceof FormData) && typeof body !== "string") {
    body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, { ...init, headers, body });
  if (r.status === 401 && !retried && session() && (await refresh())) {
    return api(path, init, true);
  }
  if (r.status === 401) save(null);
  if (!r.ok) throw await reason(r);
  return r.status === 204 ? null : r.json();
}

// Waits for a command's outcome (applied / refused with the reason), polling its status.
export async function commandResult(statusUrl, { tries = 40, everyMs = 250 } = {}) {
  for (let i = 0; i < tries; i++) {
    const status = await api(statusUrl);
    if (status.status !== "pending") return status;
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
  return { status: "pending" };
}

// A client-made unique key (idempotency keys, command ids): letters, digits, '.', '-'.
export function uniqueKey(prefix) {
  const random = crypto.getRandomValues(new Uint32Array(3));
  return `${prefix}.${Date.now().toString(36)}.${[...random].map((n) => n.toString(36)).join("")}`;
}
