// Check-ins (centre staff): the live feed of taps at a centre, today's figures, the readers.

import { getAll, getJSON } from "/js/api.js";
import { can, currentUser } from "/js/auth.js";
import { base, categoryAxis, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, debounce, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { cityMidnight, cityParts, t } from "/js/i18n.js";
import { attendanceToday, describeTap, summarise } from "/js/taps.js";
import { startPage } from "/js/shell.js";

const FEED_ROWS = 50;
const DECISIONS = {
  allowed: ["decision.allowed", "ok"],
  unknown: ["decision.unknown", "warn"],
  unchecked: ["decision.unchecked", "idle"],
};
const DEVICE_STATES = {
  ok: "ok",
  degraded: "warn",
  disconnected: "bad",
  unknown: "idle",
};

const state = {
  site: new URLSearchParams(location.search).get("site") || localStorage.getItem("yp.centre") || "",
  feed: [], // newest first
  today: [], // today's taps at the selected centre
  readers: [],
  activities: [], // today's activities at the centre
  todayActivities: [],
  midnight: cityMidnight(),
};
let hourChart = null;

function matches(tap) {
  return !state.site || tap.site_id === state.site;
}

function decisionBadge(decision) {
  const [key, tone] = DECISIONS[decision] || ["decision.other", "idle"];
  return badge(key, tone);
}

function tapRow(tap, fresh) {
  const who = describeTap(tap);
  return row(
    [
      fmt("time", tap.device_time, "span", { class: "mono" }),
      who,
      tap.activity ? value(tap.activity) : label("checkins.walk_in", undefined, "span", { class: "muted" }),
      value(state.site ? tap.device_id : `${tap.site_id} · ${tap.device_id}`, "span", { class: "mono" }),
      decisionBadge(tap.decision),
    ],
    { class: fresh ? "fresh" : undefined, dataset: { eventId: tap.event_id } },
  );
}

function renderFeed(freshId) {
  const rows = state.feed.length
    ? state.feed.map((tap) => tapRow(tap, tap.event_id === freshId))
    : [emptyRow(5, "checkins.no_taps")];
  fill(
    $("#feed"),
    table(
      ["checkins.col.time", "checkins.col.member", "checkins.col.activity", "checkins.col.reader", "checkins.col.decision"],
      rows,
      { id: "feed-table" },
    ),
  );
}

function renderStats() {
  const allowed = state.today.filter((tap) => tap.decision === "allowed").length;
  const unknown = state.today.filter((tap) => tap.decision === "unknown").length;
  const online = state.readers.filter((d) => d.online).length;
  const deployed = state.readers.filter(isDeployed).length;
  const stat = (key, figure, tone, id, total) =>
    h(
      "div",
      { class: `stat ${tone || ""}`, id },
      label(key, undefined, "div", { class: "name" }),
      h("div", { class: "figure" }, fmt("int", figure), total === undefined ? null : h("small", {}, label("common.of_total", { n: total }))),
    );
  fill(
    $("#stats"),
    stat("checkins.stat.today", state.today.length, "", "stat-today"),
    stat("checkins.stat.allowed", allowed, "ok", "stat-allowed"),
    stat("checkins.stat.unknown", unknown, unknown ? "warn" : "", "stat-unknown"),
    can("devices.read") && stat("checkins.stat.readers", online, online < deployed ? "warn" : "ok", "stat-readers", deployed),
  );
}

function renderReaders() {
  const rows = state.readers.length
    ? state.readers.map((d) =>
        row([
          value(state.site ? d.id : `${d.site_id} · ${d.id}`, "span", { class: "mono" }),
          d.online ? badge("common.online", "ok") : isDeployed(d) ? badge("common.offline", "bad") : badge("common.not_deployed", "idle"),
          badge(`device.state.${d.state}`, DEVICE_STATES[d.state] || "idle"),
          fmt("relative", d.last_frame_at || d.last_seen),
          h("td", { class: "num" }, fmt("int", d.frame_errors)),
        ]),
      )
    : [emptyRow(5, "checkins.no_readers")];
  fill(
    $("#readers"),
    table(["checkins.col.reader", "common.online_state", "common.state", "checkins.col.last_tap", "checkins.col.frame_errors"], rows, {
      id: "readers-table",
    }),
  );
}

/** A reader that has never reported (a centre registered but not running) is not deployed,
 * which is not the same as offline. */
function isDeployed(d) {
  return Boolean(d.last_seen || d.last_frame_at);
}

function renderActivities() {
  const rows = state.activities.length
    ? state.activities.map((a) =>
        row(
          [
            a.id === null
              ? label("checkins.walk_in", undefined, "span", { class: "muted" })
              : state.site || !a.centre_id
                ? value(a.title)
                : h("span", {}, value(a.title), " ", value(a.centre_id, "span", { class: "muted mono" })),
            a.starts_at ? fmt("hm", a.starts_at) : label("common.none"),
            h("td", { class: "num" }, fmt("int", a.attended)),
          ],
          { dataset: { activity: a.id === null ? "walk-in" : a.id } },
        ),
      )
    : [emptyRow(3, "checkins.no_activities")];
  fill($("#activities"), table(["checkins.col.activity", "checkins.col.starts", "checkins.col.attended"], rows, { id: "activities-table" }));
}

function renderHours() {
  const counts = new Array(24).fill(0);
  for (const tap of state.today) counts[cityParts(new Date(tap.device_time)).hour] += 1;
  const first = Math.min(7, ...counts.map((n, hour) => (n ? hour : 24)));
  const hours = [];
  for (let hour = first; hour < 22 || hour <= cityParts().hour; hour += 1) hours.push(hour);
  hourChart ||= makeChart($("#by-hour"));
  hourChart.setOption(
    base({
      legend: { show: false },
      grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
      xAxis: categoryAxis(hours.map((hour) => t("common.hour", { h: hour }))),
      yAxis: valueAxis({ minInterval: 1 }),
      series: [{ name: t("checkins.stat.today"), type: "bar", data: hours.map((hour) => counts[hour]), itemStyle: { color: COLORS.accent, borderRadius: [3, 3, 0, 0] } }],
    }),
    true,
  );
}

/** A centre's staff see their own centre only; the readers need devices.read. */
async function loadCentres() {
  const centre = currentUser().centre_id;
  if (centre) state.site = centre;
  const devices = can("devices.read") ? await getAll("/api/v1/devices") : [];
  let sites = [...new Set(devices.filter((d) => d.kind === "card_reader").map((d) => d.site_id))].sort();
  if (!can("devices.read")) sites = (await getAll("/api/v1/service-centres")).map((c) => c.id);
  if (state.site && !sites.includes(state.site)) sites.unshift(state.site);
  const select = $("#centre");
  fill(
    select,
    centre ? null : label("checkins.all_centres", undefined, "option", { value: "" }),
    ...sites.filter((site) => !centre || site === centre).map((site) => value(site, "option", { value: site })),
  );
  select.value = state.site;
  select.disabled = Boolean(centre);
  $("#readers").closest(".panel").hidden = !can("devices.read");
  return devices;
}

async function load() {
  state.midnight = cityMidnight();
  const site = state.site || undefined;
  const [devices, feed, today] = await Promise.all([
    loadCentres(),
    getJSON("/api/v1/live/checkins", { site, limit: FEED_ROWS }),
    getAll("/api/v1/live/checkins", { site, since: state.midnight }, 5000),
    loadCharts(),
  ]);
  state.readers = devices.filter((d) => d.kind === "card_reader" && (!site || d.site_id === site));
  state.feed = feed.data;
  state.today = today;
  state.activities = await attendanceToday(site, today, state.midnight);
  state.todayActivities = state.activities.filter((a) => a.id !== null && a.starts_at);
  renderAll();
}

function renderAll(freshId) {
  renderStats();
  renderFeed(freshId);
  renderReaders();
  renderActivities();
  renderHours();
}

const reloadReaders = debounce(async () => {
  if (!can("devices.read")) return;
  const devices = await getAll("/api/v1/devices");
  state.readers = devices.filter((d) => d.kind === "card_reader" && (!state.site || d.site_id === state.site));
  renderReaders();
  renderStats();
}, 300);

function onTap(tap) {
  if (!matches(tap) || state.feed.some((known) => known.event_id === tap.event_id)) return;
  state.feed.unshift(tap);
  state.feed.sort((a, b) => new Date(b.device_time) - new Date(a.device_time));
  state.feed.length = Math.min(state.feed.length, FEED_ROWS);
  if (new Date(tap.device_time) >= new Date(state.midnight)) {
    state.today.push(tap);
    state.activities = summarise(state.todayActivities, state.today);
    renderActivities();
  }
  renderStats();
  renderFeed(tap.event_id);
  renderHours();
}

$("#centre").addEventListener("change", (event) => {
  state.site = event.target.value;
  localStorage.setItem("yp.centre", state.site);
  const url = new URL(location.href);
  if (state.site) url.searchParams.set("site", state.site);
  else url.searchParams.delete("site");
  history.replaceState(null, "", url);
  load();
});

startPage({
  page: "checkins",
  topics: ["checkins", "devices"],
  handlers: {
    checkins: onTap,
    devices: (event) => {
      if (matches(event)) reloadReaders();
    },
  },
  load,
  onLanguage: renderHours,
});
