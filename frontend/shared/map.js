// The unit-grid map: Lingang's towns and unit grids (GET /api/v1/geo/grids, GeoJSON) drawn
// with Leaflet, a case's grid highlighted and its location marked. A tile layer is added only
// when /config.js names one (tileUrl): without internet the polygons stand on a blank ground.
import { h } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import * as L from "leaflet";
import { config } from "/config.js";
import { api } from "./api.js";

const html = htm.bind(h);
const LINGANG = [30.92, 121.88];

let grids = null;  // one fetch per page: the polygons do not change while it is open
export function loadGrids() {
  grids ??= api("/api/v1/geo/grids").catch((e) => { grids = null; throw e; });
  return grids;
}

// Grid code -> its name ("南汇新城镇第031网格"), once the polygons are in.
export function useGridNames() {
  const [names, setNames] = useState({});
  useEffect(() => {
    let live = true;
    loadGrids().then((geo) => {
      if (live) setNames(Object.fromEntries(geo.features.map((f) => [codeOf(f), f.properties?.name || codeOf(f)])));
    }).catch(() => {});
    return () => { live = false; };
  }, []);
  return names;
}

// The GeoJSON's features name their level ("town" or "grid") and code in their properties.
export function levelOf(feature) {
  const p = feature.properties || {};
  const level = p.kind || p.level || p.type;
  if (level) return level;
  return p.town && p.town !== p.code ? "grid" : "town";
}
export const codeOf = (feature) => {
  const p = feature.properties || {};
  return p.code || p.grid || p.id || feature.id;
};

const STYLE = {
  town: { color: "#0b4f8a", weight: 2, fill: false },
  grid: { color: "#7b8794", weight: 0.6, fillColor: "#e4e7eb", fillOpacity: 0.25 },
  chosen: { color: "#c2410c", weight: 2.5, fillColor: "#fdba74", fillOpacity: 0.45 },
};

function escapeText(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// <GridMap location={lat, lon} grid="code" label="text" />
export function GridMap({ location, grid, label, height = 240 }) {
  const box = useRef(null);
  const state = useRef({});
  useEffect(() => {
    // SVG, not canvas: 400-odd polygons draw fast either way, and Leaflet's canvas renderer
    // can redraw after map.remove() when cases are switched quickly (J/K).
    const map = L.map(box.current, { zoomControl: true, attributionControl: Boolean(config.tileUrl) });
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    map.setView(LINGANG, 11);
    state.current.map = map;
    let live = true;
    loadGrids().then((geo) => {
      if (!live) return;
      state.current.layer = L.geoJSON(geo, {
        style: (f) => STYLE[levelOf(f) === "town" ? "town" : "grid"],
        onEachFeature: (f, layer) => {
          const p = f.properties || {};
          if (levelOf(f) !== "town") layer.bindTooltip(escapeText(p.name || codeOf(f)), { sticky: true });
        },
      }).addTo(map);
      state.current.draw?.();
    }).catch(() => { box.current?.classList.add("nogrids"); });
    return () => { live = false; map.remove(); };
  }, []);

  useEffect(() => {
    const s = state.current;
    s.draw = () => {
      const { map, layer } = s;
      s.marker?.remove();
      let target = null;
      layer?.eachLayer((l) => {
        const f = l.feature;
        if (levelOf(f) === "town") return;
        const chosen = grid && codeOf(f) === grid;
        l.setStyle(chosen ? STYLE.chosen : STYLE.grid);
        if (chosen) { target = l; l.bringToFront(); }
      });
      if (location) {
        s.marker = L.circleMarker([location.lat, location.lon], {
          radius: 8, color: "#fff", weight: 2, fillColor: "#b91c1c", fillOpacity: 1,
        }).addTo(map);
        if (label) s.marker.bindTooltip(escapeText(label));
        map.setView([location.lat, location.lon], 14, { animate: false });
      } else if (target) {
        map.fitBounds(target.getBounds(), { maxZoom: 15, animate: false });
      } else if (layer) {
        map.fitBounds(layer.getBounds(), { animate: false });
      }
    };
    s.draw();
  }, [location?.lat, location?.lon, grid, label]);

  return html`<div class="mapbox">
    <div class="gridmap" ref=${box} style=${`height:${height}px`} role="img" aria-label=${location ? `案件位置：${label || ""}` : "网格地图"}></div>
    ${location && !grid && html`<p class="muted outside">位置不在临港任何单元网格内（辖区外）</p>`}
  </div>`;
}
