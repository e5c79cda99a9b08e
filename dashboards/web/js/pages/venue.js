// One venue: live occupancy, today's curve against its usual day, the last weeks' visits, its
// capacity alerts. It is redrawn whenever the hub recomputes its live occupancy.

import { getAll, getJSON } from "/js/api.js";
import { base, categoryAxis, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, debounce, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { cityMidnight, cityMonth, cityParts, format, t } from "/js/i18n.js";
import { startPage } from "/js/shell.js";

const DAY_MS = 24 * 3600 * 1000;
const USUAL_DAYS = 28;
const id = new URLSearchParams(location.search).get("id") || "";
const state = { venue: null, today: [], usual: [], days: [], alerts: [] };
let todayChart = null;
let weeksChart = null;

function minuteOfDay(iso) {
  const { hour, minute } = cityParts(new Date(iso));
  return hour * 60 + minute;
}

function hhmm(minutes) {
  const m = Math.round(minutes);
  return `${String(Math.floor(m / 60) % 24).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function stat(key, figure, tone, statId, extra) {
  return h("div", { class: `stat ${tone || ""}`, id: statId }, label(key, undefined, "div", { class: "name" }), h("div", { class: "figure" }, figure, extra || null));
}

function renderHead() {
  const v = state.venue;
  fill($("#venue-name"), value(v.name));
  fill(
    $("#venue-meta"),
    label(`venue.kind.${v.kind}`),
    label("common.dot"),
    value(v.unit_name),
    label("common.dot"),
    value(v.address),
    label("common.dot"),
    label("venue.hours", { opens: v.opens_at.slice(0, 5), closes: v.closes_at.slice(0, 5) }),
  );
  const live = v.live;
  const ratio = live ? live.ratio_pct / 100 : null;
  fill(
    $("#stats"),
    stat("venue.stat.now", live ? fmt("int", live.occupancy) : label("common.none"), v.alert ? "bad" : "", "stat-now", h("small", {}, label("common.of_total", { n: v.capacity }))),
    stat("venue.stat.ratio", fmt("pct", ratio), v.alert ? "bad" : "", "stat-ratio"),
    stat("venue.stat.visits", live ? fmt("int", live.visits_today) : label("common.none"), "", "stat-visits"),
    stat("venue.stat.alert", v.alert ? label("venues.alert") : label("venues.normal"), v.alert ? "bad" : "ok", "stat-alert"),
  );
  for (const el of $("#stats").querySelectorAll(".figure")) {
    if (el.firstChild && el.firstChild.dataset && el.firstChild.dataset.i18n) el.classList.add("text");
  }
}

function renderToday() {
  const v = state.venue;
  todayChart ||= makeChart($("#today-chart"));
  const today = state.today.map((p) => [minuteOfDay(p.end), p.last]);
  if (v.live && v.live.as_of && new Date(v.live.as_of) >= new Date(cityMidnight())) {
    today.push([minuteOfDay(v.live.as_of), v.live.occupancy]);
  }
  const threshold = (v.capacity * v.alert_threshold_pct) / 100;
  todayChart.setOption(
    base({
      tooltip: { trigger: "axis", axisPointer: { type: "line" }, formatter: (items) => items.map((i) => `${i.marker}${i.seriesName} ${hhmm(i.value[0])}: ${format("int", i.value[1])}`).join("<br>") },
      xAxis: { type: "value", min: 0, max: 24 * 60, interval: 180, axisLabel: { color: COLORS.muted, formatter: hhmm }, splitLine: { show: false }, axisLine: { lineStyle: { color: COLORS.light } } },
      yAxis: valueAxis({ max: (m) => Math.max(m.max, v.capacity) }),
      series: [
        { name: t("venue.series.today"), type: "line", showSymbol: false, data: today, lineStyle: { width: 2.5, color: COLORS.accent }, itemStyle: { color: COLORS.accent }, areaStyle: { color: COLORS.accent, opacity: 0.06 }, markLine: { symbol: "none", silent: true, data: [{ yAxis: v.capacity, name: t("venue.capacity"), lineStyle: { color: COLORS.grey } }, { yAxis: threshold, name: t("venue.threshold"), lineStyle: { color: COLORS.amber, type: "dashed" } }], label: { formatter: (p) => p.name, color: COLORS.muted, position: "insideEndTop" } } },
        { name: t("venue.series.usual", { n: USUAL_DAYS }), type: "line", showSymbol: false, smooth: true, data: state.usual, lineStyle: { width: 2, type: "dashed", color: COLORS.blue }, itemStyle: { color: COLORS.blue } },
      ],
    }),
    true,
  );
}

function renderWeeks() {
  weeksChart ||= makeChart($("#weeks-chart"));
  const v = state.venue;
  const today = cityMidnight().slice(0, 10);
  const days = state.days.filter((d) => d.day !== today);
  if (v.live) days.push({ day: today, visits: v.live.visits_today }); // today so far, live
  weeksChart.setOption(
    base({
      legend: { show: false },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 8, top: 24, bottom: 8, containLabel: true },
      xAxis: categoryAxis(days.map((d) => format("weekday", `${d.day}T12:00:00+08:00`))),
      yAxis: valueAxis({ minInterval: 1 }),
      series: [
        {
          name: t("venue.series.visits"),
          type: "bar",
          barMaxWidth: 28,
          data: days.map((d) => ({ value: d.visits, itemStyle: { color: d.day === today ? COLORS.accent : COLORS.teal } })),
          itemStyle: { borderRadius: [2, 2, 0, 0] },
        },
      ],
    }),
    true,
  );
}

function renderAlerts() {
  const rows = state.alerts.map((a) =>
    row([
      a.state === "open" ? badge("venue.alert_open", "bad") : badge("venue.alert_cleared", "idle"),
      fmt("datetime", a.raised_at),
      a.cleared_at ? fmt("datetime", a.cleared_at) : label("common.none"),
      h("td", { class: "num" }, fmt("int", a.occupancy_at_raise)),
      h("td", { class: "num" }, fmt("int", a.peak_occupancy)),
      h("td", { class: "num" }, fmt("int", a.capacity)),
    ]),
  );
  fill($("#alerts"), table(["venue.col.state", "venue.col.raised", "venue.col.cleared", "venue.col.at_raise", "venue.col.peak", "venue.col.capacity"], rows.length ? rows : [emptyRow(6, "venue.no_alerts")], { id: "alerts-table" }));
}

/** The usual day: the mean occupancy of each hour over the previous weeks' days. */
function usualDay(points) {
  const sums = new Array(24).fill(0);
  const counts = new Array(24).fill(0);
  for (const p of points) {
    const hour = cityParts(new Date(p.start)).hour;
    sums[hour] += p.mean;
    counts[hour] += 1;
  }
  if (!points.length) return []; // no history yet: no usual day to draw
  return sums.map((sum, hour) => [hour * 60 + 30, counts[hour] ? Math.round(sum / counts[hour]) : 0]);
}

function previousMonth(month) {
  const [y, m] = month.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

async function load() {
  const midnight = cityMidnight();
  const now = new Date();
  const weeksAgo = new Date(new Date(midnight).getTime() - USUAL_DAYS * DAY_MS).toISOString();
  const month = cityMonth();
  const base = `/api/v1/venues/${encodeURIComponent(id)}`;
  const [venue, today, hours, sessions, earlier, alerts] = await Promise.all([
    getJSON(base),
    getJSON(`${base}/occupancy`, { from: midnight, to: now.toISOString(), step: "5m" }),
    getJSON(`${base}/occupancy`, { from: weeksAgo, to: midnight, step: "1h" }),
    getAll(`${base}/sessions`, { month }),
    getAll(`${base}/sessions`, { month: previousMonth(month) }),
    getJSON("/api/v1/alerts", { venue: id, limit: 10 }),
    loadCharts(),
  ]);
  state.venue = venue;
  state.today = today.data;
  state.usual = usualDay(hours.data);
  const cutoff = new Date(weeksAgo).getTime();
  state.days = [...earlier, ...sessions].filter((d) => new Date(`${d.day}T12:00:00+08:00`).getTime() >= cutoff);
  state.alerts = alerts.data;
  renderHead();
  renderToday();
  renderWeeks();
  renderAlerts();
}

const refresh = debounce(async () => {
  state.venue = await getJSON(`/api/v1/venues/${encodeURIComponent(id)}`);
  renderHead();
  renderToday();
  renderWeeks();
}, 100);

startPage({
  page: "venue",
  topics: ["occupancy"],
  handlers: {
    occupancy: (event) => {
      if (event.venue_id === id) refresh();
    },
  },
  load,
  onLanguage: () => {
    renderToday();
    renderWeeks();
  },
});
