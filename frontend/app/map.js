// The report's map: a pin at the phone's position that the worker drags (or taps the map)
// to where the problem is. With no tile server configured (config.tileUrl null) the map
// draws the towns and grids from /api/v1/geo/grids on a plain background, so it works
// with no internet; the service worker keeps the outlines for offline use.
import { useEffect, useRef } from "preact/hooks";
import * as L from "leaflet";
import { api } from "/shared/api.js";
import { config } from "/config.js";
import { html } from "./ui.js";

export const LINGANG = { lat: 30.9, lon: 121.93 };

let outlines = null;
export function gridOutlines() {
  outlines ??= api("/api/v1/geo/grids").catch((error) => { outlines = null; throw error; });
  return outlines;
}

// The middle of a town's outline, to start from when the phone cannot say where it is.
export async function townCentre(town) {
  const geo = await gridOutlines();
  const feature = geo.features.find((f) => f.properties?.kind === "town" && f.properties?.code === town);
  if (!feature) return null;
  const ring = feature.geometry.coordinates[0];
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  return { lat: (Math.min(...lats) + Math.max(...lats)) / 2, lon: (Math.min(...lons) + Math.max(...lons)) / 2 };
}

function inside(ring, lat, lon) {
  let hit = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

// The unit grid a point lies in ({code, name}), from the outlines; null outside every grid.
export async function gridAt({ lat, lon }) {
  const geo = await gridOutlines();
  const grid = geo.features.find((f) => f.properties?.kind === "grid" && inside(f.geometry.coordinates[0], lat, lon));
  return grid ? { code: grid.properties.code, name: grid.properties.name } : null;
}

const PIN = L.divIcon({ className: "pin", html: "<span></span>", iconSize: [36, 48], iconAnchor: [18, 46] });

const TOWN_STYLE = { color: "#0f766e", weight: 2.5, fill: false };
const GRID_STYLE = { color: "#64748b", weight: 0.8, fillColor: "#e2e8f0", fillOpacity: 0.35 };
const HERE_STYLE = { color: "#0f766e", weight: 2, fillColor: "#5eead4", fillOpacity: 0.35 };

// Draws the towns and grids; returns a function that shades the grid holding a point.
function drawOutlines(map) {
  let layer = null;
  let last = null;
  const shade = (point) => {
    last = point;
    layer?.eachLayer((l) => {
      const p = l.feature.properties;
      if (p.kind !== "grid") return;
      l.setStyle(inside(l.feature.geometry.coordinates[0], point.lat, point.lon) ? HERE_STYLE : GRID_STYLE);
    });
  };
  gridOutlines().then((geo) => {
    layer = L.geoJSON(geo, {
      interactive: false,
      style: (f) => (f.properties?.kind === "town" ? TOWN_STYLE : GRID_STYLE),
    }).addTo(map);
    if (last) shade(last);
  }).catch(() => {}); // the pin still works on a blank map
  return shade;
}

// ``fixed``: the pin only shows where (a task's case); otherwise it is dragged or moved by a tap.
export function PinMap({ position, onMove = () => {}, fixed = false, zoom = 14 }) {
  const box = useRef(null);
  const map = useRef(null);
  const pin = useRef(null);
  const shade = useRef(() => {});
  const moved = useRef(onMove);
  moved.current = onMove;

  useEffect(() => {
    const m = L.map(box.current, { zoomControl: true, attributionControl: Boolean(config.tileUrl) });
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: "地图" }).addTo(m);
    else box.current.classList.add("blank");
    shade.current = drawOutlines(m);
    const at = [position.lat, position.lon];
    m.setView(at, zoom);
    shade.current(position);
    const title = fixed ? "案件位置" : "问题位置（可拖动）";
    pin.current = L.marker(at, { draggable: !fixed, icon: PIN, title, keyboard: !fixed }).addTo(m);
    pin.current.on("dragend", () => {
      const { lat, lng } = pin.current.getLatLng();
      m.panInside([lat, lng], { padding: [40, 40] });
      moved.current({ lat, lon: lng }, "manual");
    });
    m.on("click", (event) => {
      if (fixed) return;
      pin.current.setLatLng(event.latlng);
      moved.current({ lat: event.latlng.lat, lon: event.latlng.lng }, "manual");
    });
    map.current = m;
    const resize = setTimeout(() => m.invalidateSize(), 50);
    return () => { clearTimeout(resize); m.remove(); };
  }, []);

  useEffect(() => {
    if (!map.current) return;
    shade.current(position);
    const here = pin.current.getLatLng();
    if (Math.abs(here.lat - position.lat) < 1e-7 && Math.abs(here.lng - position.lon) < 1e-7) return;
    pin.current.setLatLng([position.lat, position.lon]);
    map.current.panTo([position.lat, position.lon]);
  }, [position.lat, position.lon]);

  const label = fixed ? "案件位置地图" : "问题位置地图：拖动图钉或点按地图";
  return html`<div class=${fixed ? "map small" : "map"} ref=${box} role="application" aria-label=${label}></div>`;
}
