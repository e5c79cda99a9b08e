// The admin pages (/admin?kind=…): one generic page for every registry kind described in
// js/admin/kinds.js. Without a kind, the kinds the user may change. With one: its list (search,
// paging, archived rows on demand), import, template and export; with &id=… the row's form
// (and its sub-forms: chairs, menu, members, hours, closures), with &new=1 an empty one. A
// refusal of the hub is shown beside the field it names. Sites are provisioned from a venue's or
// a centre's form (&kind=sites&for=venue-07): the answer's edge bundle is offered once.

import { getAll, getJSON } from "/js/api.js";
import { t } from "/js/i18n.js";
import { can, currentUser } from "/js/auth.js";
import { $, badge, emptyRow, fill, h, label, row, table, value } from "/js/dom.js";
import { startPage } from "/js/shell.js";
import { KINDS, access, filesOf, kindsFor } from "/js/admin/kinds.js";
import { check, clearErrors, fieldBox, readValue, refText, setValues, showError } from "/js/admin/form.js";
import { rowTable } from "/js/admin/rows.js";
import { send } from "/js/admin/send.js";
import { sitePanels } from "/js/admin/sites.js";

const PAGE_SIZE = 50;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const params = new URLSearchParams(location.search);
const state = {
  kindName: params.get("kind") || "",
  id: params.get("id"),
  creating: params.get("new") === "1" || (params.get("kind") === "sites" && params.has("for")),
  search: "",
  archived: false,
  page: 0,
  rows: [],
  refs: new Map(), // kind name -> its rows, for selects and for showing references in the list
  formShown: false,
};
const kind = KINDS[state.kindName];

function adminURL(extra = {}) {
  const url = new URL("/admin", location.origin);
  url.searchParams.set("kind", state.kindName);
  for (const [key, val] of Object.entries(extra)) if (val !== undefined && val !== null) url.searchParams.set(key, val);
  return `${url.pathname}${url.search}`;
}

const enc = encodeURIComponent;

/** A lasting word at the top of the page (the shell's notice is cleared after each load). */
function say(key) {
  const box = $("#admin-notice");
  box.hidden = false;
  fill(box, label(key));
}
const rowPath = (id) => `${kind.path}/${enc(id)}`;

// --- the index of kinds ------------------------------------------------------------------------

function renderIndex() {
  fill($("#admin-title"), label("admin.heading"));
  fill($("#admin-lead"), label("admin.lead"));
  const names = kindsFor(can, currentUser());
  const box = $("#kinds");
  box.hidden = false;
  fill(
    box,
    names.length
      ? h("ul", { class: "kind-list" }, names.map((name) => h("li", {}, label(`admin.kind.${name}`, undefined, "a", { href: `/admin?kind=${enc(name)}`, id: `kind-${name}` }))))
      : label("admin.nothing", undefined, "p", { class: "muted" }),
  );
}

// --- the list ---------------------------------------------------------------------------------

function fieldOf(name) {
  return [...kind.fields, ...(kind.shown || [])].find((f) => f.name === name);
}

function cell(rowData, column) {
  return shown(fieldOf(column), rowData[column]);
}

/** A value of a field as a list shows it: a reference by its code and name, an option by its label. */
function shown(field, raw) {
  if (raw === null || raw === undefined) return label("common.none");
  if (field && field.type === "ref") {
    const referred = (state.refs.get(field.ref) || []).find((r) => r.id === raw);
    return value(referred ? refText(referred) : raw);
  }
  if (field && field.type === "select") return label(`admin.option.${field.options.key}.${raw}`);
  if (typeof raw === "boolean") return label(raw ? "admin.yes" : "admin.no");
  return value(typeof raw === "object" ? JSON.stringify(raw) : raw);
}

function searchable(rowData) {
  return kind.columns
    .map((column) => {
      const field = fieldOf(column);
      const raw = rowData[column];
      if (field && field.type === "ref") {
        const referred = (state.refs.get(field.ref) || []).find((r) => r.id === raw);
        return referred ? refText(referred) : raw;
      }
      return raw;
    })
    .concat([rowData.id])
    .join(" ")
    .toLowerCase();
}

