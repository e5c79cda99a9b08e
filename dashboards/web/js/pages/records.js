// Records (the organisation department): the annual dual-reporting assessment with drill-down by
// alliance and by community, and the monthly venue-sharing report, each with its exports.

import { exportURL, getJSON } from "/js/api.js";
import { can } from "/js/auth.js";
import { base, categoryAxis, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { cityParts, t } from "/js/i18n.js";
import { startPage } from "/js/shell.js";

const SHARING = "/api/v1/reports/venue-sharing";
const params = new URLSearchParams(location.search);
const thisYear = cityParts().year;
const state = {
  tab: params.get("tab") === "sharing" ? "sharing" : "assessment",
  year: Number(params.get("year")) || thisYear - 1, // the last complete year
  view: params.get("view") === "communities" ? "communities" : "alliances",
  alliance: params.get("alliance"), // an id, "none" (units in no alliance), or null
  community: params.get("community"),
  month: params.get("month") || lastMonth(),
  assessment: null,
  sharing: null,
};
let chart = null;

function lastMonth() {
  const { year, month } = cityParts();
  const y = month === 1 ? year - 1 : year;
  const m = month === 1 ? 12 : month - 1;
  return `${y}-${String(m).padStart(2, "0")}`;
}

function remember() {
  const url = new URL(location.href);
  const set = (key, val) => (val === null || val === undefined || val === "" ? url.searchParams.delete(key) : url.searchParams.set(key, val));
  set("tab", state.tab);
  set("year", state.year);
  set("view", state.view);
  set("alliance", state.alliance);
  set("community", state.community);
  set("month", state.month);
  history.replaceState(null, "", url);
}

// --- assessment ------------------------------------------------------------------------------

function rateBar(pct, threshold) {
  const tone = pct === null ? "" : pct < threshold ? "bad" : "";
  return h(
    "div",
    {},
    pct === null ? label("common.none") : fmt("pct", pct / 100),
    h("div", { class: `bar ${tone}` }, h("span", { style: { width: `${Math.min(100, pct || 0)}%` } })),
  );
}

function stat(key, figure, tone, id, total) {
  return h(
    "div",
    { class: `stat ${tone || ""}`, id },
    label(key, undefined, "div", { class: "name" }),
    h("div", { class: "figure" }, fmt("int", figure), total === undefined ? null : h("small", {}, label("common.of_total", { n: total }))),
  );
}

function renderAssessmentStats() {
  const a = state.assessment;
  const totals = a.totals;
  fill(
    $("#assessment-stats"),
    stat("records.stat.units_below", totals.units_below_threshold, totals.units_below_threshold ? "bad" : "ok", "stat-units-below", totals.units),
    stat("records.stat.registered", totals.registered, "", "stat-registered", totals.members),
    stat("records.stat.members_short", totals.members - totals.excellent_open, "warn", "stat-members-short", totals.members),
    stat("records.stat.excellent_open", totals.excellent_open, "ok", "stat-excellent-open", totals.members),
  );
}

function renderExports() {
  const link = (key, href) => label(key, undefined, "a", { class: "button", href, download: "" });
  const path = "/api/v1/reports/assessment";
  fill(
    $("#assessment-exports"),
    link("records.export.members_csv", exportURL(`${path}.csv`, { year: state.year, table: "members" })),
    link("records.export.units_csv", exportURL(`${path}.csv`, { year: state.year, table: "units" })),
    link("records.export.communities_csv", exportURL(`${path}.csv`, { year: state.year, table: "communities" })),
    label("records.export.xlsx", undefined, "a", { class: "button primary", href: exportURL(`${path}.xlsx`, { year: state.year }), download: "" }),
  );
}

function allianceKey(alliance) {
  return alliance.id === null ? "none" : String(alliance.id);
}

function crumbs(parts) {
  const out = [];
  parts.forEach((part, i) => {
    if (i) out.push(label("records.crumb_sep", undefined, "span", { class: "sep", "aria-hidden": "true" }));
    out.push(part);
  });
  fill($("#crumbs"), ...out);
}

function crumbLink(el, onClick) {
  const a = h("a", { href: "#", on: { click: (event) => { event.preventDefault(); onClick(); } } }, el);
  return a;
}

function renderAlliances() {
  const a = state.assessment;
  const threshold = a.rules.unit_min_reporting_pct;
  const chosen = state.alliance && a.alliances.find((x) => allianceKey(x) === state.alliance);
  if (!chosen) {
    crumbs([label("records.all_alliances")]);
    const rows = a.alliances.map((alliance) => {
      const below = alliance.units.filter((u) => u.below_threshold).length;
      const rates = alliance.units.map((u) => u.reporting_rate_pct).filter((r) => r !== null);
      const chair = alliance.chairs[alliance.chairs.length - 1];
      return row(
        [
          alliance.id === null ? label("records.no_alliance") : value(alliance.name),
          h("td", { class: "num" }, fmt("int", alliance.units.length)),
          h("td", { class: "num" }, below ? badge("records.below_n", "bad") : badge("records.none_below", "ok")),
          h("td", { class: "num" }, fmt("int", below)),
          rateBar(rates.length ? Math.min(...rates) : null, threshold),
          chair ? value(chair.unit_name) : label("common.none"),
        ],
        {
          class: "clickable",
          dataset: { alliance: allianceKey(alliance) },
          on: { click: () => { state.alliance = allianceKey(alliance); renderDrill(); } },
        },
      );
    });
    fill(
      $("#drill"),
      table(["records.col.alliance", "records.col.units", "records.col.verdict", "records.col.units_below", "records.col.lowest_rate", "records.col.chair"], rows.length ? rows : [emptyRow(6)], { id: "alliances-table" }),
    );
    renderAllianceChart(a.alliances, threshold);
    return;
  }
  crumbs([crumbLink(label("records.all_alliances"), () => { state.alliance = null; renderDrill(); }), chosen.id === null ? label("records.no_alliance") : value(chosen.name)]);
  const units = [...chosen.units].sort((x, y) => (x.reporting_rate_pct ?? -1) - (y.reporting_rate_pct ?? -1));
  const rows = units.map((u) =>
    row(
      [
        value(u.code, "span", { class: "mono" }),
        value(u.name),
        h("td", { class: "num" }, fmt("int", u.registered)),
        h("td", { class: "num" }, fmt("int", u.in_service)),
        rateBar(u.reporting_rate_pct, threshold),
        u.below_threshold ? badge("records.unit_below", "bad") : badge("records.unit_ok", "ok"),
        ...requestCells(u.requests),
      ],
      { dataset: { unit: u.id, below: u.below_threshold ? "true" : "false" } },
    ),
  );
  fill(
    $("#drill"),
    table(["records.col.code", "records.col.unit", "records.col.registered", "records.col.in_service", "records.col.rate", "records.col.verdict", ...REQUEST_COLUMNS], rows.length ? rows : [emptyRow(10)], { id: "units-table" }),
  );
  renderUnitChart(units, threshold);
}

// Service requests beside the reporting rate: the report's "problems solved by units".
const REQUEST_COLUMNS = ["records.col.requests_received", "records.col.requests_resolved", "records.col.requests_median_h", "records.col.requests_overdue"];

function requestCells(stats) {
  const median = stats.median_hours_to_resolve;
  return [
    h("td", { class: "num", dataset: { requests: "received" } }, fmt("int", stats.received)),
    h("td", { class: "num", dataset: { requests: "resolved" } }, fmt("int", stats.resolved)),
    h("td", { class: "num", dataset: { requests: "median" } }, median === null ? label("common.none") : fmt("int", Math.round(median))),
    h("td", { class: stats.overdue ? "num bad" : "num", dataset: { requests: "overdue" } }, fmt("int", stats.overdue)),
  ];
}

function renderCommunities() {
  const a = state.assessment;
  const minimum = a.rules.member_min_services;
  const chosen = state.community && a.communities.find((c) => String(c.id) === state.community);
  if (!chosen) {
    crumbs([label("records.all_communities")]);
    const rows = a.communities.map((c) => {
      const short = c.members.filter((m) => !m.excellent_open).length;
      return row(
        [
          value(c.name),
          value(c.subdistrict),
          h("td", { class: "num" }, fmt("int", c.members_registered)),
          h("td", { class: "num" }, fmt("int", c.activities_held)),
          h("td", { class: "num" }, fmt("int", c.attendance)),
          h("td", { class: "num" }, fmt("int", short)),
          ...requestCells(c.requests),
        ],
        {
          class: "clickable",
          dataset: { community: c.id },
          on: { click: () => { state.community = String(c.id); renderDrill(); } },
        },
      );
    });
    fill(
      $("#drill"),
      table(["records.col.community", "records.col.subdistrict", "records.col.members_registered", "records.col.activities", "records.col.attendance", "records.col.members_short", ...REQUEST_COLUMNS], rows.length ? rows : [emptyRow(10)], { id: "communities-table" }),
    );
    renderCommunityChart(a.communities);
    return;
  }
  crumbs([crumbLink(label("records.all_communities"), () => { state.community = null; renderDrill(); }), value(chosen.name)]);
  const members = [...chosen.members].sort((x, y) => Number(x.excellent_open) - Number(y.excellent_open) || x.services - y.services);
  const rows = members.map((m) =>
    row(
      [
        value(m.code, "span", { class: "mono" }),
        value(m.name),
        m.registered ? badge("records.registered", "ok") : badge("records.not_registered", "bad"),
        h("td", { class: "num" }, fmt("int", m.services)),
        m.excellent_open ? badge("records.excellent_open", "ok") : badge("records.excellent_closed", "warn"),
      ],
      { dataset: { member: m.id, open: m.excellent_open ? "true" : "false" } },
    ),
  );
  fill(
    $("#drill"),
    label("records.members_note", { n: minimum }, "p", { class: "muted" }),
    table(["records.col.code", "records.col.member", "records.col.registration", "records.col.services", "records.col.verdict"], rows.length ? rows : [emptyRow(5)], { id: "members-table" }),
  );
  renderMonthChart(chosen);
}

function setChartTitle(key) {
  fill($("#chart-title"), label(key));
}

function drawChart(option) {
  chart ||= makeChart($("#assessment-chart"));
  chart.setOption(base(option), true);
}

function renderAllianceChart(alliances, threshold) {
  setChartTitle("records.chart.alliances");
  const names = alliances.map((x) => (x.id === null ? t("records.no_alliance") : x.name));
  drawChart({
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: valueAxis({ minInterval: 1 }),
    yAxis: categoryAxis(names, { inverse: true }),
    series: [
      { name: t("records.series.below", { n: threshold }), type: "bar", stack: "units", itemStyle: { color: COLORS.accent }, data: alliances.map((x) => x.units.filter((u) => u.below_threshold).length) },
      { name: t("records.series.at_or_above", { n: threshold }), type: "bar", stack: "units", itemStyle: { color: COLORS.teal }, data: alliances.map((x) => x.units.filter((u) => !u.below_threshold).length) },
    ],
  });
}

function renderUnitChart(units, threshold) {
  setChartTitle("records.chart.units");
  drawChart({
    grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${v} %` },
    legend: { show: false },
    xAxis: valueAxis({ max: 100 }),
    yAxis: categoryAxis(units.map((u) => u.name), { inverse: true }),
    series: [
      {
        name: t("records.col.rate"),
        type: "bar",
        data: units.map((u) => ({ value: u.reporting_rate_pct ?? 0, itemStyle: { color: u.below_threshold ? COLORS.accent : COLORS.teal } })),
        markLine: { symbol: "none", label: { formatter: t("records.threshold", { n: threshold }) }, lineStyle: { color: COLORS.amber, type: "dashed" }, data: [{ xAxis: threshold }] },
      },
    ],
  });
}

function renderCommunityChart(communities) {
  setChartTitle("records.chart.communities");
  drawChart({
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: valueAxis({ minInterval: 1 }),
    yAxis: categoryAxis(communities.map((c) => c.name), { inverse: true }),
    series: [
      { name: t("records.series.short"), type: "bar", stack: "members", itemStyle: { color: COLORS.amber }, data: communities.map((c) => c.members.filter((m) => !m.excellent_open).length) },
      { name: t("records.series.open"), type: "bar", stack: "members", itemStyle: { color: COLORS.teal }, data: communities.map((c) => c.members.filter((m) => m.excellent_open).length) },
    ],
  });
}

function renderMonthChart(community) {
  setChartTitle("records.chart.months");
  const months = community.attendance_by_month;
  drawChart({
    legend: { show: false },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: categoryAxis(months.map((m) => t("records.month_short", { m: Number(String(m.key).slice(5)) }))),
    yAxis: valueAxis({ minInterval: 1 }),
    series: [{ name: t("records.col.attendance"), type: "bar", itemStyle: { color: COLORS.accent, borderRadius: [3, 3, 0, 0] }, data: months.map((m) => m.count) }],
  });
}

function renderDrill() {
  remember();
  for (const button of document.querySelectorAll("[data-view]")) {
    button.classList.toggle("active", button.dataset.view === state.view);
    button.setAttribute("aria-selected", String(button.dataset.view === state.view));
  }
  if (!state.assessment) return;
  if (state.view === "alliances") renderAlliances();
  else renderCommunities();
}

// --- venue sharing ---------------------------------------------------------------------------

function renderSharing() {
  const exports = $("#sharing-exports");
  const csv = (by) => exportURL(SHARING, { month: state.month, format: "csv", by });
  fill(
    exports,
    label("records.export.sharing_venues_csv", undefined, "a", { class: "button", href: csv("venue"), download: "" }),
    label("records.export.sharing_units_csv", undefined, "a", { class: "button primary", href: csv("unit"), download: "" }),
  );
  const report = state.sharing;
  if (!report) return;
  const venues = report.venues;
  const used = venues.filter((v) => v.open_days > 0);
  fill(
    $("#sharing-stats"),
    stat("records.sharing.venues", used.length, "", "stat-sharing-venues", venues.length),
    stat("records.sharing.units", report.units.length, "", "stat-sharing-units"),
    stat("records.sharing.visits", venues.reduce((sum, v) => sum + v.visits, 0), "", "stat-sharing-visits"),
    stat("records.sharing.open_days", venues.reduce((sum, v) => sum + v.open_days, 0), "", "stat-sharing-days"),
  );
  const venueRows = venues.map((v) =>
    row(
      [
        h("td", {}, h("a", { href: `/venue?id=${encodeURIComponent(v.venue_id)}` }, value(v.name))),
        label(`venue.kind.${v.kind}`),
        value(v.unit_name),
        h("td", { class: "num" }, fmt("int", v.open_days)),
        h("td", { class: "num" }, fmt("int", v.visits)),
        h("td", { class: "num" }, fmt("int", v.peak)),
        h("td", { class: "num" }, fmt("pct", v.utilisation_pct / 100)),
        h("td", { class: "num" }, label("records.sharing.hours", { seen: Math.round(v.observed_hours), open: Math.round(v.open_hours) })),
      ],
      { dataset: { venue: v.venue_id } },
    ),
  );
  const unitRows = report.units.map((u) =>
    row(
      [
        value(u.unit_name),
        h("td", { class: "num" }, fmt("int", u.venues)),
        h("td", { class: "num" }, fmt("int", u.capacity)),
        h("td", { class: "num" }, fmt("int", u.open_days)),
        h("td", { class: "num" }, fmt("int", u.visits)),
        h("td", { class: "num" }, fmt("pct", u.peak_pct / 100)),
        h("td", { class: "num" }, fmt("pct", u.utilisation_pct / 100)),
      ],
      { dataset: { unit: u.unit_id } },
    ),
  );
  fill(
    $("#sharing-table"),
    table(
      ["records.col.venue", "records.col.kind", "records.col.owner", "records.col.open_days", "records.col.visits", "records.col.peak", "records.col.use", "records.col.hours_seen"],
      venueRows.length ? venueRows : [emptyRow(8)],
      { id: "sharing-venues" },
    ),
    label("records.sharing.by_unit", undefined, "h3"),
    table(
      ["records.col.owner", "records.col.venues", "records.col.capacity", "records.col.open_days", "records.col.visits", "records.col.peak_share", "records.col.use"],
      unitRows.length ? unitRows : [emptyRow(7)],
      { id: "sharing-units" },
    ),
  );
}

// --- loading ---------------------------------------------------------------------------------

/** The tabs this user's role may read (the venue-sharing report only, for some). */
function tabs() {
  return ["assessment", "sharing"].filter((tab) => can(tab === "assessment" ? "assessment.read" : "venue_sharing.read"));
}

function showTab() {
  const allowed = tabs();
  if (!allowed.includes(state.tab)) state.tab = allowed[0];
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.hidden = !allowed.includes(button.dataset.tab);
    const active = button.dataset.tab === state.tab;
    button.classList.toggle("active", active);
    button.setAttribute("aria-selected", String(active));
  }
  $("#assessment").hidden = state.tab !== "assessment";
  $("#sharing").hidden = state.tab !== "sharing";
  remember();
}

async function loadAssessment() {
  [state.assessment] = await Promise.all([getJSON("/api/v1/reports/assessment", { year: state.year }), loadCharts()]);
  renderAssessmentStats();
  renderExports();
  renderDrill();
}

async function loadSharing() {
  state.sharing = await getJSON(SHARING, { month: state.month });
  renderSharing();
}

async function load() {
  showTab();
  const allowed = tabs();
  await Promise.all([allowed.includes("assessment") && loadAssessment(), allowed.includes("sharing") && loadSharing()]);
}

const years = $("#year");
fill(years, ...[0, 1, 2, 3, 4].map((back) => value(thisYear - back, "option", { value: thisYear - back })));
years.value = String(state.year);
years.addEventListener("change", () => {
  state.year = Number(years.value);
  state.alliance = null;
  state.community = null;
  loadAssessment();
});
$("#month").value = state.month;
$("#month").addEventListener("change", (event) => {
  if (!event.target.value) return;
  state.month = event.target.value;
  loadSharing();
});
for (const button of document.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => {
    state.tab = button.dataset.tab;
    showTab();
    if (chart) chart.resize();
  });
}
for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => {
    state.view = button.dataset.view;
    renderDrill();
  });
}

startPage({ page: "records", load, onLanguage: renderDrill });
