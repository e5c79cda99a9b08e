// One site (an edge at a service centre or venue): the hub's view of it, its devices, its
// heartbeat history, its credentials' state and the commands sent to it, with buttons for an
// operator to send ping, restart and config (POST /api/v1/commands). Redrawn when its devices
// change and after each command.

import { getJSON } from "/js/api.js";
import { base, COLORS, loadCharts, makeChart, valueAxis } from "/js/charts.js";
import { $, badge, debounce, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { format, t } from "/js/i18n.js";
import { notice, startPage } from "/js/shell.js";
import { COMMAND_TONES, DEVICE_TONES, problemBadges, stateBadge } from "/js/sites.js";

const id = new URLSearchParams(location.search).get("id") || "";
const COMMAND_DEADLINE_S = 600; // an offline edge gets it if it comes back within ten minutes
const COMMAND_POLL_MS = 5000; // commands change state at the edge, which the stream does not carry
const state = { site: null };
let historyChart = null;

function stat(key, figure, tone, statId, extra) {
  const textual = figure.dataset && figure.dataset.i18n;
  return h("div", { class: `stat ${tone || ""}`, id: statId }, label(key, undefined, "div", { class: "name" }), h("div", { class: textual ? "figure text" : "figure" }, figure, extra || null));
}

function renderHead() {
  const s = state.site;
  fill($("#site-name"), value(s.name || s.id));
  fill(
    $("#site-meta"),
    value(s.id, "span", { class: "mono" }),
    label("common.dot"),
    s.kind ? label(`site.kind.${s.kind}`) : label("ops.kind_other"),
    label("common.dot"),
    s.community ? value(s.community) : label("ops.no_community"),
    label("common.dot"),
    problemBadges(s.problems),
  );
  const ok = s.devices.filter((d) => d.state === "ok").length;
  fill(
    $("#stats"),
    stat("site.stat.state", stateBadge(s.site_state), "", "stat-state"),
    stat("site.stat.last_seen", s.last_seen ? fmt("relative", s.last_seen) : label("common.none"), "", "stat-last-seen"),
    stat("site.stat.devices", fmt("int", ok), ok < s.devices.length ? "warn" : "ok", "stat-devices", h("small", {}, label("common.of_total", { n: s.devices.length }))),
    stat(
      "site.stat.outbox",
      s.outbox_depth === null ? label("common.none") : fmt("int", s.outbox_depth),
      s.problems.includes("outbox") ? "bad" : "",
      "stat-outbox",
      s.oldest_pending_s === null ? null : h("small", {}, label("common.seconds", { n: Math.round(s.oldest_pending_s) })),
    ),
    stat("site.stat.failed", fmt("int", s.failed_commands), s.failed_commands ? "bad" : "ok", "stat-failed"),
  );
}

function renderCredentials() {
  const a = state.site.account;
  const rows = a
    ? [
        row([label("site.cred.state"), a.state === "active" ? badge("site.cred.active", "ok") : badge("site.cred.revoked", "bad")]),
        row([label("site.cred.version"), fmt("int", a.credentials_version)]),
        row([label("site.cred.made"), fmt("datetime", a.credentials_at)]),
        row([label("site.cred.created"), fmt("datetime", a.created_at)]),
        row([label("site.cred.revoked_at"), a.revoked_at ? fmt("datetime", a.revoked_at) : label("common.none")]),
      ]
    : [emptyRow(2, "site.cred.none")];
  fill($("#credentials"), table(["ops.col.what", "common.state"], rows, { id: "credentials-table" }));
}

function renderDevices() {
  const devices = state.site.devices;
  const rows = devices.length
    ? devices.map((d) =>
        row(
          [
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
          { dataset: { device: d.id, state: d.state } },
        ),
      )
    : [emptyRow(9, "ops.no_devices")];
  fill(
    $("#devices"),
    table(["ops.col.device", "ops.col.kind", "common.online_state", "common.state", "ops.col.last_seen", "ops.col.frames_ok", "ops.col.frame_errors", "ops.col.port_errors", "ops.col.timeouts"], rows, { id: "devices-table", class: "grid-table compact" }),
  );
}

function renderCommands() {
  const commands = state.site.commands;
  const rows = commands.length
    ? commands.map((c) =>
        row(
          [
            fmt("datetime", c.created_at),
            value(c.op, "span", { class: "mono" }),
            badge(`site.command_state.${c.state}`, COMMAND_TONES[c.state] || "idle"),
            value(c.reason || ""),
            value(Object.keys(c.args).length ? JSON.stringify(c.args) : "", "span", { class: "mono" }),
            value(c.requested_by || ""),
            c.finished_at ? fmt("datetime", c.finished_at) : label("common.none"),
          ],
          { dataset: { command: c.id, op: c.op, state: c.state } },
        ),
      )
    : [emptyRow(7, "site.no_commands")];
  fill(
    $("#commands"),
    table(["site.col.created", "site.col.op", "common.state", "ops.col.reason", "site.col.args", "site.col.by", "site.col.finished"], rows, { id: "commands-table", class: "grid-table compact" }),
  );
}

/** Outbox depth and devices in trouble, one point a step; a gap where no heartbeat came. */
function renderHistory() {
  const s = state.site;
  fill($("#history-note"), label("site.history_note", { n: Math.round(s.history_step_s) }));
  historyChart ||= makeChart($("#history-chart"));
  const points = [];
  let previous = null;
  for (const beat of s.history) {
    const at = new Date(beat.at).getTime();
    if (previous !== null && at - previous > 2 * s.history_step_s * 1000) points.push({ at: previous + s.history_step_s * 1000, gap: true });
    points.push({ at, beat });
    previous = at;
  }
  const series = (name, key, color, type) => ({
    name,
    type,
    showSymbol: false,
    connectNulls: false,
    data: points.map((p) => [p.at, p.gap ? null : p.beat[key]]),
    lineStyle: { width: 2, color },
    itemStyle: { color },
  });
  historyChart.setOption(
    base({
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "time",
        axisLabel: { color: COLORS.muted, formatter: (v) => format("hm", new Date(v).toISOString()) },
        axisLine: { lineStyle: { color: COLORS.light } },
        splitLine: { show: false },
      },
      yAxis: valueAxis({ minInterval: 1 }),
      series: [series(t("site.series.outbox"), "outbox_depth", COLORS.blue, "line"), series(t("site.series.devices_bad"), "devices_bad", COLORS.accent, "bar")],
    }),
    true,
  );
}

function result(key, args, detail) {
  const box = $("#command-result");
  box.hidden = false;
  box.dataset.outcome = key;
  fill(box, label(key, args), detail ? value(detail, "code") : null);
}

async function send(op, args) {
  const response = await fetch("/api/v1/commands", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ site: id, op, args, deadline_s: COMMAND_DEADLINE_S }),
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  if (response.ok) {
    result("site.command.sent", { op });
    await reload();
  } else {
    const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : `HTTP ${response.status}`;
    result("site.command.refused", { op }, detail);
  }
}