function renderList() {
  const needle = state.search.trim().toLowerCase();
  const shown = needle ? state.rows.filter((r) => searchable(r).includes(needle)) : state.rows;
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  state.page = Math.min(state.page, pages - 1);
  const slice = shown.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
  const user = currentUser();
  const archivable = !kind.noArchive;
  const headers = [...kind.columns.map((c) => `admin.field.${c}`), ...(archivable ? ["admin.status"] : []), "admin.actions"];
  const body = slice.length
    ? slice.map((r) => {
        const allowed = access(state.kindName, can, user, r);
        const open = allowed.edit
          ? label("admin.edit", undefined, "a", { href: adminURL({ id: r.id }), class: "button", dataset: { edit: String(r.id) } })
          : label("admin.view_only", undefined, "span", { class: "muted" });
        const status = archivable ? [r.archived_at ? badge("admin.archived", "idle") : badge("admin.active", "ok")] : [];
        return row([...kind.columns.map((c) => cell(r, c)), ...status, open], { dataset: { id: String(r.id) } });
      })
    : [emptyRow(headers.length)];
  fill($("#list"), table(headers, body, { id: "admin-table" }));
  fill($("#shown"), label("admin.shown", { n: shown.length, total: state.rows.length }));
  fill($("#page-info"), label("admin.page", { n: state.page + 1, total: pages }));
  $("#prev").disabled = state.page === 0;
  $("#next").disabled = state.page >= pages - 1;
}

function listParams() {
  const out = {};
  if (state.archived) out.archived = "true";
  const allowed = access(state.kindName, can, currentUser());
  // A venue manager lists its own unit's venues (the hub narrows them anyway).
  if (!allowed.create && kind.limited && currentUser().unit_id) out[kind.limited.scope] = currentUser().unit_id;
  return out;
}

async function loadRows() {
  state.rows = await getAll(kind.path, listParams());
}

/** The rows of every kind this kind's selects and list refer to (once per load). */
async function loadRefs() {
  const wanted = new Set();
  for (const field of [...kind.fields, ...(kind.subs || []).flatMap((s) => s.fields)]) if (field.type === "ref") wanted.add(field.ref);
  await Promise.all(
    [...wanted].map(async (name) => {
      state.refs.set(name, name === state.kindName ? state.rows : await getAll(KINDS[name].path));
    }),
  );
}

// --- the tools: new, import, template, export --------------------------------------------------

function renderTools() {
  const allowed = access(state.kindName, can, currentUser());
  const tools = [];
  if (allowed.create) tools.push(label("admin.new", undefined, "a", { class: "button primary", id: "new", href: adminURL({ new: "1" }) }));
  if (allowed.importing) {
    const picker = h("input", { type: "file", id: "import-file", accept: ".csv,.xlsx,text/csv," + XLSX, class: "visually-hidden", "aria-label": t("admin.import"), dataset: { i18nAttr: "aria-label:admin.import" }, on: { change: (e) => importFile(e.target) } });
    tools.push(
      picker,
      label("admin.import", undefined, "button", { type: "button", class: "button", id: "import", on: { click: () => picker.click() } }),
      label("admin.template", undefined, "a", { class: "button", id: "template", href: `/api/v1/imports/${enc(filesOf(state.kindName))}/template?format=xlsx`, download: "" }),
    );
  }
  if (!kind.noImport) tools.push(label("admin.export", undefined, "a", { class: "button", id: "export", href: `/api/v1/exports/${enc(filesOf(state.kindName))}?format=xlsx`, download: "" }));
  fill($("#admin-tools"), ...tools);
}

async function importFile(picker) {
  const file = picker.files && picker.files[0];
  if (!file) return;
  const xlsx = /\.xlsx$/i.test(file.name) || file.type === XLSX;
  const box = $("#import-report");
  box.hidden = false;
  fill(box, label("admin.import_sending", { name: file.name }, "p", { class: "muted" }));
  const answer = await send("POST", `/api/v1/imports/${enc(filesOf(state.kindName))}?format=${xlsx ? "xlsx" : "csv"}`, file, xlsx ? XLSX : "text/csv");
  picker.value = "";
  const report = answer.data || {};
  if (answer.ok) {
    fill(box, h("h2", {}, label("admin.import_done")), label("admin.import_counts", { rows: report.rows ?? 0, created: report.created ?? 0, updated: report.updated ?? 0 }, "p", { id: "import-counts" }));
    await loadRows();
    renderList();
    return;
  }
  if (Array.isArray(report.errors) && report.errors.length) {
    fill(
      box,
      h("h2", {}, label("admin.import_refused")),
      label("admin.import_none_taken", undefined, "p", { class: "muted" }),
      h("div", { class: "table-wrap" }, table(["admin.import_line", "admin.import_column", "admin.import_reason"], report.errors.map((e) => row([value(e.line), e.column ? value(e.column) : label("common.none"), value(e.reason)])), { id: "import-errors" })),
    );
    return;
  }
  fill(box, h("h2", {}, label("admin.import_refused")), h("p", { class: "form-error", id: "import-error" }, label("admin.refused", { status: answer.status }), value(answer.message)));
}

