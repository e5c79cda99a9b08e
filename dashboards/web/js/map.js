// A plain map of the venues, coloured by how full they are: the city's raster tiles when it
// configured a tile server (HUB_MAP_TILE_URL; the pages' policy allows that one origin), else
// the outlines it uploaded (GeoJSON) as the background. Web Mercator, drawn as <img> tiles under
// one SVG layer; names enter only as text (an SVG <title>), never as markup.

import { t } from "/js/i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const TILE = 256;
const MAX_ZOOM = 18;
const PAD = 24;
export const LEVEL_COLOURS = { plenty: "#2e9d5b", filling_up: "#e0a500", nearly_full: "#d64545", closed: "#8a8f98" };

function project(lon, lat, zoom) {
  const scale = TILE * 2 ** zoom;
  const sin = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return [((lon + 180) / 360) * scale, (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale];
}

function positions(outlines) {
  const found = [];
  for (const feature of outlines.features || []) {
    const geometry = feature.geometry || {};
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    for (const polygon of polygons) for (const ring of polygon) for (const p of ring) found.push(p);
  }
  return found;
}

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function fit(points, width, height) {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const west = Math.min(...lons), east = Math.max(...lons), south = Math.min(...lats), north = Math.max(...lats);
  let zoom = MAX_ZOOM;
  for (; zoom > 1; zoom -= 1) {
    const [x0, y0] = project(west, north, zoom);
    const [x1, y1] = project(east, south, zoom);
    if (x1 - x0 <= width - 2 * PAD && y1 - y0 <= height - 2 * PAD) break;
  }
  const [x0, y0] = project(west, north, zoom);
  const [x1, y1] = project(east, south, zoom);
  return { zoom, left: (x0 + x1) / 2 - width / 2, top: (y0 + y1) / 2 - height / 2 };
}

/**
 * Draw venues ({id, name, latitude, longitude, level}) into el.
 * options: {tileUrl, outlines, href(venue)}.
 */
export function drawMap(el, venues, { tileUrl = null, outlines = { features: [] }, href = null } = {}) {
  const placed = venues.filter((v) => Number.isFinite(v.latitude) && Number.isFinite(v.longitude));
  el.replaceChildren();
  el.classList.add("venue-map");
  const width = el.clientWidth || 600;
  const height = el.clientHeight || 320;
  const points = [...placed.map((v) => [v.longitude, v.latitude]), ...positions(outlines)];
  el.dataset.venues = String(placed.length);
  if (!points.length) {
    el.dataset.empty = "true";
    const note = document.createElement("p");
    note.className = "muted map-empty";
    note.dataset.i18n = "map.no_places";
    note.textContent = t("map.no_places");
    el.append(note);
    return;
  }
  delete el.dataset.empty;
  const view = fit(points, width, height);
  if (tileUrl) {
    const count = 2 ** view.zoom;
    const layer = document.createElement("div");
    layer.className = "tiles";
    for (let ty = Math.floor(view.top / TILE); ty * TILE < view.top + height; ty += 1) {
      for (let tx = Math.floor(view.left / TILE); tx * TILE < view.left + width; tx += 1) {
        if (ty < 0 || ty >= count) continue;
        const img = document.createElement("img");
        img.alt = "";
        img.src = tileUrl.replace("{z}", view.zoom).replace("{x}", ((tx % count) + count) % count).replace("{y}", ty);
        img.style.left = `${tx * TILE - view.left}px`;
        img.style.top = `${ty * TILE - view.top}px`;
        layer.append(img);
      }
    }
    el.append(layer);
  }
  const drawing = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  drawing.setAttribute("aria-label", t("map.label"));
  const at = (lon, lat) => {
    const [x, y] = project(lon, lat, view.zoom);
    return [x - view.left, y - view.top];
  };
  for (const feature of outlines.features || []) {
    const geometry = feature.geometry || {};
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates || [];
    const d = polygons
      .flatMap((polygon) => polygon.map((ring) => `M${ring.map((p) => at(p[0], p[1]).map((n) => n.toFixed(1)).join(",")).join("L")}Z`))
      .join("");
    const path = svg("path", { d, class: "outline" });
    if (feature.properties && typeof feature.properties.name === "string") {
      const title = svg("title", {});
      title.textContent = feature.properties.name;
      path.append(title);
    }
    drawing.append(path);
  }
  for (const venue of placed) {
    const [x, y] = at(venue.longitude, venue.latitude);
    const dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 9, fill: LEVEL_COLOURS[venue.level] || LEVEL_COLOURS.closed, class: "venue-dot" });
    dot.dataset.venue = venue.id;
    dot.dataset.level = venue.level;
    const title = svg("title", {});
    title.textContent = [venue.name, t(`public.level.${venue.level}`)].join(t("common.dot"));
    dot.append(title);
    if (href) {
      const link = svg("a", { href: href(venue) });
      link.append(dot);
      drawing.append(link);
    } else {
      drawing.append(dot);
    }
  }
  el.append(drawing);
}
