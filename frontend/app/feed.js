// The live case feed (SSE, /api/v1/live/cases), opened once while signed in and shared by
// the screens: each CaseSummary that arrives goes to every listener.
import { follow } from "/shared/live.js";

const listeners = new Set();
let stop = null;
let state = "closed";
const stateListeners = new Set();

export function onCase(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function onFeedState(fn) { stateListeners.add(fn); fn(state); return () => stateListeners.delete(fn); }

export function startFeed() {
  stop ??= follow(
    "/api/v1/live/cases",
    (type, data) => { if (type === "case" && data?.case_id) for (const fn of listeners) fn(data); },
    (s) => { state = s; for (const fn of stateListeners) fn(s); },
  );
}

export function stopFeed() {
  stop?.();
  stop = null;
}
