// Provisioning a site from the admin pages (/admin?kind=sites&for=venue-07): its kind, its
// devices (id, kind, port, options as on `community site add --device`), sent as
// POST /api/v1/sites; the answer's edge bundle is offered for download once (the hub keeps no
// copy of the password in it). An existing site (&id=…): its devices added and removed one at a
// time, and the site revoked.

import { getAll, getJSON } from "/js/api.js";
import { emptyRow, fill, h, label, row, table, value } from "/js/dom.js";
import { DEVICE_KINDS, DEVICE_REQUIRED, KINDS } from "/js/admin/kinds.js";
import { check, clearErrors, fieldBox, readValue, setValues, showError } from "/js/admin/form.js";
import { rowTable } from "/js/admin/rows.js";
import { send } from "/js/admin/send.js";

const enc = encodeURIComponent;
export const DEVICE_FIELDS = [
  { name: "id", type: "text", required: true, maxLength: 63, pattern: "[a-z0-9][a-z0-9_\\-]*" },
  { name: "kind", type: "select", required: true, options: { key: "device_kind", values: DEVICE_KINDS } },
  { name: "port", type: "text", required: true, maxLength: 255 },
  { name: "options", type: "text", maxLength: 1000 },
];

/** "unit_id=1, bays=40" → {unit_id: 1, bays: 40}; null when a part is not KEY=VALUE. */
export function parseOptions(text) {
  const out = {};
  for (const part of (text || "").split(",")) {
    if (!part.trim()) continue;
    const [key, ...rest] = part.split("=");
    if (!rest.length || !/^[a-z_]+$/.test(key.trim()) || !rest.join("=").trim()) return null;
    const raw = rest.join("=").trim();
    out[key.trim()] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return out;
}

/** The devices of a row table as the API takes them; shows each problem beside its input. */
function devices(panel, rows) {
  let ok = true;
  const out = rows.values().map((device, place) => {
    const options = parseOptions(device.options);
    const id = rows.inputId(place, "options");
    if (options === null) {
      ok = false;
      showError(panel, id, { key: "admin.device_options_format" });
      return null;
    }
    const missing = (DEVICE_REQUIRED[device.kind] || []).filter((key) => !(key in options));
    if (missing.length) {
      ok = false;
      showError(panel, id, { key: "admin.device_options_missing", args: { names: missing.join(", ") } });
    }
    return { id: device.id, kind: device.kind, port: device.port, options };
  });
  return ok ? out : null;
}

function download(id, filename, content, key) {
  const href = URL.createObjectURL(new Blob([content], { type: "application/octet-stream" }));
  return h("a", { class: "button primary", id, href, download: filename }, label(key), value(filename));
}

/** The bundle of an answer ({filename, content, ca_certificate}), offered once as a download. */
function bundleBox(bundle) {
  return h(
    "div",
    { class: "bundle", id: "bundle" },
    label("admin.bundle_once", undefined, "p", { class: "notice", role: "alert" }),
    h(
      "div",
      { class: "form-actions" },
      download("bundle-download", bundle.filename || "edge.toml", bundle.content, "admin.bundle_download"),
      bundle.ca_certificate ? download("bundle-ca", "ca.crt", bundle.ca_certificate, "admin.bundle_ca") : null,
    ),
  );
}

async function siteKindOf(id) {
  if (!id) return "";
  const [venues, centres] = await Promise.all([getAll(KINDS["venue-registry"].path), getAll(KINDS["service-centres"].path)]);
  if (venues.some((v) => v.id === id)) return "venue";
  if (centres.some((c) => c.id === id)) return "centre";
  return "";
}

export async function sitePanels(page) {
  return page.id ? existingSite(page) : newSite(page);
}

async function newSite({ forId, adminURL, showRefusal, topError, formShell }) {
  const kind = KINDS.sites;
  const rows = rowTable("devices", DEVICE_FIELDS, { initial: [null] });
  const form = h(
    "form",
    { id: "admin-form", class: "admin-form", novalidate: true },
    h("div", { class: "form-grid" }, kind.fields.map((field) => fieldBox(field))),
    h("fieldset", { class: "sub-form", id: "sub-devices" }, label("admin.sub.devices", undefined, "legend"), label("admin.device_options_hint", undefined, "p", { class: "muted" }), rows.element),
    h("div", { class: "form-actions" }, label("admin.provision_submit", undefined, "button", { type: "submit", class: "button primary", id: "save" }), label("admin.cancel", undefined, "a", { class: "button", href: adminURL() })),
  );
  const panel = formShell("admin.site_new_title", undefined, form);
  setValues(form, kind.fields, { site_id: forId || "", kind: await siteKindOf(forId) });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(panel);
    topError(panel, null);
    const fieldsOk = check(form, kind.fields) && rows.check();
    const list = fieldsOk ? devices(panel, rows) : null;
    if (!list) return topError(panel, { key: "admin.fix_fields" });
    const body = { devices: list };
    for (const field of kind.fields) body[field.name] = readValue(field, form.querySelector(`#f-${field.name}`));
    const answer = await send("POST", kind.path, body);
    if (!answer.ok) return showRefusal(panel, answer, { devices: rows });
    fill(
      panel,
      h("h2", {}, label("admin.site_provisioned"), value(answer.data.site_id, "span", { class: "sub", id: "provisioned" })),
      // the hub's word on the ports, e.g. one not under /dev/serial/by-id/ (docs/sites.md)
      (answer.data.warnings || []).map((warning) => value(warning, "p", { class: "muted warning" })),
      answer.data.bundle ? bundleBox(answer.data.bundle) : null,
      h("div", { class: "form-actions" }, label("admin.site_open", undefined, "a", { class: "button", href: `/site?id=${enc(body.site_id)}` }), label("admin.site_manage", undefined, "a", { class: "button", href: adminURL({ id: body.site_id }) })),
    );
  });
}

