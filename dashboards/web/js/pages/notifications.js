// A user's own notifications: which events (within what the role sees), quiet hours, the daily
// digest; the channels (WeCom, DingTalk, e-mail, webhook) with a test message; for operators,
// the log of every notification and its outcome. Targets and secrets are write-only: the hub
// shows them masked.

import { getJSON } from "/js/api.js";
import { can } from "/js/auth.js";
import { $, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { notice, startPage } from "/js/shell.js";

const KINDS = ["wecom", "dingtalk", "email", "webhook"];
const SETTINGS = "/api/v1/me/notification-settings";
const CHANNELS = "/api/v1/me/notification-channels";
const TONES = { sent: "ok", failed: "bad", pending: "warn", digest: "idle", digested: "idle" };

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // 204, or not JSON
  }
  if (!response.ok) {
    const detail = answer && answer.detail;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail || response.status));
  }
  return answer;
}

function result(id, key, detail) {
  const box = $(id);
  box.hidden = false;
  box.dataset.outcome = key;
  fill(box, label(key), detail ? value(` ${detail}`, "code") : null);
}

function renderPrefs(s) {
  fill(
    $("#prefs-events"),
    label("notifications.events", undefined, "legend"),
    s.available_events.map((kind) =>
      h(
        "label",
        {},
        h("input", { type: "checkbox", name: "event", value: kind, checked: s.events.includes(kind) }),
        label(`notifications.event.${kind}`),
      ),
    ),
  );
  $("#f-quiet-from").value = s.quiet_from ? s.quiet_from.slice(0, 5) : "";
  $("#f-quiet-to").value = s.quiet_to ? s.quiet_to.slice(0, 5) : "";
  $("#f-critical").checked = s.critical_in_quiet;
  $("#f-digest").checked = s.digest;
  $("#f-digest-at").value = s.digest_at.slice(0, 5);
}

function channelRow(c) {
  return row(
    [
      value(c.name, "strong"),
      label(`notifications.kind.${c.kind}`),
      value(c.target_masked, "code"),
      label(c.has_secret ? "notifications.signed" : "common.none"),
      h(
        "div",
        {},
        label("notifications.test", undefined, "button", { type: "button", class: "button", dataset: { test: c.id } }),
        label("notifications.delete", undefined, "button", { type: "button", class: "button", dataset: { delete: c.id } }),
      ),
    ],
    { dataset: { channel: c.id } },
  );
}

function renderChannels(s) {
  const rows = s.channels.length ? s.channels.map(channelRow) : [emptyRow(5, "notifications.no_channels")];
  fill(
    $("#channels-table"),
    table(["notifications.name", "notifications.kind", "notifications.target", "notifications.secret", "notifications.actions"], rows, { id: "channels" }),
  );
}

function logRow(e) {
  return row([
    fmt("datetime", e.created_at),
    value(e.title),
    value(e.username),
    label(`notifications.kind.${e.channel_kind}`),
    label(`notifications.state.${e.state}`, undefined, "span", { class: `badge badge-${TONES[e.state] || "idle"}` }),
    value(String(e.attempts)),
    value(e.answer || "", "span", { class: "muted" }),
  ]);
}

async function load() {
  const s = await getJSON(SETTINGS);
  renderPrefs(s);
  renderChannels(s);
  if (can("notifications.read")) {
    const page = await getJSON("/api/v1/notifications", { limit: 50 });
    $("#log-panel").hidden = false;
    fill($("#log-count"), label("notifications.count", { n: page.count }));
    const rows = page.data.length ? page.data.map(logRow) : [emptyRow(7, "notifications.log_empty")];
    fill(
      $("#log-table"),
      table(["notifications.col.at", "notifications.col.title", "notifications.col.user", "notifications.kind", "notifications.col.state", "notifications.col.attempts", "notifications.col.answer"], rows, { id: "notification-log" }),
    );
  }
}

function wire() {
  fill($("#c-kind"), KINDS.map((kind) => label(`notifications.kind.${kind}`, undefined, "option", { value: kind })));
  $("#prefs-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      events: [...document.querySelectorAll("#prefs-events input:checked")].map((el) => el.value),
      quiet_from: $("#f-quiet-from").value || null,
      quiet_to: $("#f-quiet-to").value || null,
      critical_in_quiet: $("#f-critical").checked,
      digest: $("#f-digest").checked,
      digest_at: $("#f-digest-at").value || "08:00",
    };
    try {
      renderPrefs(await call("PUT", SETTINGS, body));
      result("#prefs-result", "notifications.saved");
    } catch (error) {
      result("#prefs-result", "notifications.refused", error.message);
    }
  });
  $("#channel-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { kind: $("#c-kind").value, name: $("#c-name").value.trim(), target: $("#c-target").value.trim() };
    if ($("#c-secret").value) body.secret = $("#c-secret").value;
    try {
      await call("POST", CHANNELS, body);
      $("#channel-form").reset();
      result("#channel-result", "notifications.added");
      await load();
    } catch (error) {
      result("#channel-result", "notifications.refused", error.message);
    }
  });
  $("#channels-table").addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    try {
      if (button.dataset.test) {
        const outcome = await call("POST", `${CHANNELS}/${button.dataset.test}/test`);
        result("#channel-result", outcome.ok ? "notifications.test_ok" : "notifications.test_failed", outcome.answer);
      } else if (button.dataset.delete) {
        await call("DELETE", `${CHANNELS}/${button.dataset.delete}`);
        await load();
      }
    } catch (error) {
      result("#channel-result", "notifications.refused", error.message);
    }
  });
}

startPage({
  page: "notifications",
  load: async () => {
    if (!$("#c-kind").options.length) wire();
    try {
      await load();
      notice(null);
    } catch (error) {
      notice("error.load", error && error.message);
    }
  },
});
