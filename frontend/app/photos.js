// Photos: resized in the browser before they are stored or sent, uploaded one by one, and
// shown from the API's thumbnails (which need the bearer token, so they are fetched as
// blobs and shown through object URLs).
import { useEffect, useState } from "preact/hooks";
import { api, authHeaders } from "/shared/api.js";
import { html } from "./ui.js";

export const MAX_SIDE = 1600;
export const MAX_PHOTOS = 9;
const QUALITY = 0.85;

// A JPEG no larger than MAX_SIDE on its longest side. Re-encoding also drops the EXIF
// block (the phone's own GPS track and serial number stay on the phone).
export async function resize(file, maxSide = MAX_SIDE) {
  let picture;
  try {
    picture = await decode(file);
  } catch {
    throw new Error(`无法读取照片「${file.name || "照片"}」，请换一张（支持 JPEG、PNG、WebP）`);
  }
  const scale = Math.min(1, maxSide / Math.max(picture.width, picture.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(picture.width * scale));
  canvas.height = Math.max(1, Math.round(picture.height * scale));
  canvas.getContext("2d").drawImage(picture, 0, 0, canvas.width, canvas.height);
  picture.close?.();
  const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", QUALITY));
  if (!blob) throw new Error("照片压缩失败，请重试");
  return blob;
}

// The photo upright as the camera held it: an ImageBitmap, or an <img> where the browser's
// createImageBitmap cannot take options (older Safari), which applies EXIF rotation itself.
async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img; // loaded: its width and height are the picture's
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function uploadPhoto(blob) {
  const form = new FormData();
  form.append("file", blob, "photo.jpg");
  return api("/api/v1/photos", { method: "POST", body: form });
}

// The thumbnail URL of a photo reference: a photo id, an API URL, or {thumb_url}.
export function thumbPath(ref) {
  if (ref && typeof ref === "object") return ref.thumb_url || thumbPath(ref.photo_id || ref.id || ref.url);
  if (typeof ref !== "string" || !ref) return null;
  const id = ref.match(/\/api\/v1\/photos\/([^/?#]+)/)?.[1];
  if (id) return `/api/v1/photos/${id}/thumb`;
  if (/^[A-Za-z0-9_.-]+$/.test(ref)) return `/api/v1/photos/${ref}/thumb`;
  return null;
}

async function fetchBlob(path, retried = false) {
  const r = await fetch(path, { headers: authHeaders() });
  if (r.status === 401 && !retried) {
    await api("/api/v1/auth/me").catch(() => {}); // refreshes the token if it can
    return fetchBlob(path, true);
  }
  if (!r.ok) throw new Error(String(r.status));
  return r.blob();
}

// An API photo as an object URL (the request needs the token); null until it has come.
function usePhotoUrl(path) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!path) { setFailed(true); return undefined; }
    let objectUrl = null;
    let live = true;
    fetchBlob(path).then((blob) => {
      objectUrl = URL.createObjectURL(blob);
      if (live) setUrl(objectUrl); else URL.revokeObjectURL(objectUrl);
    }).catch(() => live && setFailed(true));
    return () => { live = false; if (objectUrl) URL.revokeObjectURL(objectUrl); };
  }, [path]);
  return { url, failed };
}

function Viewer({ path, onClose }) {
  const { url, failed } = usePhotoUrl(path);
  useEffect(() => {
    const key = (e) => e.key === "Escape" && onClose();
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, []);
  return html`
    <div class="viewer" role="dialog" aria-label="查看照片" onClick=${onClose}>
      ${url ? html`<img src=${url} alt="现场照片原图" />` : html`<p>${failed ? "照片暂不可用" : "正在加载原图…"}</p>`}
      <button type="button" class="close" aria-label="关闭">×</button>
    </div>`;
}

// A thumbnail; a tap opens the photo full size.
export function Thumb({ photo, alt = "现场照片" }) {
  const path = thumbPath(photo);
  const { url, failed } = usePhotoUrl(path);
  const [open, setOpen] = useState(false);
  if (failed) return html`<span class="thumb missing">照片暂不可用</span>`;
  if (!url) return html`<span class="thumb loading">加载中</span>`;
  return html`
    <button type="button" class="thumb-button" aria-label=${`${alt}（点按查看原图）`} onClick=${() => setOpen(true)}>
      <img class="thumb" src=${url} alt=${alt} />
    </button>
    ${open && html`<${Viewer} path=${path.replace(/\/thumb$/, "")} onClose=${() => setOpen(false)} />`}`;
}

export function BlobThumb({ blob, alt = "待上传的照片" }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    const objectUrl = URL.createObjectURL(blob);
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [blob]);
  return url ? html`<img class="thumb" src=${url} alt=${alt} />` : null;
}

// Picks photos (camera or gallery), resizes them, and lists them with a remove button.
export function PhotoPicker({ photos, onChange, onError, name = "photos", label = "拍照或选择照片" }) {
  const [busy, setBusy] = useState(false);
  async function picked(event) {
    const files = [...event.currentTarget.files];
    event.currentTarget.value = "";
    if (!files.length) return;
    const room = MAX_PHOTOS - photos.length;
    if (files.length > room) onError(`最多 ${MAX_PHOTOS} 张照片，已保留前 ${Math.max(room, 0)} 张`);
    setBusy(true);
    const added = [];
    try {
      for (const file of files.slice(0, Math.max(room, 0))) added.push(await resize(file));
    } catch (error) {
      onError(error.message);
    } finally {
      setBusy(false);
      if (added.length) onChange([...photos, ...added]);
    }
  }
  return html`
    <div class="photos">
      ${photos.map((blob, i) => html`
        <figure class="photo" key=${i}>
          <${BlobThumb} blob=${blob} />
          <button type="button" class="remove" aria-label=${`删除第 ${i + 1} 张照片`}
            onClick=${() => onChange(photos.filter((_, j) => j !== i))}>×</button>
        </figure>`)}
      ${photos.length < MAX_PHOTOS && html`
        <label class="add-photo">
          <input type="file" name=${name} accept="image/*" multiple onChange=${picked} />
          <span>${busy ? "正在压缩…" : `＋ ${label}`}</span>
        </label>`}
    </div>`;
}
