// Service requests (the transfer workflow): the community's queue (raise, classify, transfer, confirm, reopen), the unit's queue
// (accept, decline, resolve) and a request's history. One page: what the user may do comes from
// its permissions (service_requests.manage: the community's side; .handle: the unit's side), and
// the hub narrows the lists to its scope. The resident's contact is shown masked; the unit that
// works on a request may ask for it whole (each look is recorded in the history).

import { getJSON } from "/js/api.js";
import { can } from "/js/auth.js";
import { send } from "/js/admin/send.js";
import { $, badge, emptyRow, fill, fmt, h, label, row, table, value } from "/js/dom.js";
import { t } from "/js/i18n.js";
import { startPage } from "/js/shell.js";

const TONES = { raised: "warn", declined: "bad", transferred: "idle", accepted: "idle", resolved: "ok", confirmed: "ok" };
const state = { queue: "", escalated: false, chosen: null };

function fromURL() {
  const params = new URLSearchParams(location.search);
  state.queue = params.get("queue"); // null: the user's own queue, once its permissions are known
  state.escalated = params.get("escalated") === "true";
  state.chosen = params.get("id");
}

function remember() {
  const url = new URL(location.href);
  url.search = "";
  if (state.queue) url.searchParams.set("queue", state.queue);
  if (state.escalated) url.searchParams.set("escalated", "true");
  if (state.chosen) url.searchParams.set("id", state.chosen);
  history.replaceState(null, "", url);
}

function requestRow(r) {
  return row(
    [
      value(r.id, "span", { class: "mono" }),
      fmt("datetime", r.raised_at),
      value(r.category),
      value(r.summary),
      value(r.place || ""),
      value(r.contact || "", "span", { class: "mono contact" }),
      h("span", {}, badge(`requests.status.${r.status}`, TONES[r.status] || "idle"), r.escalated_at ? badge("requests.escalated", "bad") : null),
      fmt("datetime", r.due_at),
    ],
    {
      class: "clickable",
      dataset: { request: r.id, status: r.status },
      on: { click: () => choose(String(r.id)) },
    },
  );
}

async function loadList() {
  const params = { limit: 200 };
  if (state.queue) params.queue = state.queue;
  if (state.escalated) params.escalated = true;
  const page = await getJSON("/api/v1/service-requests", params);
  const rows = page.data.length ? page.data.map(requestRow) : [emptyRow(8, "requests.empty")];
  fill(
    $("#requests-table"),
    table(["requests.col.id", "requests.col.raised", "requests.col.category", "requests.col.summary", "requests.col.place", "requests.col.contact", "requests.col.status", "requests.col.due"], rows, { id: "requests-list" }),
  );
  fill($("#requests-count"), label("requests.count", { n: page.count }));
}

function problem(message) {
  const box = $("#request-problem");
  box.hidden = !message;
  if (message) fill(box, value(message));
  else box.replaceChildren();
}

/** A button that makes a move, with an optional text field (a reason, a note, a category). */
function move(key, path, field, extra, suffix) {
  const id = suffix === undefined ? key : `${key}-${suffix}`;
  const input = field ? h("input", { type: "text", maxlength: 1000, id: `in-${key}`, list: key === "classify" ? "categories" : undefined, placeholder: t(`requests.${key}.placeholder`), dataset: { i18nAttr: `placeholder:requests.${key}.placeholder` } }) : null;
  const button = label(`requests.${key}.do`, undefined, "button", {
    type: "button",
    class: "button",
    id: `do-${id}`,
    on: {
      click: async () => {
        const body = field ? { [field]: input.value.trim(), ...(extra || {}) } : extra;
        const answer = await send("POST", path, body);
        if (!answer.ok) {
          problem([answer.message, ...answer.fields.map((f) => f.msg)].filter(Boolean).join("; ") || `HTTP ${answer.status}`);
          return;
        }
        problem(null);
        await Promise.all([loadList(), loadChosen()]);
      },
    },
  });
  return h("div", { class: "move", dataset: { move: id } }, input, button);
}

async function suggestions(path) {
  const units = await getJSON(`${path}/suggestions`);
  const rows = units.map((s) =>
    row(
      [value(s.unit_name), value(s.offers.join("、")), h("div", {}, move("transfer", `${path}/transfer`, null, { unit_id: s.unit_id }, s.unit_id))],
      { dataset: { suggestion: s.unit_id } },
    ),
  );
  return h(
    "div",
    { class: "suggestions" },
    label("requests.suggestions", undefined, "h3"),
    table(["requests.col.unit", "requests.col.offers", "requests.col.action"], rows.length ? rows : [emptyRow(3, "requests.no_suggestions")], { id: "suggestions" }),
  );
}

