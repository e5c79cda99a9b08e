// The public venue page (no login): every shared venue with its hours today, whether it is open
// and how full as a level, filtered by kind and sub-district, nearest first when the browser
// gives a location (else by name); a map; levels refreshed every half minute. /public/venues/ID
// opens one venue with its QR code; /public/venues/ID/print is that code for the gate.

import { $, fill, fmt, h, label, value } from "/js/dom.js";
import { apply, currentLanguage, initI18n, onLanguageChange, t } from "/js/i18n.js";
import { drawMap } from "/js/map.js";
import { languageSwitch } from "/js/shell.js";

const KINDS = ["sports_ground", "car_park", "other"];
const REFRESH_MS = 30000;
const path = location.pathname.match(/^\/public\/venues\/([A-Za-z0-9_-]+)(\/print)?$/);
const state = {
  venues: [],
  map: { tile_url: null, base_url: "" },
  outlines: { type: "FeatureCollection", features: [] },
  kind: "",
  subdistrict: "",
  here: null, // [latitude, longitude] when the browser gives it
  one: path ? path[1] : null,
  print: Boolean(path && path[2]),
};

async function get(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Great-circle distance in metres. */
function distance(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(s));
}

function away(v) {
  return state.here && v.latitude !== null && v.longitude !== null ? distance(state.here, [v.latitude, v.longitude]) : null;
}

function visible() {
  const shown = state.venues.filter((v) => (!state.kind || v.kind === state.kind) && (!state.subdistrict || v.subdistrict === state.subdistrict));
  const byName = (a, b) => a.name.localeCompare(b.name, currentLanguage());
  if (!state.here) return shown.sort(byName);
  return shown.sort((a, b) => (away(a) ?? Infinity) - (away(b) ?? Infinity) || byName(a, b));
}

function hours(v) {
  if (!v.hours_today) return label("public.closed_today");
  return label("public.hours_today", { opens: v.hours_today.opens_at.slice(0, 5), closes: v.hours_today.closes_at.slice(0, 5) });
}

function card(v, withQr = false) {
  const metres = away(v);
  return h(
    "article",
    { class: "public-card", id: `venue-${v.id}`, dataset: { venue: v.id, level: v.level, open: String(v.open_now) } },
    h("a", { class: "public-name", href: `/public/venues/${encodeURIComponent(v.id)}` }, value(v.name, "h2")),
    h("div", { class: "public-level" }, h("span", { class: `level-dot level-${v.level}`, "aria-hidden": "true" }), label(`public.level.${v.level}`, undefined, "strong")),
    v.occupancy !== null && v.capacity !== null ? label("public.count", { n: v.occupancy, capacity: v.capacity }, "p", { class: "public-count" }) : null,
    h("p", {}, label(`venue.kind.${v.kind}`), label("common.dot"), value(v.subdistrict), label("common.dot"), value(v.community)),
    h("p", {}, value(v.address)),
    h("p", {}, hours(v), label("common.dot"), label(v.open_now ? "public.open_now" : "public.closed_now")),
    metres !== null ? label("public.distance", { km: Math.round(metres / 100) / 10 }, "p", { class: "muted" }) : null,
    withQr
      ? h(
          "div",
          { class: "public-qr" },
          h("img", { src: `/public/v1/venues/${encodeURIComponent(v.id)}/qr.svg`, width: 200, height: 200, dataset: { i18nAttr: "alt:public.qr_alt" }, alt: t("public.qr_alt") }),
          label("public.print", undefined, "a", { href: `/public/venues/${encodeURIComponent(v.id)}/print`, class: "button" }),
        )
      : null,
  );
}

function renderFilters() {
  const subdistricts = [...new Set(state.venues.map((v) => v.subdistrict))].sort((a, b) => a.localeCompare(b, "zh-CN"));
  fill($("#kind"), label("public.all_kinds", undefined, "option", { value: "" }), ...KINDS.map((k) => label(`venue.kind.${k}`, undefined, "option", { value: k })));
  fill($("#subdistrict"), label("public.all_subdistricts", undefined, "option", { value: "" }), ...subdistricts.map((s) => value(s, "option", { value: s })));
  $("#kind").value = state.kind;
  $("#subdistrict").value = state.subdistrict;
}

function render() {
  const shown = state.one ? state.venues.filter((v) => v.id === state.one) : visible();
  fill($("#sorted"), label(state.here ? "public.sorted_by_distance" : "public.sorted_by_name"));
  fill($("#venues"), ...(shown.length ? shown.map((v) => card(v, Boolean(state.one))) : [label("public.none", undefined, "p", { class: "muted" })]));
  drawMap($("#map"), shown, { tileUrl: state.map.tile_url, outlines: state.outlines, href: (v) => `/public/venues/${encodeURIComponent(v.id)}` });
}

function renderPrint() {
  const v = state.venues.find((x) => x.id === state.one);
  document.body.classList.add("print-view");
  fill(
    $("#main"),
    v
      ? h(
          "section",
          { class: "print-sheet", id: `print-${v.id}` },
          value(v.name, "h1"),
          h("img", { src: `/public/v1/venues/${encodeURIComponent(v.id)}/qr.svg`, width: 360, height: 360, alt: t("public.qr_alt"), dataset: { i18nAttr: "alt:public.qr_alt" } }),
          label("public.scan", undefined, "p", { class: "print-scan" }),
          value(v.address, "p"),
          value(`${state.map.base_url}/public/venues/${v.id}`, "p", { class: "muted" }),
          label("public.print_now", undefined, "button", { type: "button", class: "button no-print", on: { click: () => window.print() } }),
        )
      : label("public.none", undefined, "p"),
  );
}

async function refresh() {
  try {
    state.venues = (await get("/public/v1/venues")).data;
    if (state.print) renderPrint();
    else render();
    document.documentElement.dataset.refreshed = new Date().toISOString();
  } catch (error) {
    fill($("#state"), label("public.offline", undefined, "p", { class: "bad" }));
    throw error;
  }
}

function locate() {
  if (state.one || !("geolocation" in navigator)) return;
  navigator.geolocation.getCurrentPosition(
    (where) => {
      state.here = [where.coords.latitude, where.coords.longitude];
      render();
    },
    () => {}, // refused or unknown: the list stays by name
    { maximumAge: 300000, timeout: 10000 },
  );
}

async function main() {
  await initI18n();
  apply(document);
  $("#lang").append(languageSwitch());
  onLanguageChange(() => (state.print ? renderPrint() : render()));
  [state.map, state.outlines] = await Promise.all([get("/public/v1/map"), get("/public/v1/map/outlines")]);
  await refresh();
  if (!state.print) {
    renderFilters();
    for (const id of ["kind", "subdistrict"]) {
      $(`#${id}`).addEventListener("change", (event) => {
        state[id] = event.target.value;
        render();
      });
    }
    if (state.one) document.body.classList.add("one-venue");
    locate();
    setInterval(() => refresh().catch(() => {}), REFRESH_MS);
  }
  document.documentElement.dataset.ready = "true";
}

main();
