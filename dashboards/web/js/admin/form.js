// The inputs of an admin form, made from a kind's field descriptions (js/admin/kinds.js): each
// with its label, its bounds as the browser checks them, and a place beside it for what is wrong
// with it, whether the page or the hub found it.

import { fill, h, label, value } from "/js/dom.js";

/** A field's input (id f-NAME, or with a prefix inside a sub-form's row). */
export function input(field, options = {}) {
  const { prefix = "f-", refs = new Map(), disabled = false } = options;
  const id = `${prefix}${field.name}`;
  const common = { id, name: field.name, "aria-describedby": `${id}-error`, disabled, dataset: { field: field.name, type: field.type } };
  if (field.type === "select") {
    return h(
      "select",
      { ...common, required: field.required },
      field.required ? null : label("admin.choose", undefined, "option", { value: "" }),
      field.options.values.map((v) => label(`admin.option.${field.options.key}.${v}`, undefined, "option", { value: v })),
    );
  }
  if (field.type === "ref") {
    const rows = refs.get(field.ref) || [];
    return h(
      "select",
      { ...common, required: field.required },
      label("admin.choose", undefined, "option", { value: "" }),
      rows.map((row) => value(refText(row), "option", { value: String(row.id) })),
    );
  }
  if (field.type === "bool") return h("input", { ...common, type: "checkbox" });
  const types = { int: "number", float: "number", date: "date", time: "time", text: "text" };
  return h("input", {
    ...common,
    type: types[field.type],
    required: field.required,
    min: field.min,
    max: field.max,
    step: field.type === "float" ? "any" : field.type === "int" ? "1" : undefined,
    maxlength: field.maxLength,
    pattern: field.pattern,
    autocomplete: field.secret ? "off" : undefined,
  });
}

/** How a referred row is shown in a select: its code (or id) and name. */
export function refText(row) {
  const head = row.code || row.id;
  return row.name ? `${head} ${row.name}` : String(head);
}

/** A labelled field with its input and its error line. */
export function fieldBox(field, options = {}) {
  const control = input(field, options);
  const id = control.id;
  return h(
    "div",
    { class: `field${field.type === "bool" ? " check" : ""}${field.required ? " required" : ""}`, dataset: { field: field.name } },
    h("label", { for: id }, label(`admin.field.${field.name}`)),
    control,
    h("span", { class: "field-error", id: `${id}-error`, role: "alert" }),
  );
}

/** Put a row's values into the inputs of a form (or a sub-form's row). */
export function setValues(root, fields, row, prefix = "f-") {
  for (const field of fields) {
    const el = root.querySelector(`#${CSS.escape(prefix + field.name)}`);
    if (!el) continue;
    const raw = row ? row[field.name] : undefined;
    if (field.type === "bool") el.checked = raw === undefined ? field.name === "in_service" : Boolean(raw);
    else if (field.type === "time") el.value = raw ? String(raw).slice(0, 5) : "";
    else el.value = raw === null || raw === undefined ? "" : String(raw);
  }
}

/** The value of one input as the API takes it (null: empty). */
export function readValue(field, el, refs = new Map()) {
  if (field.type === "bool") return el.checked;
  const text = el.value.trim();
  if (text === "") return null;
  if (field.type === "int" || field.type === "float") return Number(text);
  if (field.type === "time") return text.length === 5 ? `${text}:00` : text;
  if (field.type === "ref") {
    const row = (refs.get(field.ref) || []).find((r) => String(r.id) === text);
    return row && typeof row.id === "number" ? row.id : /^\d+$/.test(text) && !row ? Number(text) : text;
  }
  return text;
}

/** What the browser finds wrong with an input, as a catalogue message: [key, args] or null. */
export function problem(field, el) {
  const v = el.validity;
  if (!v || v.valid) return null;
  if (v.valueMissing) return ["admin.invalid.required"];
  if (v.rangeUnderflow || v.rangeOverflow) return ["admin.invalid.range", { min: field.min ?? "", max: field.max ?? "" }];
  if (v.tooLong) return ["admin.invalid.too_long", { n: field.maxLength }];
  if (v.patternMismatch) return ["admin.invalid.pattern"];
  if (v.stepMismatch || v.badInput) return ["admin.invalid.number"];
  return ["admin.invalid.value"];
}

/** Show a message beside the input id (a catalogue key, or the hub's own words). */
export function showError(root, id, message) {
  const box = root.querySelector(`#${CSS.escape(id)}-error`);
  if (!box) return false;
  if (!message) fill(box);
  else if (message.key) fill(box, label(message.key, message.args));
  else fill(box, value(message.text));
  const control = root.querySelector(`#${CSS.escape(id)}`);
  if (control) control.setAttribute("aria-invalid", message ? "true" : "false");
  return true;
}

export function clearErrors(root) {
  for (const box of root.querySelectorAll(".field-error")) fill(box);
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Check every input of fields in root; show each problem beside its field. True when none. */
export function check(root, fields, prefix = "f-") {
  let ok = true;
  for (const field of fields) {
    const el = root.querySelector(`#${CSS.escape(prefix + field.name)}`);
    if (!el || el.disabled) continue;
    const found = problem(field, el);
    if (found) {
      ok = false;
      showError(root, el.id, { key: found[0], args: found[1] });
    }
  }
  return ok;
}