/** The config command's arguments: the JSON given (an object), with the heartbeat interval. */
function configArgs() {
  const text = $("#config-json").value.trim();
  let args = {};
  if (text) {
    try {
      args = JSON.parse(text);
    } catch {
      return null;
    }
    if (!args || typeof args !== "object" || Array.isArray(args)) return null;
  }
  const interval = $("#heartbeat-interval").value;
  if (interval) args.heartbeat_interval_s = Number(interval);
  return Object.keys(args).length ? args : null;
}

function bindCommands() {
  $("#send-ping").addEventListener("click", () => send("ping", {}));
  $("#send-restart").addEventListener("click", () => {
    if (confirm(t("site.confirm_restart", { site: id }))) send("restart", {});
  });
  $("#config-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const args = configArgs();
    if (args === null) result("site.config.bad");
    else send("config", args);
  });
}

function renderAll() {
  renderHead();
  renderCredentials();
  renderDevices();
  renderCommands();
  renderHistory();
}

async function load() {
  const [site] = await Promise.all([getJSON(`/api/v1/sites/${encodeURIComponent(id)}`), loadCharts()]);
  state.site = site;
  renderAll();
}

const reload = debounce(async () => {
  try {
    state.site = await getJSON(`/api/v1/sites/${encodeURIComponent(id)}`);
    renderAll();
    notice(null);
  } catch (error) {
    notice("error.load", error && error.message);
  }
}, 200);

bindCommands();
setInterval(() => {
  if (state.site) reload();
}, COMMAND_POLL_MS);

startPage({
  page: "site",
  topics: ["devices"],
  handlers: {
    devices: (event) => {
      if (!event || !event.site_id || event.site_id === id) reload();
    },
  },
  load,
  onLanguage: renderHistory,
});
