// The department's actions on its cases: 受理, 处理反馈 (notes and photos), 退单 (a case that
// is not ours, with the reason) and 申请延期 (hours and the reason). The workflow decides.
import { h } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";
import { upload } from "/shared/photos.js";
import { extensionPending } from "/shared/cases.js";
import { errorText } from "/shared/labels.js";

const html = htm.bind(h);
const is = (...states) => (c) => states.includes(c.state);
export const MAX_PHOTOS = 9;

// Picks photos, shrinks and uploads each at once; the form reads the ids from "photos".
function PhotoPicker() {
  const [items, setItems] = useState([]);  // {key, preview, id?, error?}
  async function pick(e) {
    const files = [...e.target.files].slice(0, MAX_PHOTOS - items.length);
    e.target.value = "";
    for (const file of files) {
      const key = Math.random().toString(36).slice(2);
      setItems((xs) => [...xs, { key, preview: URL.createObjectURL(file) }]);
      upload(file).then((photo) => setItems((xs) => xs.map((x) => (x.key === key ? { ...x, id: photo.photo_id } : x))))
        .catch((err) => setItems((xs) => xs.map((x) => (x.key === key ? { ...x, error: errorText(err) } : x))));
    }
  }
  const remove = (key) => setItems((xs) => xs.filter((x) => x.key !== key));
  const busy = items.some((x) => !x.id && !x.error);
  return html`<div class="picker">
    <label class="pick">添加照片<input type="file" name="file" accept="image/*" multiple onChange=${pick} /></label>
    <input type="hidden" name="photos" value=${items.filter((x) => x.id).map((x) => x.id).join(",")} />
    <input type="hidden" name="uploading" value=${busy ? "1" : ""} />
    ${items.map((x) => html`<span class=${`thumb ${x.error ? "bad" : x.id ? "done" : "busy"}`} key=${x.key} title=${x.error || (x.id ? "已上传" : "上传中…")}>
      <img src=${x.preview} alt="待上传照片" /><button type="button" onClick=${() => remove(x.key)} title="移除">×</button></span>`)}
    ${items.some((x) => x.error) && html`<span class="err">有照片上传失败，请移除后重试</span>`}
  </div>`;
}

export const DEPARTMENT_ACTIONS = [
  { id: "accept", label: "受理", key: "a", when: is("dispatched"), body: () => ({ kind: "accept" }) },
  { id: "report_back", label: "处理反馈", key: "f", when: is("in_progress"),
    fields: () => html`<textarea name="notes" rows="2" cols="36" maxlength="4000" placeholder="处置说明（做了什么、结果如何）"></textarea><${PhotoPicker} />`,
    values: (form) => {
      if (form.get("uploading")) throw new Error("照片上传中，请稍候再提交");
      const notes = String(form.get("notes") || "").trim();
      const photos = String(form.get("photos") || "").split(",").filter(Boolean);
      if (!notes && !photos.length) throw new Error("请填写处置说明或添加照片");
      return { notes, photos };
    },
    body: () => ({ kind: "report_back" }) },
  { id: "return", label: "退单", key: "t", danger: true, when: is("dispatched", "in_progress"), reason: "required",
    body: () => ({ kind: "return" }) },
  { id: "extend", label: "申请延期", key: "y", when: (c) => c.state === "in_progress" && !extensionPending(c), reason: "required",
    fields: () => html`<label>延期 <input type="number" name="hours" value="24" min="1" max="1440" step="1" style="width:5em" /> 小时</label>`,
    values: (form) => {
      const hours = Number(form.get("hours"));
      if (!(hours > 0 && hours <= 1440)) throw new Error("延期小时数应在 1 到 1440 之间");
      return { hours };
    },
    body: (v) => ({ kind: "request_extension", hours: v.hours }) },
];
