// Operations (hub operators): every edge and device, message rates in and committed, dead
// letters with their raw payload, the hub's own health and its telemetry sink.

import { getAll, getJSON, getText, metricSum, parseMetrics } from "/js/api.js";
import { base, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, debounce, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { format, t } from "/js/i18n.js";
import { startPage } from "/js/shell.js";

const RATE_WINDOW_MS = 10 * 60 * 1000;
const RATE_POLL_MS = 2000;
const STATE_POLL_MS = 10000; // online state also changes when heartbeats simply stop
const DEAD_LETTER_ROWS = 50;
const DEVICE_TONES = { ok: "ok", degraded: "warn", disconnected: "bad", unknown: "idle" };

const state = {
  sites: [],
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
  const edgesOnline = state.sites.filter((s) => s.online).length;
  const devicesOk = state.devices.filter((d) => d.online && d.state === "ok").length;
  const last = state.rates[state.rates.length - 1];
  const [sinkKey, sinkTone] = telemetryState(state.health);
  fill(
    $("#stats"),
    stat("ops.stat.edges", fmt("int", edgesOnline), edgesOnline < state.sites.length ? "warn" : "ok", "stat-edges", state.sites.length),
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

function renderEdges() {
  const rows = state.sites.length
    ? state.sites.map((s) =>
        row(
          [
            value(s.id, "span", { class: "mono" }),
            s.online ? badge("common.online", "ok") : badge("common.offline", "bad"),
            fmt("relative", s.last_seen),
            h("td", { class: "num" }, fmt("int", s.outbox_depth)),
            h("td", { class: "num" }, s.oldest_pending_s === null || s.oldest_pending_s === undefined ? label("common.none") : label("common.seconds", { n: Math.round(s.oldest_pending_s) })),
            value(s.agent_version, "span", { class: "mono" }),
            value(s.boot ? s.boot.slice(0, 8) : "", "span", { class: "mono muted" }),
          ],
          { dataset: { site: s.id } },
        ),
      )
    : [emptyRow(7, "ops.no_edges")];
  fill(
    $("#edges"),
    table(["ops.col.site", "common.online_state", "ops.col.last_seen", "ops.col.outbox", "ops.col.oldest", "ops.col.version", "ops.col.boot"], rows, { id: "edges-table" }),
  );
}

function renderDevices() {
  const rows = state.devices.length
    ? state.devices.map((d) =>
        row(
          [
            value(d.site_id, "span", { class: "mono" }),
            value(d.id, "span", { class: "mono" }),
            label(`device.kind.${d.kind}`),
            d.online ? badge("common.online", "ok") : badge("common.offline", "bad"),
            badge(`device.state.${d.state}`, DEVICE_TONES[d.state] || "idle"),
            fmt("relative", d.last_seen),
            h("td", { class: "num" }, fmt("int", d.frames_ok)),
            h("td", { class: "num" }, fmt("int", d.frame_errors)),
            h("td", { class: "num" }, fmt("int", d.port_errors)),
            h("td", { class: "num" }, fmt("int", d.timeouts)),
          ],
          { dataset: { site: d.site_id, device: d.id, state: d.state } },
        ),
      )
    : [emptyRow(10, "ops.no_devices")];
  fill(
    $("#devices"),
    table(
      ["ops.col.site", "ops.col.device", "ops.col.kind", "common.online_state", "common.state", "ops.col.last_seen", "ops.col.frames_ok", "ops.col.frame_errors", "ops.col.port_errors", "ops.col.timeouts"],
      rows,
      { id: "devices-table" },
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
  state.sites = sites;
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
  renderEdges();
  renderDevices();
  renderDeadLetters();
  renderRates();
}

const reloadState = debounce(async () => {
  await loadState();
  renderStats();
  renderHub();
  renderEdges();
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

startPage({
  page: "operations",
  topics: ["devices", "dead_letters"],
  handlers: { devices: reloadState, dead_letters: reloadDeadLetters },
  load,
  onLanguage: renderRates,
});