async function actions(r) {
  const path = `/api/v1/service-requests/${r.id}`;
  const parts = [];
  if (can("service_requests.manage")) {
    if (r.status === "raised" || r.status === "declined") {
      parts.push(move("classify", `${path}/classify`, "category"));
      parts.push(await suggestions(path));
    }
    if (r.status === "resolved") {
      parts.push(move("confirm", `${path}/confirm`));
      parts.push(move("reopen", `${path}/reopen`, "reason"));
    }
  }
  if (can("service_requests.handle")) {
    if (r.status === "transferred") {
      parts.push(move("accept", `${path}/accept`));
      parts.push(move("decline", `${path}/decline`, "reason"));
    }
    if (r.status === "accepted") {
      parts.push(move("resolve", `${path}/resolve`, "note"));
      if (r.contact) {
        parts.push(
          label("requests.show_contact", undefined, "button", {
            type: "button",
            class: "button",
            id: "show-contact",
            on: {
              click: async () => {
                const whole = await getJSON(`${path}/contact`);
                fill($("#contact-whole"), value(whole.contact || "", "span", { class: "mono" }));
                await loadChosen(false);
              },
            },
          }),
          h("span", { id: "contact-whole" }),
        );
      }
    }
  }
  fill($("#request-actions"), ...parts);
}

function detail(r) {
  const line = (key, content) => h("div", { class: "kv" }, label(key, undefined, "span", { class: "muted" }), content);
  fill(
    $("#request-detail"),
    line("requests.col.status", badge(`requests.status.${r.status}`, TONES[r.status] || "idle")),
    line("requests.col.category", value(r.category)),
    line("requests.col.summary", value(r.summary, "span", { id: "detail-summary" })),
    line("requests.col.place", value(r.place || "")),
    line("requests.col.contact", value(r.contact || "", "span", { class: "mono", id: "detail-contact" })),
    line("requests.col.unit", value(r.unit_id ?? "")),
    line("requests.col.due", fmt("datetime", r.due_at)),
    line("requests.col.resolution", value(r.resolution || "")),
  );
  fill($("#request-number"), value(`#${r.id}`));
}

async function loadChosen(withActions = true) {
  const panel = $("#request-panel");
  if (!state.chosen) {
    panel.hidden = true;
    return;
  }
  const path = `/api/v1/service-requests/${state.chosen}`;
  const [r, events] = await Promise.all([getJSON(path), getJSON(`${path}/history`)]);
  panel.hidden = false;
  detail(r);
  if (withActions) await actions(r);
  const rows = events.map((e) =>
    row(
      [fmt("datetime", e.at), value(e.actor, "strong"), label(`requests.step.${e.kind}`), value(e.unit_id ?? ""), value(e.note || "")],
      { dataset: { step: e.kind } },
    ),
  );
  fill($("#request-history"), table(["requests.col.at", "requests.col.actor", "requests.col.step", "requests.col.unit", "requests.col.note"], rows, { id: "history-table" }));
}

async function choose(id) {
  state.chosen = id;
  remember();
  problem(null);
  await loadChosen();
}

/** The categories and their deadlines, offered to the classify field. */
async function loadCategories() {
  const rows = await getJSON("/api/v1/service-requests/categories");
  document.body.append(h("datalist", { id: "categories" }, rows.map((c) => h("option", { value: c.category }))));
}

function wire() {
  if (state.queue === null) state.queue = can("service_requests.manage") ? "community" : "unit";
  const queues = [["community", "requests.queue.community"], ["unit", "requests.queue.unit"], ["", "requests.queue.all"]];
  fill($("#f-queue"), queues.map(([val, key]) => label(key, undefined, "option", { value: val })));
  $("#f-queue").value = state.queue;
  $("#f-escalated").checked = state.escalated;
  $("#requests-filters").addEventListener("change", async () => {
    state.queue = $("#f-queue").value;
    state.escalated = $("#f-escalated").checked;
    remember();
    await loadList();
  });
}

fromURL();
let wired = false;
startPage({
  page: "requests",
  load: async () => {
    if (!wired) {
      wire();
      await loadCategories();
      wired = true;
    }
    await Promise.all([loadList(), loadChosen()]);
    remember();
  },
});