// --- the form ---------------------------------------------------------------------------------

function topError(root, result) {
  const box = root.querySelector(".form-error");
  if (!result) {
    fill(box);
    box.hidden = true;
    return;
  }
  box.hidden = false;
  fill(box, label(result.key || "admin.refused", { status: result.status ?? "" }), result.message ? value(result.message, "code") : null);
}

/**
 * Put each refusal beside its field: ["name"] beside #f-name, [sub, i, field] beside that row's
 * input. Whatever names no input is shown at the top.
 */
function showRefusal(root, answer, tables = {}) {
  const unplaced = [];
  for (const { loc, msg } of answer.fields) {
    const [name, place, field] = loc;
    let id = null;
    if (tables[""] && loc.length === 1) id = tables[""].inputId(0, name); // a one-row sub-form
    else if (loc.length === 1) id = `f-${name}`;
    else if (tables[""] && typeof name === "number") id = tables[""].inputId(name, place); // a list as the body
    else if (tables[name] && typeof place === "number") id = tables[name].inputId(place, field);
    if (!id || !showError(root, id, { text: msg })) unplaced.push(`${loc.join(".")}: ${msg}`);
  }
  const message = [answer.message, ...unplaced].filter(Boolean).join("; ");
  if (message || !answer.fields.length) topError(root, { status: answer.status, message });
  else topError(root, null);
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The value a row holds for a field, as the form would send it (times as HH:MM:SS). */
function held(field, rowData) {
  const raw = rowData[field.name];
  if (field.type === "time" && typeof raw === "string" && raw.length === 5) return `${raw}:00`;
  return raw;
}

function formShell(titleKey, args, ...content) {
  const panel = $("#form-panel");
  panel.hidden = false;
  fill(panel, h("h2", {}, label(titleKey, args)), h("div", { class: "form-error", role: "alert", hidden: true }), ...content);
  return panel;
}

async function renderForm(rowData) {
  const user = currentUser();
  const allowed = access(state.kindName, can, user, rowData);
  const creating = !rowData;
  if (!creating && !allowed.edit) {
    $("#form-panel").hidden = true;
    say("admin.not_yours");
    return;
  }
  const editable = (field) => (creating ? allowed.create : !field.createOnly && (allowed.fields === null || allowed.fields.has(field.name)));
  const bodySubs = (kind.subs || []).filter((s) => s.mode === "body");
  const tables = {};
  const form = h(
    "form",
    { id: "admin-form", class: "admin-form", novalidate: true },
    h("div", { class: "form-grid" }, kind.fields.map((field) => fieldBox(field, { refs: state.refs, disabled: !editable(field) }))),
    bodySubs.map((sub) => {
      tables[sub.name] = rowTable(sub.name, sub.fields, { refs: state.refs, initial: (rowData && rowData[sub.name]) || [], disabled: !(allowed.subs === null) });
      return h("fieldset", { class: "sub-form", id: `sub-${sub.name}` }, label(`admin.sub.${sub.name}`, undefined, "legend"), tables[sub.name].element);
    }),
    h(
      "div",
      { class: "form-actions" },
      label(creating ? "admin.create" : "admin.save", undefined, "button", { type: "submit", class: "button primary", id: "save" }),
      label("admin.cancel", undefined, "a", { class: "button", href: adminURL() }),
      !creating && allowed.archive && !rowData.archived_at ? label("admin.archive", undefined, "button", { type: "button", class: "button", id: "archive", on: { click: () => archive("archive") } }) : null,
      !creating && allowed.archive && rowData.archived_at ? label("admin.restore", undefined, "button", { type: "button", class: "button", id: "restore", on: { click: () => archive("restore") } }) : null,
      !creating && kind.site && can("sites.write") ? label("admin.provision", undefined, "a", { class: "button", id: "provision", href: `/admin?kind=sites&for=${enc(rowData.id)}` }) : null,
    ),
  );
  const panel = formShell(creating ? "admin.new_title" : "admin.edit_title", undefined, form);
  const head = panel.querySelector("h2");
  head.classList.add("form-head");
  head.append(label(`admin.kind.${state.kindName}`, undefined, "span", { class: "sub" }));
  if (!creating) head.append(value(rowData.code || rowData.id, "span", { class: "sub", id: "editing" }));
  setValues(form, kind.fields, rowData);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    topError(panel, null);
    const fields = kind.fields.filter(editable);
    const ok = check(form, fields) && Object.values(tables).every((t) => t.check());
    if (!ok) return topError(panel, { key: "admin.fix_fields" });
    const body = {};
    for (const field of fields) {
      const v = readValue(field, form.querySelector(`#f-${CSS.escape(field.name)}`), state.refs);
      if (creating ? v !== null : !same(v, held(field, rowData))) body[field.name] = v;
    }
    for (const sub of bodySubs) {
      const rows = tables[sub.name].values();
      if (creating ? rows.length : !same(rows, (rowData[sub.name] || []).map((r) => Object.fromEntries(sub.fields.map((f) => [f.name, r[f.name]]))))) body[sub.name] = rows;
    }
    if (!creating && !Object.keys(body).length) return topError(panel, { key: "admin.no_changes" });
    const answer = await send(creating ? "POST" : "PATCH", creating ? kind.path : rowPath(rowData.id), body);
    if (!answer.ok) return showRefusal(panel, answer, tables);
    const id = (answer.data && answer.data.id) ?? rowData.id;
    location.assign(adminURL({ id, saved: "1" }));
  });
  if (!creating) await renderSubPanels(rowData, allowed);
}

