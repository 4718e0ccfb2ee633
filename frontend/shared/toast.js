// The outcome of an action, shown to whoever acted: 已执行 in green, 被拒绝：原因 in red.
import { h } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";

const html = htm.bind(h);

export function useToasts() {
  const [items, setItems] = useState([]);
  function show(outcome) {
    const id = Math.random();
    setItems((xs) => [...xs.slice(-3), { id, ...outcome }]);
    setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), outcome.ok === false ? 12000 : 6000);
  }
  show.dismiss = (id) => setItems((xs) => xs.filter((x) => x.id !== id));
  return [items, show];
}

// A toast goes by itself after a while, or at once when clicked.
export function Toasts({ items, onDismiss }) {
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map((t) => html`<div key=${t.id} class=${`toast ${t.ok === false ? "bad" : t.ok ? "good" : "wait"}`}
      title="点击关闭" onClick=${() => onDismiss?.(t.id)}>${t.text}</div>`)}
  </div>`;
}
