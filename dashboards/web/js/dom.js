// Small DOM helpers. Text only ever enters the page through label() (a catalogue message),
// fmt() (a number or time formatted for the language) or value() (data from the records), so
// that a language switch can rewrite every label and no literal slips in.

import { format, t } from "/js/i18n.js";

/** h("div", {class: "x", dataset: {a: 1}, on: {click: fn}}, child, ...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, val] of Object.entries(props)) {
    if (val === undefined || val === null || val === false) continue;
    if (key === "class") el.className = val;
    else if (key === "dataset") Object.assign(el.dataset, val);
    else if (key === "on") for (const [event, fn] of Object.entries(val)) el.addEventListener(event, fn);
    else if (key === "style") Object.assign(el.style, val);
    else el.setAttribute(key, val === true ? "" : val);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    if (typeof child === "string" || typeof child === "number") {
      throw new Error("dom: text must come through label(), fmt() or value()");
    }
    el.append(child);
  }
}

/** A catalogue message. */
export function label(key, args, tag = "span", props = {}) {
  const el = h(tag, props);
  el.dataset.i18n = key;
  if (args) el.dataset.i18nArgs = JSON.stringify(args);
  el.textContent = t(key, args);
  return el;
}

/** A number or time, formatted for the current language (kinds: see i18n.format). */
export function fmt(kind, raw, tag = "span", props = {}) {
  const el = h(tag, props);
  el.dataset.fmt = kind;
  el.dataset.raw = raw === null || raw === undefined ? "" : String(raw);
  el.textContent = format(kind, el.dataset.raw);
  if (kind === "relative" && raw) el.title = format("datetime", raw);
  return el;
}

/** A piece of data from the records (a name, an id), shown as it is. */
export function value(text, tag = "span", props = {}) {
  const el = h(tag, props);
  el.dataset.value = "";
  el.textContent = text === null || text === undefined ? "" : String(text);
  return el;
}

/** Replace the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`dom: no element ${selector}`);
  return el;
}

/** A table with translated headers; rows are arrays of cells (elements). */
export function table(headerKeys, rows, props = {}) {
  return h(
    "table",
    { class: "grid-table", ...props },
    h("thead", {}, h("tr", {}, headerKeys.map((key) => label(key, undefined, "th", { scope: "col" })))),
    h("tbody", {}, rows),
  );
}

export function row(cells, props = {}) {
  return h("tr", props, cells.map((cell) => (cell instanceof Element && cell.tagName === "TD" ? cell : h("td", {}, cell))));
}

/** An "empty" row spanning the table. */
export function emptyRow(span, key = "common.empty") {
  return h("tr", { class: "empty" }, h("td", { colspan: span }, label(key)));
}

/** A status badge: a translated word on a coloured pill. */
export function badge(key, tone) {
  return label(key, undefined, "span", { class: `badge badge-${tone}` });
}

/** Call fn at most once per wait ms, trailing. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
