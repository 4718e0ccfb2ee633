// A live case queue: the list from GET /api/v1/cases, kept current by the SSE feed
// /api/v1/live/cases without reloading the page.
//
// A "case" event patches the row at once (so a state change shows immediately, and a case
// that no longer fits the filters, say one just closed, leaves) and asks for the list again
// shortly after, and once more when the search index has surely caught up, since a case
// may enter, leave or move in the order; events that come close together share those
// refetches. "resync" (the feed lost its place) refetches too. While the feed is down, the
// list is polled instead.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { follow } from "./live.js";
import { errorText, TERMINAL } from "./labels.js";

const REFETCH_MS = 400;
const SETTLE_MS = 2000;  // the index shows a change within about a second
const POLL_MS = 15_000;
const KNOWN = 2000;  // newest versions remembered, to correct a list the index has not caught up

export function useLiveQueue(query, { onCase } = {}) {
  const [page, setPage] = useState({ items: [], total: 0, loaded: false, error: "" });
  const [live, setLive] = useState("connecting");
  const [fresh, setFresh] = useState(() => new Set());
  const latest = useRef(0);
  const items = useRef([]);
  items.current = page.items;
  const timer = useRef(null);
  const settle = useRef(null);
  const queryRef = useRef(query);
  const onCaseRef = useRef(onCase);
  const known = useRef(new Map());  // case id → the newest summary seen (feed or case page)
  queryRef.current = query;
  onCaseRef.current = onCase;

  async function load() {
    const ticket = ++latest.current;
    try {
      const body = await api(`/api/v1/cases?${queryRef.current}`);
      if (ticket !== latest.current) return;
      // A search can lag the feed and the case page (the index refreshes about once a
      // second, slower under load): rows we know a newer version of take it, and leave
      // the list if it no longer fits (a case just closed stays out).
      const fresh = reconcile(body.items, queryRef.current, known.current);
      const gone = body.items.length - fresh.length;
      setPage({ items: fresh, total: Math.max(0, body.total - gone), loaded: true, error: "" });
    } catch (e) {
      if (ticket === latest.current) setPage((p) => ({ ...p, loaded: true, error: errorText(e) }));
    }
  }
  // At most one refetch per REFETCH_MS however busy the feed (a debounce would starve).
  function soon() {
    timer.current ??= setTimeout(() => { timer.current = null; load(); }, REFETCH_MS);
    settle.current ??= setTimeout(() => { settle.current = null; load(); }, SETTLE_MS);
  }
  // The row of ``c`` brought up to date, or dropped when the case no longer fits the query.
  function replace(c) {
    remember(known.current, c);
    setPage((p) => {
      const held = p.items.find((x) => x.case_id === c.case_id);
      if (!held || (held.updated_at || "") > (c.updated_at || "")) return p;
      const next = Object.fromEntries(Object.keys(held).map((k) => [k, k in c ? c[k] : held[k]]));
      if (!matches(next, queryRef.current)) {
        return { ...p, items: p.items.filter((x) => x !== held), total: Math.max(0, p.total - 1) };
      }
      return { ...p, items: p.items.map((x) => (x === held ? next : x)) };
    });
  }

  useEffect(() => { load(); }, [query]);

  useEffect(() => {
    const stop = follow("/api/v1/live/cases", (type, data) => {
      if (type === "case" && data && data.case_id) {
        const held = items.current.find((c) => c.case_id === data.case_id);
        if (held && held.updated_at === data.updated_at) {
          // the row shows it already (the case page, or a list that caught up first); the
          // open case's view may not: let it read the case again
          remember(known.current, data);
          onCaseRef.current?.(data);
          return;
        }
        replace(data);
        setFresh((s) => new Set(s).add(data.case_id));
        setTimeout(() => setFresh((s) => { const n = new Set(s); n.delete(data.case_id); return n; }), 2500);
        onCaseRef.current?.(data);
        soon();
      } else if (type === "resync") {
        soon();
      }
    }, (state) => {
      setLive(state);
      if (state === "open") soon();  // catch up on what happened while the feed was down
    });
    return () => { stop(); clearTimeout(timer.current); clearTimeout(settle.current); };
  }, []);

  useEffect(() => {
    if (live === "open") return undefined;
    const poll = setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
    return () => clearInterval(poll);
  }, [live]);

  const ordered = useMemo(() => byUrgency(page.items), [page.items]);
  // patch: a case read in full (its page was opened or acted on) refreshes its row at once.
  // reload: after an action, the list again now and once the index has caught up.
  return { ...page, items: ordered, live, fresh, reload: soon, patch: replace };
}

function remember(map, c) {
  const held = map.get(c.case_id);
  if (held && (held.updated_at || "") > (c.updated_at || "")) return;
  map.delete(c.case_id);  // re-inserted last: the map drops the longest unchanged first
  map.set(c.case_id, { ...held, ...c });
  if (map.size > KNOWN) map.delete(map.keys().next().value);
}

// ``items`` from a search, each row replaced by a newer version ``known`` holds, and
// dropped if that version no longer fits ``query``.
export function reconcile(items, query, known) {
  return items.flatMap((row) => {
    const newer = known.get(row.case_id);
    if (!newer || (newer.updated_at || "") <= (row.updated_at || "")) return [row];
    const next = Object.fromEntries(Object.keys(row).map((k) => [k, k in newer ? newer[k] : row[k]]));
    return matches(next, query) ? [next] : [];
  });
}

// Whether a case still belongs in a list asked for with ``query`` (the filters a summary
// can answer: states, and the fields matched exactly; text and source type are left to
// the next refetch).
const EXACT = ["department", "town", "category", "dimension", "priority", "sla_state"];
export function matches(c, query) {
  const p = new URLSearchParams(query);
  const states = p.getAll("state");
  if (states.length ? !states.includes(c.state) : TERMINAL.has(c.state)) return false;
  return EXACT.every((k) => !p.get(k) || c[k] === p.get(k));
}

const SLA_RANK = { breached: 0, warning: 1 };
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
const running = (c) => c.deadline && c.state !== "deferred" && !String(c.stage || "").endsWith(":stopped");

// The work in the order it is due: overdue, then near, then the rest; within each, the most
// urgent priority; then the nearest running deadline (a paused clock last). The API's
// queue order has the same first two keys and the arrival time as the third, so this
// refines one page, it does not reorder across pages.
export function byUrgency(items) {
  const key = (c) => [SLA_RANK[c.sla_state] ?? 2, PRIORITY_RANK[c.priority] ?? 4,
    running(c) ? new Date(c.deadline).getTime() : Number.MAX_SAFE_INTEGER];
  return items.map((c) => [key(c), c]).sort(([a], [b]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]).map(([, c]) => c);
}

// A clock that ticks every second, for deadline countdowns.
export function useNow(everyMs = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
