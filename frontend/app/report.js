// 新上报: what, photos, where (GPS, pin draggable), an optional category. The draft goes to
// the outbox, which sends it now or when the signal comes back.
import { useEffect, useState } from "preact/hooks";
import { api, session } from "/shared/api.js";
import { gridAt, LINGANG, PinMap, townCentre } from "./map.js";
import { queue, remove } from "./outbox.js";
import { PhotoPicker } from "./photos.js";
import { html, Notice } from "./ui.js";

const MAX_TEXT = 5000;

// The five dimensions of the taxonomy, as the worker knows them.
const DIMENSIONS = { 宁: "宁 · 安全", 净: "净 · 整洁", 美: "美 · 市容", 畅: "畅 · 通行", 和: "和 · 民生与邻里" };

// The taxonomy's classes as [{group, items:[{code, name}]}], grouped by dimension; [] when
// the API has none.
async function categories() {
  const data = await api("/api/v1/taxonomy");
  const classes = Array.isArray(data) ? data : data.classes || [];
  const groups = new Map();
  for (const c of classes) {
    if (!c?.code) continue;
    const group = DIMENSIONS[c.dimension] || c.dimension || "其他";
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push({ code: c.code, name: c.name || c.code });
  }
  return [...groups].map(([group, items]) => ({ group, items }));
}

function useCategories() {
  const [groups, setGroups] = useState([]);
  useEffect(() => { categories().then(setGroups).catch(() => setGroups([])); }, []);
  return groups;
}

function locate(setPosition, setWhere) {
  if (!navigator.geolocation) { setWhere("此设备不支持定位，请拖动图钉标出问题位置"); return; }
  setWhere("正在定位…");
  navigator.geolocation.getCurrentPosition(
    (p) => {
      setPosition({ lat: p.coords.latitude, lon: p.coords.longitude });
      setWhere(`已定位（精度约 ${Math.round(p.coords.accuracy)} 米），可拖动图钉校正`);
    },
    (e) => setWhere(`${e.code === 1 ? "未获准使用定位" : "暂时无法定位"}，请拖动图钉或点按地图标出问题位置`),
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 30_000 },
  );
}

function GridName({ position }) {
  const [grid, setGrid] = useState(undefined);
  useEffect(() => {
    let live = true;
    gridAt(position).then((g) => live && setGrid(g)).catch(() => live && setGrid(undefined));
    return () => { live = false; };
  }, [position.lat, position.lon]);
  if (grid === undefined) return null;
  return html`<p class="grid-name">${grid ? `所在网格：${grid.name}` : "图钉不在临港的单元网格内，请确认位置"}</p>`;
}

function CategoryPicker({ value, onChange }) {
  const groups = useCategories();
  if (!groups.length) return null;
  return html`
    <label class="field">
      <span>问题类别（可不选）</span>
      <select name="category" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        <option value="">不选，由系统自动分类</option>
        ${groups.map((g) => html`
          <optgroup label=${g.group}>
            ${g.items.map((c) => html`<option value=${c.code}>${c.name}</option>`)}
          </optgroup>`)}
      </select>
    </label>`;
}

function check({ text, photos, position }) {
  if (!text.trim()) return "请填写问题描述";
  if (text.length > MAX_TEXT) return `问题描述不能超过 ${MAX_TEXT} 字`;
  if (!photos.length) return "请至少拍一张现场照片";
  if (!position) return "请在地图上标出问题位置";
  return null;
}

// The form's values outlive the screen: a worker who looks at another tab and comes back
// finds the text, photos and pin as they left them.
const EMPTY = { text: "", address: "", category: "", photos: [], position: null, where: "", replaces: null };
let kept = { ...EMPTY };

function useKept(name) {
  const [value, setValue] = useState(kept[name]);
  const set = (next) => setValue((old) => {
    const v = typeof next === "function" ? next(old) : next;
    kept[name] = v;
    return v;
  });
  return [value, set];
}

// Puts a draft the API refused back into the form, to correct it and send it as a new one
// (the refused draft leaves the outbox when the corrected one is queued).
export function editDraft(record) {
  kept = {
    text: record.text,
    address: record.address || "",
    category: record.category_hint || "",
    photos: record.photos.map((p) => p.blob).filter(Boolean),
    position: record.location,
    where: "已按原上报的位置，可拖动图钉校正",
    replaces: record.key,
  };
}

// Where: the phone's position (or the town's middle), on a map whose pin the worker drags.
function LocationField({ position, setPosition }) {
  const [where, setWhere] = useKept("where");
  useEffect(() => {
    if (kept.position) return;
    townCentre(session()?.user?.town).catch(() => null)
      .then((centre) => setPosition((p) => p || centre || LINGANG));
    locate(setPosition, setWhere);
  }, []);
  const moved = (p) => { setPosition(p); setWhere("已按图钉位置上报"); };
  return html`
    <div class="field">
      <span>问题位置</span>
      ${position && html`<${PinMap} position=${position} onMove=${moved} />`}
      ${position && html`<${GridName} position=${position} />`}
      <p class="hint">
        ${where}
        <button type="button" class="link" onClick=${() => locate(setPosition, setWhere)}>重新定位</button>
      </p>
    </div>`;
}

export function ReportScreen({ go }) {
  const [text, setText] = useKept("text");
  const [address, setAddress] = useKept("address");
  const [category, setCategory] = useKept("category");
  const [photos, setPhotos] = useKept("photos");
  const [position, setPosition] = useKept("position");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const problem = check({ text, photos, position });
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const location = { lat: +position.lat.toFixed(6), lon: +position.lon.toFixed(6) };
      await queue({ text: text.trim(), location, address: address.trim(), category_hint: category, photos });
      if (kept.replaces) await remove(kept.replaces);
      kept = { ...EMPTY };
      go("#/outbox");
    } catch (e) {
      setError(`未能保存到本机：${e.message}`);
      setBusy(false);
    }
  }

  return html`
    <form class="screen report" onSubmit=${submit} novalidate>
      <h1>${kept.replaces ? "修改后重新提交" : "新上报"}</h1>
      <label class="field">
        <span>问题描述</span>
        <textarea name="text" rows="3" maxlength=${MAX_TEXT} placeholder="例如：临港大道某号门前井盖破损，有行人绊倒风险"
          value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      </label>
      <div class="field">
        <span>现场照片</span>
        <${PhotoPicker} photos=${photos} onChange=${setPhotos} onError=${setError} />
      </div>
      <${LocationField} position=${position} setPosition=${setPosition} />
      <label class="field">
        <span>地址或地标（可不填）</span>
        <input name="address" maxlength="200" placeholder="例如：环湖西二路 888 号附近" value=${address}
          onInput=${(e) => setAddress(e.currentTarget.value)} />
      </label>
      <${CategoryPicker} value=${category} onChange=${setCategory} />
      <${Notice} kind="error">${error}<//>
      <button class="primary big" type="submit" disabled=${busy}>${busy ? "正在保存…" : "提交上报"}</button>
      <p class="hint">没有信号也可以提交：上报先保存在本机，联网后自动发送。</p>
    </form>`;
}
