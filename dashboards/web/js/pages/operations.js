// Operations (hub operators): a city's sites, problems first (offline, failed commands, outbox
// backing up, degraded devices), then all of them grouped by kind and community, searchable and
// filtered; the devices that need a look; message rates in and committed, dead letters with
// their raw payload, the hub's own health and its telemetry sink. Each site has its own page.

import { getAll, getJSON, getText, metricSum, parseMetrics } from "/js/api.js";
import { base, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, debounce, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { format, t } from "/js/i18n.js";
import { startPage } from "/js/shell.js";
import { DEVICE_TONES, KINDS, PROBLEMS, problemBadges, SITE_STATES, siteURL, stateBadge } from "/js/sites.js";

const RATE_WINDOW_MS = 10 * 60 * 1000;
const RATE_POLL_MS = 2000;
const STATE_POLL_MS = 10000; // online state also changes when heartbeats simply stop
const DEAD_LETTER_ROWS = 50;

const state = {
  sites: [],
  filter: { q: "", state: "", kind: "", community: "", problem: "" },
  opened: new Set(), // groups the user opened, kept across reloads
  devices: [],
  deadLetters: { data: [], count: 0 },
  health: null,
  samples: [], // {at, received, committed}
  rates: [], // {at, received, committed} per second
  open: new Set(), // dead letters whose payload is shown
};
let rateChart = null;

function stat(key, figure, tone, id, total, note) {
  const textual = figure.dataset && figure.dataset.i18n;
  return h(
    "div",
    { class: `stat ${tone || ""}`, id },
    label(key, undefined, "div", { class: "name" }),
    h("div", { class: textual ? "figure text" : "figure" }, figure, total === undefined ? null : h("small", {}, label("common.of_total", { n: total }))),
    note || null,
  );
}

const SINK_STATES = { ok: ["ops.sink.ok", "ok"], failing: ["ops.sink.failing", "bad"], stopped: ["ops.sink.stopped", "bad"] };

/** The InfluxDB sink as /healthz reports it (absent: the hub writes no telemetry). */
function telemetryState(health) {
  const sink = health && health.influx;
  if (!sink) return ["ops.sink.off", "idle"];
  return SINK_STATES[sink.state] || ["ops.sink.failing", "bad"];
}

function renderStats() {
  const edgesOnline = state.sites.filter((s) => s.site_state === "online").length;
  const expected = state.sites.filter((s) => s.site_state !== "revoked").length;
  const troubled = state.sites.filter((s) => s.problems.length).length;
  const devicesOk = state.devices.filter((d) => d.online && d.state === "ok").length;
  const last = state.rates[state.rates.length - 1];
  const [sinkKey, sinkTone] = telemetryState(state.health);
  fill(
    $("#stats"),
    stat("ops.stat.edges", fmt("int", edgesOnline), edgesOnline < expected ? "warn" : "ok", "stat-edges", expected),
    stat("ops.stat.problems", fmt("int", troubled), troubled ? "bad" : "ok", "stat-problems"),
    stat("ops.stat.devices", fmt("int", devicesOk), devicesOk < state.devices.length ? "warn" : "ok", "stat-devices", state.devices.length),
    stat("ops.stat.received", last ? fmt("dec", last.received) : label("common.none"), "", "stat-received", undefined, label("ops.per_second", undefined, "div", { class: "note" })),
    stat("ops.stat.committed", last ? fmt("dec", last.committed) : label("common.none"), "", "stat-committed", undefined, label("ops.per_second", undefined, "div", { class: "note" })),
    stat("ops.stat.dead_letters", fmt("int", state.deadLetters.count), state.deadLetters.count ? "bad" : "ok", "stat-dead-letters"),
    stat("ops.stat.sink", label(sinkKey), sinkTone, "stat-sink"),
  );
}

function renderHub() {
  const health = state.health;
  const rows = [];
  if (health) {
    const tone = (ok) => (ok ? "ok" : "bad");
    rows.push(row([label("ops.hub.database"), badge(`ops.db.${health.database}`, tone(health.database === "ok"))]));
    rows.push(row([label("ops.hub.broker"), badge(`ops.broker.${health.broker.replace(" ", "_")}`, health.broker === "connected" ? "ok" : health.broker === "disconnected" ? "bad" : "idle")]));
    if (health.ingest) {
      rows.push(row([label("ops.hub.queue"), fmt("int", health.ingest.queue_depth)]));
      rows.push(row([label("ops.hub.failing_since"), health.ingest.failing_since ? fmt("datetime", health.ingest.failing_since) : label("common.none")]));
    }
    const [sinkKey, sinkTone] = telemetryState(health);
    rows.push(row([label("ops.hub.sink"), badge(sinkKey, sinkTone)]));
    if (health.influx) {
      const sink = health.influx;
      rows.push(row([label("ops.hub.sink_written"), fmt("int", sink.written)]));
      rows.push(row([label("ops.hub.sink_waiting"), fmt("int", sink.queue_depth)]));
      rows.push(row([label("ops.hub.sink_dropped"), fmt("int", sink.dropped)]));
      if (sink.last_error) rows.push(row([label("ops.hub.sink_error"), value(sink.last_error, "span", { class: "mono" })]));
    }
  }
  fill($("#hub"), table(["ops.col.what", "common.state"], rows.length ? rows : [emptyRow(2)], { id: "hub-table" }));
}

// --- sites: problems first, then every site grouped by kind and community -------------------

const FILTERS = { q: "site-search", state: "filter-state", kind: "filter-kind", community: "filter-community", problem: "filter-problem" };

function readFilters() {
  const params = new URLSearchParams(location.search);
  for (const name of Object.keys(FILTERS)) state.filter[name] = params.get(name) || "";
}

function writeFilters() {
  const params = new URLSearchParams();
  for (const [name, val] of Object.entries(state.filter)) if (val) params.set(name, val);
  const query = params.toString();
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
}

/** The same narrowing as GET /api/v1/sites' filters, on the list already loaded. */
function admitted(site) {
  const f = state.filter;
  if (f.state && site.site_state !== f.state) return false;
  if (f.kind && site.kind !== f.kind) return false;
  if (f.community && String(site.community_id) !== f.community) return false;
  if (f.problem && !site.problems.includes(f.problem)) return false;
  if (!f.q) return true;
  const needle = f.q.toLocaleLowerCase();
  return [site.id, site.name, site.community].some((part) => (part || "").toLocaleLowerCase().includes(needle));
}

function option(key, val) {
  return label(key, undefined, "option", { value: val });
}

function renderFilterChoices() {
  const communities = new Map();
  for (const s of state.sites) if (s.community_id !== null) communities.set(String(s.community_id), s.community);
  const choices = {
    state: SITE_STATES.map((v) => option(`site.state.${v}`, v)),
    kind: KINDS.map((v) => option(`site.kind.${v}`, v)),
    problem: PROBLEMS.map((v) => option(`site.problem.${v}`, v)),
    community: [...communities].sort((a, b) => a[1].localeCompare(b[1], "zh-CN")).map(([id, name]) => value(name, "option", { value: id })),
  };
  for (const [name, options] of Object.entries(choices)) {
    const select = $(`#${FILTERS[name]}`);
    fill(select, option("ops.filter.any", ""), ...options);
    select.value = state.filter[name];
    if (select.value !== state.filter[name]) state.filter[name] = ""; // a community no longer listed
  }
  $("#site-search").value = state.filter.q;
}

function bindFilters() {
  for (const [name, id] of Object.entries(FILTERS)) {
    const el = $(`#${id}`);
    const update = () => {
      state.filter[name] = el.value.trim();
      writeFilters();
      renderSites();
    };
    el.addEventListener(name === "q" ? "input" : "change", name === "q" ? debounce(update, 150) : update);
  }
}

function siteRow(s, grouped) {
  const cells = [
    h("a", { href: siteURL(s.id), class: "site-link" }, value(s.id, "span", { class: "mono" })),
    value(s.name || ""),
  ];
  if (!grouped) cells.push(s.kind ? label(`site.kind.${s.kind}`) : label("common.none"), value(s.community || ""));
  cells.push(
    stateBadge(s.site_state),
    problemBadges(s.problems),
    s.last_seen ? fmt("relative", s.last_seen) : label("common.none"),
    h("td", { class: "num" }, s.outbox_depth === null ? label("common.none") : fmt("int", s.outbox_depth)),
  );
  return row(cells, { dataset: { site: s.id, state: s.site_state, problems: s.problems.join(" ") } });
}

const SITE_HEADERS = ["ops.col.site", "ops.col.name", "ops.col.kind", "ops.col.community", "common.state", "ops.col.problems", "ops.col.last_seen", "ops.col.outbox"];
const GROUP_HEADERS = SITE_HEADERS.filter((key) => key !== "ops.col.kind" && key !== "ops.col.community");

function renderSites() {
  const shown = state.sites.filter(admitted);
  const filtering = Object.values(state.filter).some(Boolean);
  fill($("#sites-shown"), label("ops.sites_shown", { n: shown.length, total: state.sites.length }));
  const problems = shown.filter((s) => s.problems.length); // already worst first, from the hub
  fill(
    $("#problems"),
    table(SITE_HEADERS, problems.length ? problems.map((s) => siteRow(s, false)) : [emptyRow(SITE_HEADERS.length, "ops.no_problems")], { id: "problems-table", class: "grid-table compact" }),
  );
  const groups = [];
  for (const kind of [...KINDS, null]) {
    const ofKind = shown.filter((s) => s.kind === kind);
    if (!ofKind.length) continue;
    const byCommunity = new Map();
    for (const s of ofKind) {
      const key = s.community_id === null ? "" : String(s.community_id);
      if (!byCommunity.has(key)) byCommunity.set(key, { name: s.community, sites: [] });
      byCommunity.get(key).sites.push(s);
    }
    const communities = [...byCommunity].sort((a, b) => (a[1].name || "~").localeCompare(b[1].name || "~", "zh-CN"));
    groups.push(
      h(
        "div",
        { class: "kind-group", dataset: { kind: kind || "other" } },
        h("h4", {}, label(kind ? `site.kind.${kind}` : "ops.kind_other"), label("ops.group_count", { n: ofKind.length }, "span", { class: "muted" })),
        communities.map(([community, group]) => {
          const sites = [...group.sites].sort((a, b) => a.id.localeCompare(b.id));
          const online = sites.filter((s) => s.site_state === "online").length;
          const troubled = sites.filter((s) => s.problems.length).length;
          const key = `${kind || "other"}:${community}`;
          return h(
            "details",
            {
              class: "group",
              open: filtering || state.opened.has(key) ? true : undefined,
              dataset: { community: community || "none", kind: kind || "other" },
              on: { toggle: (e) => (e.target.open ? state.opened.add(key) : state.opened.delete(key)) },
            },
            h(
              "summary",
              {},
              group.name ? value(group.name, "strong") : label("ops.no_community", undefined, "strong"),
              label("ops.group_summary", { n: sites.length, online }, "span", { class: "muted" }),
              troubled ? label("ops.group_problems", { n: troubled }, "span", { class: "badge badge-bad" }) : null,
            ),
            h("div", { class: "table-wrap" }, table(GROUP_HEADERS, sites.map((s) => siteRow(s, true)), { class: "grid-table compact sites-table" })),
          );
        }),
      ),
    );
  }
  fill($("#groups"), ...(groups.length ? groups : [label("ops.no_sites", undefined, "p", { class: "muted" })]));
}

function renderDevices() {
  // only the devices that need a look: at a city's scale the others are hundreds of "ok" rows
  const bad = state.devices.filter((d) => d.state === "degraded" || d.state === "disconnected");
  const rows = bad.length
    ? bad.map((d) =>
        row(
          [
            h("a", { href: siteURL(d.site_id) }, value(d.site_id, "span", { class: "mono" })),
            value(d.id, "span", { class: "mono" }),
            label(`device.kind.${d.kind}`),
            d.online ? badge("common.online", "ok") : badge("common.offline", "bad"),
            badge(`device.state.${d.state}`, DEVICE_TONES[d.state] || "idle"),
            fmt("relative", d.last_seen),
            h("td", { class: "num" }, fmt("int", d.frame_errors)),
            h("td", { class: "num" }, fmt("int", d.port_errors)),
            h("td", { class: "num" }, fmt("int", d.timeouts)),
          ],
          { dataset: { site: d.site_id, device: d.id, state: d.state } },
        ),
      )
    : [emptyRow(9, "ops.no_bad_devices")];
  fill(
    $("#devices"),
    table(
      ["ops.col.site", "ops.col.device", "ops.col.kind", "common.online_state", "common.state", "ops.col.last_seen", "ops.col.frame_errors", "ops.col.port_errors", "ops.col.timeouts"],
      rows,
      { id: "devices-table", class: "grid-table compact" },
    ),
  );
}

function hexDump(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const lines = [];
  for (let i = 0; i < Math.min(bytes.length, 512); i += 16) {
    const chunk = [...bytes.slice(i, i + 16)];
    const hex = chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(4, "0")}  ${hex.padEnd(48)}  ${text}`);
  }
  return lines.join("\n");
}

function renderDeadLetters() {
  const rows = [];
  for (const d of state.deadLetters.data) {
    const shown = state.open.has(d.id);
    rows.push(
      row(
        [
          fmt("datetime", d.received_at),
          value(d.topic, "span", { class: "mono" }),
          badge(`dead.kind.${d.reason_kind}`, "bad"),
          value(d.reason),
          h("td", { class: "num" }, fmt("bytes", d.size)),
        ],
        {
          class: "clickable",
          dataset: { id: d.id },
          on: {
            click: () => {
              if (shown) state.open.delete(d.id);
              else state.open.add(d.id);
              renderDeadLetters();
            },
          },
        },
      ),
    );
    if (shown) {
      rows.push(
        h(
          "tr",
          { class: "payload-row" },
          h(
            "td",
            { colspan: 5 },
            label(d.truncated ? "ops.payload_truncated" : "ops.payload", undefined, "div", { class: "muted" }),
            value(d.preview, "pre", { class: "payload" }),
            value(hexDump(d.payload_base64), "pre", { class: "payload" }),
          ),
        ),
      );
    }
  }
  fill(
    $("#dead-letters"),
    table(["ops.col.received", "ops.col.topic", "ops.col.reason_kind", "ops.col.reason", "ops.col.size"], rows.length ? rows : [emptyRow(5, "ops.no_dead_letters")], {
      id: "dead-letters-table",
    }),
  );
}

function renderRates() {
  rateChart ||= makeChart($("#rates"));
  const now = Date.now();
  const series = (key, name, color) => ({
    name,
    type: "line",
    showSymbol: false,
    smooth: true,
    data: state.rates.map((r) => [r.at, Number(r[key].toFixed(2))]),
    lineStyle: { width: 2, color },
    itemStyle: { color },
    areaStyle: key === "committed" ? { color, opacity: 0.08 } : undefined,
  });
  rateChart.setOption(
    base({
      tooltip: {
        trigger: "axis",
        valueFormatter: (v) => t("ops.rate_value", { n: v }),
      },
      xAxis: {
        type: "time",
        min: now - RATE_WINDOW_MS,
        max: now,
        axisLabel: { color: COLORS.muted, formatter: (v) => format("hm", new Date(v).toISOString()) },
        axisLine: { lineStyle: { color: COLORS.light } },
        splitLine: { show: false },
      },
      yAxis: valueAxis({ name: t("ops.per_second"), nameTextStyle: { color: COLORS.muted } }),
      series: [series("received", t("ops.series.received"), COLORS.blue), series("committed", t("ops.series.committed"), COLORS.teal)],
    }),
    true,
  );
}

async function sampleRates() {
  const metrics = parseMetrics(await getText("/metrics"));
  const sample = {
    at: Date.now(),
    received: metricSum(metrics, "hub_messages_received_total"),
    committed: metricSum(metrics, "hub_events_committed_total"),
  };
  const prev = state.samples[state.samples.length - 1];
  state.samples = [prev, sample].filter(Boolean);
  if (prev) {
    const seconds = (sample.at - prev.at) / 1000;
    state.rates.push({
      at: sample.at,
      received: Math.max(0, (sample.received - prev.received) / seconds),
      committed: Math.max(0, (sample.committed - prev.committed) / seconds),
    });
    state.rates = state.rates.filter((r) => r.at >= sample.at - RATE_WINDOW_MS);
  }
}

async function loadState() {
  const [sites, devices, health] = await Promise.all([
    getAll("/api/v1/sites"),
    getAll("/api/v1/devices"),
    fetch("/healthz").then((r) => r.json()), // 503 still has the report
  ]);
  const first = !state.sites.length;
  state.sites = sites;
  if (first) readFilters();
  state.devices = devices;
  state.health = health;
}

async function loadDeadLetters() {
  state.deadLetters = await getJSON("/api/v1/dead-letters", { limit: DEAD_LETTER_ROWS });
}

let polling = false;

async function load() {
  await Promise.all([loadState(), loadDeadLetters(), sampleRates(), loadCharts()]);
  renderAll();
  if (!polling) startPolling();
}

function renderAll() {
  renderStats();
  renderHub();
  renderFilterChoices();
  renderSites();
  renderDevices();
  renderDeadLetters();
  renderRates();
}

const reloadState = debounce(async () => {
  await loadState();
  renderStats();
  renderHub();
  renderFilterChoices();
  renderSites();
  renderDevices();
}, 250);

const reloadDeadLetters = debounce(async () => {
  await loadDeadLetters();
  renderStats();
  renderDeadLetters();
}, 250);

function startPolling() {
  polling = true;
  setInterval(async () => {
    try {
      await sampleRates();
      renderRates();
      renderStats();
    } catch (error) {
      console.warn("metrics", error);
    }
  }, RATE_POLL_MS);
  setInterval(() => reloadState(), STATE_POLL_MS);
}

bindFilters();

startPage({
  page: "operations",
  topics: ["devices", "dead_letters"],
  handlers: { devices: reloadState, dead_letters: reloadDeadLetters },
  load,
  onLanguage: renderRates,
});