async function archive(action) {
  const panel = $("#form-panel");
  const answer = await send("POST", `${rowPath(state.id)}/${action}`);
  if (!answer.ok) return showRefusal(panel, answer);
  location.assign(adminURL({ id: state.id, saved: "1" }));
}

// --- sub-forms saved on their own: chairs, team members, weekday hours, closures ---------------

async function subRows(rowData, sub) {
  if (Array.isArray(rowData[sub.name])) return rowData[sub.name];
  // Not in the row's detail: the sub-collection's own route, if the hub has one.
  const response = await fetch(`${rowPath(rowData.id)}/${sub.name}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return [];
  const data = await response.json();
  return Array.isArray(data) ? data : data.data || data[sub.name] || [];
}

async function renderSubPanels(rowData, allowed) {
  const subs = (kind.subs || []).filter((s) => s.mode !== "body" && (allowed.subs === null || allowed.subs.has(s.name)));
  const holder = $("#sub-panels");
  fill(holder);
  for (const sub of subs) {
    const initial = await subRows(rowData, sub);
    holder.append(sub.mode === "items" ? itemsPanel(rowData, sub, initial) : listPanel(rowData, sub, initial));
  }
}

/** Rows saved all at once (PUT): chairs, members, the seven weekdays. */
function listPanel(rowData, sub, initial) {
  const fixed = sub.mode === "weekdays" ? [0, 1, 2, 3, 4, 5, 6] : null;
  const rows = rowTable(sub.name, sub.fields, { refs: state.refs, initial, fixed });
  const panel = h(
    "section",
    { class: "panel sub-panel", id: `sub-${sub.name}` },
    h("h2", {}, label(`admin.sub.${sub.name}`)),
    h("div", { class: "form-error", role: "alert", hidden: true }),
    rows.element,
    h("div", { class: "form-actions" }, label("admin.save", undefined, "button", { type: "button", class: "button primary", id: `${sub.name}-save`, on: { click: () => save() } }), h("span", { class: "muted saved", id: `${sub.name}-saved` })),
  );
  async function save() {
    clearErrors(panel);
    topError(panel, null);
    fill(panel.querySelector(".saved"));
    if (!rows.check()) return topError(panel, { key: "admin.fix_fields" });
    const values = rows.values();
    const wrap = sub.wrap;
    // {member_ids: [...]} for a team's members; the rows themselves for the weekdays
    const body = wrap ? { [wrap.key]: values.map((v) => v[wrap.field]) } : values;
    const named = wrap ? { [wrap.key]: { inputId: (place) => rows.inputId(place, wrap.field) } } : { [sub.name]: rows, "": rows };
    const answer = await send("PUT", `${rowPath(rowData.id)}/${sub.name}`, body);
    if (!answer.ok) return showRefusal(panel, answer, named);
    fill(panel.querySelector(".saved"), label("admin.saved"));
  }
  return panel;
}

/** Rows added and removed one at a time: a venue's closures. */
function itemsPanel(rowData, sub, initial) {
  const adding = rowTable(`${sub.name}-new`, sub.fields, { refs: state.refs, initial: [null], fixed: null });
  const path = `${rowPath(rowData.id)}/${sub.name}`;
  const listed = initial.length
    ? initial.map((item) =>
        row([...sub.fields.map((f) => shown(f, item[f.name])), label("admin.remove_row", undefined, "button", { type: "button", class: "button", dataset: { remove: String(item.id) }, on: { click: () => remove(item.id) } })]),
      )
    : [emptyRow(sub.fields.length + 1)];
  const panel = h(
    "section",
    { class: "panel sub-panel", id: `sub-${sub.name}` },
    h("h2", {}, label(`admin.sub.${sub.name}`)),
    h("div", { class: "form-error", role: "alert", hidden: true }),
    h("div", { class: "table-wrap" }, table([...sub.fields.map((f) => `admin.field.${f.name}`), "admin.actions"], listed, { id: `${sub.name}-list` })),
    adding.element,
    h("div", { class: "form-actions" }, label("admin.add", undefined, "button", { type: "button", class: "button primary", id: `${sub.name}-save`, on: { click: () => add() } })),
  );
  // one new row at a time: the table's own add and remove buttons are not needed
  for (const el of adding.element.querySelectorAll(`#${CSS.escape(sub.name)}-new-add, [data-i18n="admin.remove_row"]`)) el.remove();
  for (const th of adding.element.querySelectorAll('th[data-i18n="admin.actions"]')) th.remove();
  async function add() {
    clearErrors(panel);
    topError(panel, null);
    if (!adding.check()) return topError(panel, { key: "admin.fix_fields" });
    const answer = await send("POST", path, adding.values()[0]);
    if (!answer.ok) return showRefusal(panel, answer, { "": adding });
    location.assign(adminURL({ id: rowData.id, saved: "1" }));
  }
  async function remove(id) {
    const answer = await send("DELETE", `${path}/${enc(id)}`);
    if (!answer.ok) return showRefusal(panel, answer);
    location.assign(adminURL({ id: rowData.id, saved: "1" }));
  }
  return panel;
}

// --- loading ----------------------------------------------------------------------------------

let drawn = false;

async function load() {
  if (!kind) return renderIndex();
  fill($("#admin-title"), label(`admin.kind.${state.kindName}`));
  fill($("#admin-lead"), label(`admin.lead.${state.kindName}`));
  const allowed = access(state.kindName, can, currentUser());
  if (!allowed.list) {
    say("auth.forbidden");
    return;
  }
  if (drawn) return; // a form being filled in is not redrawn under the user's hands
  drawn = true;
  renderTools();
  $("#list-panel").hidden = false;
  await loadRows();
  await loadRefs();
  renderList();
  if (state.kindName === "sites") {
    if (state.creating || state.id) await sitePanels({ id: state.id, forId: params.get("for"), adminURL, showRefusal, topError, formShell });
  } else if (state.creating) await renderForm(null);
  else if (state.id) {
    const rowData = await getJSON(rowPath(state.id));
    await renderForm(rowData);
  }
  if (params.get("saved") === "1") {
    const panel = document.getElementById("form-panel");
    if (panel && !panel.hidden) panel.querySelector("h2").append(label("admin.saved", undefined, "span", { class: "badge badge-ok", id: "saved" }));
  }
}

$("#search").addEventListener("input", (event) => {
  state.search = event.target.value;
  state.page = 0;
  renderList();
});
$("#archived").addEventListener("change", async (event) => {
  state.archived = event.target.checked;
  await loadRows();
  renderList();
});
$("#prev").addEventListener("click", () => {
  state.page -= 1;
  renderList();
});
$("#next").addEventListener("click", () => {
  state.page += 1;
  renderList();
});

startPage({ page: "admin", load });
