// A resident's service request, with no login, made for a phone: the community, the place,
// the matter and, if the resident wishes, a phone or e-mail to be reached on. Nothing else is
// asked. Line breaks in the matter become spaces (the hub keeps it on one line); what the hub
// refuses is shown beside the field it names.

import { apply, initI18n, t } from "/js/i18n.js";
import { $, fill, h, label, value } from "/js/dom.js";
import { brand, languageSwitch } from "/js/shell.js";
import { refusal } from "/js/admin/send.js";

const FIELDS = { community_id: "#community", summary: "#summary", place: "#place", contact: "#contact" };

function problem(keyOrText, isKey = true) {
  const box = $("#form-problem");
  box.hidden = !keyOrText;
  if (!keyOrText) box.replaceChildren();
  else fill(box, isKey ? label(keyOrText) : value(keyOrText));
}

async function communities() {
  const response = await fetch("/public/v1/service-requests/communities", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const rows = await response.json();
  fill(
    $("#community"),
    label("public_request.choose", undefined, "option", { value: "" }),
    rows.map((c) => value(c.name, "option", { value: c.id })),
  );
}

function body() {
  const out = {
    community_id: Number($("#community").value),
    summary: $("#summary").value.replace(/\s*[\r\n]+\s*/g, " ").trim(),
  };
  const place = $("#place").value.trim();
  const contact = $("#contact").value.trim();
  if (place) out.place = place;
  if (contact) out.contact = contact;
  return out;
}

async function submit(event) {
  event.preventDefault();
  problem(null);
  for (const sel of Object.values(FIELDS)) $(sel).removeAttribute("aria-invalid");
  const sent = body();
  if (!sent.community_id) return problem("public_request.need_community");
  if (!sent.summary) return problem("public_request.need_summary");
  $("#submit").disabled = true;
  try {
    const response = await fetch("/public/v1/service-requests", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(sent),
    });
    const data = await response.json().catch(() => null);
    if (response.status === 429) return problem("public_request.too_many");
    if (!response.ok) {
      const { fields, message } = refusal(data);
      for (const f of fields) {
        const sel = FIELDS[f.loc[0]];
        if (sel) $(sel).setAttribute("aria-invalid", "true");
      }
      const text = fields.map((f) => `${t(`public_request.field.${f.loc[0]}`)}: ${f.msg}`).concat(message ? [message] : []).join("; ");
      return problem(text || `HTTP ${response.status}`, false);
    }
    $("#resident-request").hidden = true;
    $("#sent").hidden = false;
    fill($("#number"), value(`#${data.id}`));
  } catch (error) {
    problem(String(error && error.message), false);
  } finally {
    $("#submit").disabled = false;
  }
}

async function start() {
  await initI18n();
  fill($("#shell"), brand(), h("span", { class: "nav" }), h("div", { class: "tools" }, languageSwitch()));
  apply(document);
  try {
    await communities();
  } catch (error) {
    problem(String(error && error.message), false);
  }
  $("#resident-request").addEventListener("submit", submit);
  $("#submit").disabled = false;
  document.documentElement.dataset.ready = "true";
}

start();
