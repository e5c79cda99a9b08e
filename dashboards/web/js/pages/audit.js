// The audit log (operators): every change with who made it, when, from where, and the values
// before and after; every export of personal data. Filtered by the API, a page at a time,
// newest first. The filters live in the URL, so a link shows the same entries.

import { getJSON } from "/js/api.js";
import { $, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { notice, startPage } from "/js/shell.js";

const PAGE = 50;
const ACTIONS = ["create", "update", "archive", "restore", "delete", "export"];
const TEXT_FILTERS = { actor: "#f-actor", table: "#f-table", row_id: "#f-row-id" };
const TIME_FILTERS = { since: "#f-since", until: "#f-until" };
const VALUE_CHARS = 120;
const TONES = { create: "ok", archive: "warn", delete: "bad", export: "warn" };

const state = { filters: {}, offset: 0, count: 0 };

function fromURL() {
  const params = new URLSearchParams(location.search);
  for (const key of [...Object.keys(TEXT_FILTERS), "action", ...Object.keys(TIME_FILTERS)]) {
    const val = params.get(key);
    if (val) state.filters[key] = val;
  }
  state.offset = Math.max(0, Number(params.get("offset")) || 0);
}

function remember() {
  const url = new URL(location.href);
  url.search = "";
  for (const [key, val] of Object.entries(state.filters)) url.searchParams.set(key, val);
  if (state.offset) url.searchParams.set("offset", state.offset);
  history.replaceState(null, "", url);
}

// A datetime-local input holds the city's wall-clock time ("2026-11-27T08:30"); the API wants an
// offset. The city keeps UTC+8 all year.
function toAPI(local) {
  return local ? `${local.length === 16 ? `${local}:00` : local}+08:00` : undefined;
}

function fillForm() {
  const select = $("#f-action");
  fill(
    select,
    label("audit.action.any", undefined, "option", { value: "" }),
    ACTIONS.map((action) => label(`audit.action.${action}`, undefined, "option", { value: action })),
  );
  select.value = state.filters.action || "";
  for (const [key, selector] of Object.entries({ ...TEXT_FILTERS, ...TIME_FILTERS })) {
    $(selector).value = state.filters[key] || "";
  }
}

function readForm() {
  const filters = {};
  for (const [key, selector] of Object.entries({ ...TEXT_FILTERS, ...TIME_FILTERS })) {
    const val = $(selector).value.trim();
    if (val) filters[key] = val;
  }
  if ($("#f-action").value) filters.action = $("#f-action").value;
  return filters;
}

function shown(val) {
  if (val === undefined) return "";
  const text = typeof val === "string" ? val : JSON.stringify(val);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}

/** One line per column: "capacity 120 → 150"; a created row shows its values, a deleted one
 * what it held. */
function changes(entry) {
  const before = entry.before || {};
  const after = entry.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (!keys.length) return label("common.none", undefined, "span", { class: "muted" });
  return h(
    "ul",
    { class: "changes" },
    keys.map((key) => {
      const parts = [value(key, "code")];
      if (key in before && entry.action !== "create") parts.push(value(shown(before[key]), "span", { class: "before" }));
      if (key in before && key in after && entry.action !== "create") parts.push(label("audit.arrow", undefined, "span", { class: "arrow" }));
      if (key in after) parts.push(value(shown(after[key]), "span", { class: "after" }));
      return h("li", { dataset: { column: key } }, parts);
    }),
  );
}

function entryRow(entry) {
  return row(
    [
      fmt("datetime", entry.at),
      h("div", {}, value(entry.actor, "strong"), label(`audit.source.${entry.source}`, undefined, "div", { class: "muted" })),
      label(`audit.action.${entry.action}`, undefined, "span", { class: `badge badge-${TONES[entry.action] || "idle"}` }),
      h("div", {}, value(entry.table_name, "code"), value(entry.row_id, "div", { class: "muted" })),
      changes(entry),
      value(entry.request || "", "span", { class: "muted request" }),
    ],
    { dataset: { entry: entry.id } },
  );
}

function render(page) {
  state.count = page.count;
  const rows = page.data.length ? page.data.map(entryRow) : [emptyRow(6, "audit.empty")];
  fill(
    $("#audit-table"),
    table(["audit.col.at", "audit.col.actor", "audit.col.action", "audit.col.row", "audit.col.changes", "audit.col.request"], rows, { id: "audit-entries" }),
  );
  fill($("#audit-count"), label("audit.count", { n: page.count }));
  const first = page.data.length ? state.offset + 1 : 0;
  fill($("#page-where"), label("audit.where", { from: first, to: state.offset + page.data.length, n: page.count }));
  $("#page-prev").disabled = state.offset === 0;
  $("#page-next").disabled = state.offset + page.data.length >= page.count;
}

async function load() {
  const params = { ...state.filters, offset: state.offset, limit: PAGE };
  for (const key of Object.keys(TIME_FILTERS)) params[key] = toAPI(state.filters[key]);
  render(await getJSON("/api/v1/audit", params));
  remember();
}

/** Load after a change of filters or page; a refusal (a filter the hub rejects) is shown. */
async function reload() {
  try {
    await load();
    notice(null);
  } catch (error) {
    notice("error.load", error && error.message);
  }
}

function wire() {
  $("#audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters = readForm();
    state.offset = 0;
    reload();
  });
  $("#audit-filters").addEventListener("reset", () => {
    state.filters = {};
    state.offset = 0;
    setTimeout(reload); // after the form has cleared itself
  });
  $("#page-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    reload();
  });
  $("#page-next").addEventListener("click", () => {
    state.offset += PAGE;
    reload();
  });
}

fromURL();
startPage({
  page: "audit",
  load: async () => {
    if (!$("#f-action").options.length) {
      fillForm();
      wire();
    }
    await load();
  },
});
