// Lists of rows inside a form: an alliance's chairs, an agreement's menu, a team's members, a
// venue's weekday hours and closures, a site's devices. Each row's inputs are made from the
// same field descriptions as a form's (js/admin/form.js), with ids NAME{i}-FIELD, so a refusal
// that names ["body", NAME, i, FIELD] lands beside its input.

import { fill, h, label } from "/js/dom.js";
import { t } from "/js/i18n.js";
import { check, input, readValue, setValues } from "/js/admin/form.js";

/** A row's cells: each input with its error line. */
function cells(fields, prefix, refs, disabled) {
  return fields.map((field) => {
    const control = input(field, { prefix, refs, disabled });
    // named for a screen reader by its column (apply() renames it on a language switch)
    control.setAttribute("aria-label", t(`admin.field.${field.name}`));
    control.dataset.i18nAttr = `aria-label:admin.field.${field.name}`;
    return h("td", {}, control, h("span", { class: "field-error", id: `${control.id}-error`, role: "alert" }));
  });
}

/**
 * An editable table of rows: rows.element to put in the page, rows.values() to read, rows.check()
 * to validate. ``fixed``: one row per entry of fixed (weekdays), none added or removed.
 */
export function rowTable(name, fields, { refs = new Map(), initial = [], disabled = false, fixed = null } = {}) {
  const body = h("tbody", { id: `${name}-rows` });
  let next = 0;
  const made = [];

  function add(row) {
    const i = next++;
    const prefix = `${name}${i}-`;
    const head = fixed ? [h("th", { scope: "row" }, label(`admin.weekday.${fixed[made.length]}`))] : [];
    const remove = fixed || disabled
      ? []
      : [h("td", {}, label("admin.remove_row", undefined, "button", { type: "button", class: "button", on: { click: () => drop(i) } }))];
    const tr = h("tr", { dataset: { row: String(i) } }, ...head, ...cells(fields, prefix, refs, disabled), ...remove);
    made.push({ i, tr, prefix });
    body.append(tr);
    setValues(tr, fields, row, prefix);
  }

  function drop(i) {
    const index = made.findIndex((m) => m.i === i);
    if (index < 0) return;
    made[index].tr.remove();
    made.splice(index, 1);
  }

  for (const row of fixed ? fixed.map((key) => initial.find((r) => r.weekday === key) || { weekday: key }) : initial) add(row);
  const headers = [...(fixed ? ["admin.field.weekday"] : []), ...fields.map((f) => `admin.field.${f.name}`), ...(fixed || disabled ? [] : ["admin.actions"])];
  const element = h(
    "div",
    { class: "table-wrap row-table", id: `${name}-table` },
    h("table", { class: "grid-table" }, h("thead", {}, h("tr", {}, headers.map((key) => label(key, undefined, "th", { scope: "col" })))), body),
    fixed || disabled ? null : label("admin.add_row", undefined, "button", { type: "button", class: "button", id: `${name}-add`, on: { click: () => add(null) } }),
  );

  return {
    element,
    /** Each row's values; the rows' own index in the table is their place in the list. */
    values() {
      return made.map(({ tr, prefix }, place) => {
        const out = fixed ? { weekday: fixed[place] } : {};
        for (const field of fields) out[field.name] = readValue(field, tr.querySelector(`#${CSS.escape(prefix + field.name)}`), refs);
        return out;
      });
    },
    check() {
      return made.every(({ tr, prefix }) => check(tr, fields, prefix));
    },
    /** The input id of row `place`'s field, for a refusal naming [NAME, place, FIELD]. */
    inputId(place, field) {
      const entry = made[place];
      return entry ? `${entry.prefix}${field}` : null;
    },
    clear() {
      fill(body);
      made.length = 0;
    },
    add,
  };
}
