// Server-Sent Events over fetch (EventSource cannot send the bearer token).
//
// follow(path, onEvent) reads "event:/data:" frames and calls onEvent(type, data) with the
// parsed JSON; it reconnects after a drop (waiting the server's "retry:" or 3 s) and
// refreshes the token through api.js when the server says 401. Returns a stop function.
import { authHeaders, api } from "./api.js";

export function follow(path, onEvent, onState = () => {}) {
  let stopped = false;
  let controller = null;
  let retryMs = 3000;

  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const r = await fetch(path, { headers: { ...authHeaders(), Accept: "text/event-stream" }, signal: controller.signal });
        if (r.status === 401) { await api("/api/v1/auth/me").catch(() => {}); throw new Error("401"); }
        if (!r.ok || !r.body) throw new Error(String(r.status));
        onState("open");
        await read(r.body);
      } catch (e) {
        if (stopped) return;
      }
      onState("closed");
      await new Promise((ok) => setTimeout(ok, retryMs));
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message";
        const data = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          else if (line.startsWith("retry:")) retryMs = Number(line.slice(6)) || retryMs;
        }
        if (!data.length) continue;
        try { onEvent(type, JSON.parse(data.join("\n"))); } catch { onEvent(type, data.join("\n")); }
      }
    }
  }

  run();
  return () => { stopped = true; controller?.abort(); };
}
