// Venues (venue managers): every shared venue as a card with its live occupancy, capacity bar
// and alert state; filters by kind and sub-district. When the hub recomputes a venue's live
// occupancy from its sensors' readings, the stream says so and its card is redrawn.

import { getAll, getJSON } from "/js/api.js";
import { $, badge, debounce, fill, fmt, h, label, value } from "/js/dom.js";
import { drawMap } from "/js/map.js";
import { startPage } from "/js/shell.js";

const KINDS = ["sports_ground", "car_park", "other"];
const params = new URLSearchParams(location.search);
const state = {
  venues: new Map(), // id -> venue
  subdistrictOf: new Map(), // community id -> subdistrict id
  subdistricts: [],
  places: new Map(), // id -> the public view of a venue (its coordinates and level)
  tileUrl: null,
  outlines: { features: [] },
  kind: params.get("kind") || "",
  subdistrict: params.get("subdistrict") || "",
  alerting: params.get("alerting") === "true",
};

export function tone(venue) {
  if (venue.alert) return "bad";
  const ratio = venue.live ? venue.live.ratio_pct : 0;
  return ratio >= venue.alert_threshold_pct * 0.85 ? "warn" : "";
}

export function alertState(venue) {
  if (venue.alert) return "raised";
  return venue.live ? "clear" : "unknown";
}

function card(venue) {
  const live = venue.live;
  const ratio = live ? Math.min(100, live.ratio_pct) : 0;
  const subdistrict = state.subdistricts.find((s) => s.id === state.subdistrictOf.get(venue.community_id));
  return h(
    "a",
    { class: "venue-card", href: `/venue?id=${encodeURIComponent(venue.id)}`, id: `venue-${venue.id}`, dataset: { alert: alertState(venue), venue: venue.id } },
    h(
      "div",
      { class: "top" },
      h("div", {}, value(venue.name, "h3"), h("div", { class: "meta" }, label(`venue.kind.${venue.kind}`), subdistrict ? label("common.dot") : null, subdistrict ? value(subdistrict.name) : null)),
      venue.alert ? badge("venues.alert", "bad") : live ? badge("venues.normal", "ok") : badge("venues.no_data", "idle"),
    ),
    h(
      "div",
      { class: "occ" },
      live ? fmt("int", live.occupancy, "strong", { class: "occupancy" }) : label("common.none", undefined, "strong", { class: "occupancy" }),
      label("venues.of_capacity", { n: venue.capacity }, "span", { class: "muted" }),
    ),
    h("div", { class: `bar ${tone(venue)}`, role: "img", dataset: { i18nAttr: "aria-label:venues.capacity_bar" } }, h("span", { style: { width: `${ratio}%` } })),
    h(
      "div",
      { class: "meta" },
      live ? label("venues.visits_today", { n: live.visits_today }) : label("venues.never_reported"),
      live && live.as_of ? label("common.dot") : null,
      live && live.as_of ? fmt("relative", live.as_of) : null,
    ),
  );
}

function visible() {
  return [...state.venues.values()].filter(
    (v) =>
      (!state.kind || v.kind === state.kind) &&
      (!state.subdistrict || String(state.subdistrictOf.get(v.community_id)) === state.subdistrict) &&
      (!state.alerting || v.alert),
  );
}

function stat(key, figure, tone, id) {
  return h("div", { class: `stat ${tone || ""}`, id }, label(key, undefined, "div", { class: "name" }), h("div", { class: "figure" }, figure));
}

function render() {
  const shown = visible();
  const people = shown.reduce((sum, v) => sum + (v.live ? v.live.occupancy : 0), 0);
  const alerts = shown.filter((v) => v.alert).length;
  const reporting = shown.filter((v) => v.live).length;
  fill(
    $("#stats"),
    stat("venues.stat.venues", fmt("int", shown.length), "", "stat-venues"),
    stat("venues.stat.people", fmt("int", people), "", "stat-people"),
    stat("venues.stat.alerts", fmt("int", alerts), alerts ? "bad" : "ok", "stat-alerts"),
    stat("venues.stat.reporting", fmt("int", reporting), reporting < shown.length ? "warn" : "ok", "stat-reporting"),
  );
  fill($("#venues"), ...(shown.length ? shown.map(card) : [label("venues.none", undefined, "p", { class: "muted" })]));
  const places = shown.map((v) => state.places.get(v.id)).filter(Boolean);
  drawMap($("#venue-map"), places, { tileUrl: state.tileUrl, outlines: state.outlines, href: (v) => `/venue?id=${encodeURIComponent(v.id)}` });
}

/** Coordinates and levels as the public page shows them, so both maps colour alike. */
async function loadPlaces() {
  const [places, map, outlines] = await Promise.all([getJSON("/public/v1/venues"), getJSON("/public/v1/map"), getJSON("/public/v1/map/outlines")]);
  state.places = new Map(places.data.map((p) => [p.id, p]));
  state.tileUrl = map.tile_url;
  state.outlines = outlines;
}

function renderFilters() {
  fill($("#kind"), label("venues.filter.all_kinds", undefined, "option", { value: "" }), ...KINDS.map((k) => label(`venue.kind.${k}`, undefined, "option", { value: k })));
  $("#kind").value = state.kind;
  fill(
    $("#subdistrict"),
    label("venues.filter.all_subdistricts", undefined, "option", { value: "" }),
    ...state.subdistricts.map((s) => value(s.name, "option", { value: s.id })),
  );
  $("#subdistrict").value = state.subdistrict;
  $("#alerting").checked = state.alerting;
}

function remember() {
  const url = new URL(location.href);
  for (const [key, val] of Object.entries({ kind: state.kind, subdistrict: state.subdistrict, alerting: state.alerting ? "true" : "" })) {
    if (val) url.searchParams.set(key, val);
    else url.searchParams.delete(key);
  }
  history.replaceState(null, "", url);
}

async function load() {
  const [venues, communities, subdistricts] = await Promise.all([getAll("/api/v1/venues"), getAll("/api/v1/communities"), getAll("/api/v1/subdistricts"), loadPlaces()]);
  state.venues = new Map(venues.map((v) => [v.id, v]));
  state.subdistrictOf = new Map(communities.map((c) => [c.id, c.subdistrict_id]));
  state.subdistricts = subdistricts;
  renderFilters();
  render();
}

// One refetch per venue however many readings arrive meanwhile.
const pending = new Map();
function onOccupancy(event) {
  const id = event.venue_id;
  if (!state.venues.has(id)) return;
  if (!pending.has(id)) {
    pending.set(
      id,
      debounce(async () => {
        state.venues.set(id, await getJSON(`/api/v1/venues/${encodeURIComponent(id)}`));
        render();
      }, 100),
    );
  }
  pending.get(id)();
}

for (const [id, key] of [["kind", "kind"], ["subdistrict", "subdistrict"]]) {
  $(`#${id}`).addEventListener("change", (event) => {
    state[key] = event.target.value;
    remember();
    render();
  });
}
$("#alerting").addEventListener("change", (event) => {
  state.alerting = event.target.checked;
  remember();
  render();
});

startPage({ page: "venues", topics: ["occupancy"], handlers: { occupancy: onOccupancy }, load });