async function existingSite({ id, adminURL, showRefusal, topError, formShell }) {
  const path = `${KINDS.sites.path}/${enc(id)}`;
  const site = await getJSON(path);
  const adding = rowTable("device-new", DEVICE_FIELDS, { initial: [null] });
  for (const el of adding.element.querySelectorAll('#device-new-add, [data-i18n="admin.remove_row"], th[data-i18n="admin.actions"]')) el.remove();
  const listed = h("div", { class: "table-wrap", id: "devices-holder" });
  const revoked = site.account && site.account.state === "revoked";
  const panel = formShell(
    "admin.site_title",
    undefined,
    h("p", {}, value(site.id, "strong", { id: "editing" }), site.kind ? label(`admin.option.site_kind.${site.kind}`, undefined, "span", { class: "muted" }) : null, revoked ? label("admin.site_revoked", undefined, "span", { class: "badge badge-bad" }) : null),
    listed,
    h("fieldset", { class: "sub-form" }, label("admin.device_add", undefined, "legend"), label("admin.device_options_hint", undefined, "p", { class: "muted" }), adding.element),
    h(
      "div",
      { class: "form-actions" },
      label("admin.device_add", undefined, "button", { type: "button", class: "button primary", id: "device-save", on: { click: () => addDevice() } }),
      label("admin.site_new_bundle", undefined, "button", { type: "button", class: "button", id: "new-bundle", on: { click: () => newBundle() } }),
      revoked ? null : label("admin.site_revoke", undefined, "button", { type: "button", class: "button", id: "revoke", on: { click: () => revoke() } }),
      label("admin.site_open", undefined, "a", { class: "button", href: `/site?id=${enc(id)}` }),
    ),
    h("div", { id: "bundle-holder" }),
  );

  /** Devices as the edge reports them (first), or as the hub has them registered (after a change). */
  function showDevices(devices) {
    fill(
      listed,
      table(
        ["admin.field.id", "admin.field.kind", "admin.field.port", "admin.actions"],
        devices.length
          ? devices.map((d) => row([value(d.id), label(`admin.option.device_kind.${d.kind}`), d.port ? value(d.port) : label("common.none"), label("admin.remove_row", undefined, "button", { type: "button", class: "button", dataset: { remove: d.id }, on: { click: () => removeDevice(d.id) } })]))
          : [emptyRow(4)],
        { id: "devices-list" },
      ),
    );
  }
  showDevices(site.devices || []);

  async function write(method, url, body, tables) {
    clearErrors(panel);
    topError(panel, null);
    const answer = await send(method, url, body);
    if (!answer.ok) {
      showRefusal(panel, answer, tables);
      return null;
    }
    if (answer.data && Array.isArray(answer.data.devices)) showDevices(answer.data.devices);
    return answer.data;
  }
  async function addDevice() {
    clearErrors(panel);
    const list = adding.check() ? devices(panel, adding) : null;
    if (!list) return topError(panel, { key: "admin.fix_fields" });
    if (await write("POST", `${path}/devices`, list[0], { "": adding })) {
      adding.clear();
      adding.add(null);
    }
  }
  async function removeDevice(deviceId) {
    await write("DELETE", `${path}/devices/${enc(deviceId)}`);
  }
  async function newBundle() {
    const data = await write("POST", `${path}/bundle`);
    if (data && data.bundle) fill(panel.querySelector("#bundle-holder"), bundleBox(data.bundle));
  }
  async function revoke() {
    if (await write("POST", `${path}/revoke`)) location.assign(adminURL({ id, saved: "1" }));
  }
}
