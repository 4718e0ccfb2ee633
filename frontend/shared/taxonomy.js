// Names for codes: departments, classes and towns, for pickers, filters and labels.
//
// From GET /api/v1/taxonomy when the API has it; otherwise (and in addition) learnt from the
// cases the screen has seen, so a filter offers at least the codes in view.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

const names = { departments: {}, categories: {}, towns: {}, classes: [], loaded: false };
const listeners = new Set();
let loading = null;

function changed() { for (const fn of listeners) fn({ ...names }); }

// Accepts lists of {code, name, ...} or {code: name} maps under a few likely keys.
function entries(value) {
  if (!value) return [];
  if (Array.isArray(value)) return value.map((x) => [x.code ?? x.id, x]);
  return Object.entries(value).map(([code, x]) => [code, typeof x === "string" ? { name: x } : x]);
}

function take(body) {
  for (const [code, d] of entries(body.departments)) if (code) names.departments[code] = d.name || code;
  for (const [code, t] of entries(body.towns)) if (code) names.towns[code] = t.name || code;
  const classes = entries(body.classes || body.categories || body.leaves);
  for (const [code, c] of classes) if (code) names.categories[code] = c.name || code;
  names.classes = classes.filter(([code]) => code).map(([code, c]) => ({ code, ...c }));
  names.loaded = true;
}

export function loadTaxonomy() {
  loading ??= api("/api/v1/taxonomy").then(take).catch(() => { names.loaded = false; }).finally(changed);
  return loading;
}

export function learn(c) {
  let added = false;
  const put = (table, code, name) => {
    if (code && name && table[code] !== name && !(code in table)) { table[code] = name; added = true; }
  };
  put(names.departments, c.department, c.department_name);
  put(names.categories, c.category, c.category_name);
  put(names.towns, c.town, c.town_name);
  for (const s of c.suggestions || []) put(names.categories, s.category, s.category_name);
  if (added) changed();
}

export function useNames() {
  const [value, setValue] = useState({ ...names });
  useEffect(() => {
    listeners.add(setValue);
    loadTaxonomy();
    return () => listeners.delete(setValue);
  }, []);
  return value;
}
