// Photos behind the bearer token: <img src> cannot send it, so a photo is fetched as a blob
// and shown through an object URL. Uploads are shrunk in the browser first (≤ 1600 px JPEG).
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { api, authHeaders } from "./api.js";

const html = htm.bind(h);
export const MAX_SIDE = 1600;

// A photo reference is an id (the API's /api/v1/photos/{id}) or an outside http(s) address.
function photoPath(ref, thumb) {
  if (ref.startsWith("/")) return ref;
  return `/api/v1/photos/${encodeURIComponent(ref)}${thumb ? "/thumb" : ""}`;
}

// path -> Promise<object URL>. Photos never change; the oldest are let go past CACHED, so
// a console open all day holds a bounded number of images.
const CACHED = 300;
const cache = new Map();
export function photoUrl(ref, thumb = true) {
  const path = photoPath(ref, thumb);
  if (!cache.has(path)) {
    if (cache.size >= CACHED) {
      const [oldest, url] = cache.entries().next().value;
      cache.delete(oldest);
      url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
    }
    const url = fetch(path, { headers: authHeaders() }).then((r) => {
      if (!r.ok) throw new Error(`照片加载失败（${r.status}）`);
      return r.blob();
    }).then((blob) => URL.createObjectURL(blob));
    url.catch(() => cache.delete(path));
    cache.set(path, url);
  }
  return cache.get(path);
}

export function Photo({ id, alt = "照片" }) {
  const [src, setSrc] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (/^https?:/.test(id)) { setSrc(id); return undefined; }  // an outside address: no token to send
    let live = true;
    photoUrl(id, true).then((u) => live && setSrc(u)).catch(() => live && setFailed(true));
    return () => { live = false; };
  }, [id]);
  const open = (e) => {
    e.preventDefault();
    if (/^https?:/.test(id)) window.open(id, "_blank", "noopener");
    else {
      const tab = window.open("about:blank", "_blank");  // opened now, while the click counts
      photoUrl(id, false).then((u) => { if (tab) tab.location.href = u; }).catch(() => tab?.close());
    }
  };
  if (failed) return html`<span class="photo missing" title=${id}>照片不可用</span>`;
  return html`<a class="photo" href="#" onClick=${open} title="查看原图">
    ${src ? html`<img src=${src} alt=${alt} />` : html`<span class="muted">加载中…</span>`}</a>`;
}

export function Photos({ ids }) {
  if (!ids || !ids.length) return null;
  return html`<div class="photos">${ids.map((id) => html`<${Photo} key=${id} id=${id} />`)}</div>`;
}

// The file as a JPEG whose longer side is at most MAX_SIDE px.
export async function shrink(file, maxSide = MAX_SIDE) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close?.();
  const blob = await new Promise((ok, fail) =>
    canvas.toBlob((b) => (b ? ok(b) : fail(new Error("图片压缩失败"))), "image/jpeg", 0.85));
  return { blob, width: canvas.width, height: canvas.height };
}

// Shrinks and uploads one photo: {photo_id, url, thumb_url}.
export async function upload(file) {
  const { blob } = await shrink(file);
  const form = new FormData();
  form.append("file", blob, (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg");
  return api("/api/v1/photos", { method: "POST", body: form });
}
