// Home: one tile per page, with who it is for and one live figure each.

import { getAll, getJSON } from "/js/api.js";
import { can } from "/js/auth.js";
import { $, debounce, fill, fmt, h, label } from "/js/dom.js";
import { cityMidnight } from "/js/i18n.js";
import { mayOpen, startPage } from "/js/shell.js";

const state = { tapsToday: 0, edgesOnline: 0, edges: 0, venues: 0, alerts: 0, deadLetters: 0 };

function tile(id, href, figure) {
  return h(
    "a",
    { class: "tile", href, id: `tile-${id}` },
    label(`home.${id}.for`, undefined, "div", { class: "for" }),
    label(`nav.${id}`, undefined, "h2"),
    label(`home.${id}.what`, undefined, "p"),
    h("div", { class: "figure" }, figure),
  );
}

function figure(n, key, args) {
  return [fmt("int", n, "strong"), label(key, args)];
}

function render() {
  // only the pages this user's role may open
  fill(
    $("#tiles"),
    mayOpen("venues") && tile("venues", "/venues", figure(state.venues, "home.venues.figure", { alerts: state.alerts })),
    mayOpen("checkins") && tile("checkins", "/checkins", figure(state.tapsToday, "home.checkins.figure")),
    mayOpen("operations") && tile("operations", "/operations", figure(state.edgesOnline, "home.operations.figure", { total: state.edges, dead: state.deadLetters })),
    mayOpen("records") && tile("records", "/records", label("home.records.figure")),
  );
}

const NONE = { count: 0, data: [] };

async function load() {
  const [today, sites, dead, venues] = await Promise.all([
    can("checkins.read") ? getJSON("/api/v1/checkins", { since: cityMidnight(), limit: 1 }) : NONE,
    mayOpen("operations") ? getAll("/api/v1/sites") : [],
    mayOpen("operations") ? getJSON("/api/v1/dead-letters", { limit: 1 }) : NONE,
    can("venues.read") ? getAll("/api/v1/venues") : [],
  ]);
  state.tapsToday = today.count;
  state.edges = sites.filter((s) => s.site_state !== "revoked").length; // a revoked site is meant to be silent
  state.edgesOnline = sites.filter((s) => s.online).length;
  state.deadLetters = dead.count;
  state.venues = venues.length;
  state.alerts = venues.filter((v) => v.alert).length;
  render();
}

const reload = debounce(load, 500);

startPage({
  page: "home",
  topics: ["checkins", "devices", "dead_letters"],
  handlers: {
    checkins: () => {
      state.tapsToday += 1;
      render();
    },
    devices: reload,
    dead_letters: reload,
  },
  load,
});
