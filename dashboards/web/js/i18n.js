// Message catalogues, the language switch and city-time formatting.
//
// Every label on a page is an element with data-i18n="key" (optionally data-i18n-args='{"n":3}');
// attributes use data-i18n-attr="title:key;aria-label:key2". Values that depend on the language
// (numbers, times) are elements with data-fmt="kind" and data-raw="value". apply() rewrites them
// all, so switching language needs no reload. Data from the records (names, ids) is marked
// data-value and left as it is.

export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";
export const TIME_ZONE = "Asia/Shanghai"; // the city's; no daylight saving, always UTC+8
const STORAGE_KEY = "yp.lang";

let language = DEFAULT_LANGUAGE;
let catalogue = {};
const listeners = new Set();
const cache = new Map();

function stored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(value) ? value : DEFAULT_LANGUAGE;
  } catch {
    return DEFAULT_LANGUAGE;
  }
}

async function load(lang) {
  if (!cache.has(lang)) {
    const response = await fetch(`/i18n/${lang}.json`);
    if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
    cache.set(lang, await response.json());
  }
  return cache.get(lang);
}

export function currentLanguage() {
  return language;
}

/** Load the remembered language (zh-CN unless the user chose English). */
export async function initI18n() {
  language = stored();
  catalogue = await load(language);
  document.documentElement.lang = language;
}

/** Switch language, remember it, and rewrite every label and value on the page. */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${lang}`);
  catalogue = await load(lang);
  language = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = lang;
  apply(document);
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** The message for key in the current language, with {name} placeholders filled in. */
export function t(key, args) {
  const message = catalogue[key];
  if (message === undefined) {
    console.error(`i18n: no message for "${key}" in ${language}`);
    return key;
  }
  if (!args) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in args)) return whole;
    const value = args[name];
    return typeof value === "number" ? formatNumber(value) : String(value);
  });
}

/** Rewrite labels, translated attributes and formatted values under root. */
export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
    el.textContent = t(el.dataset.i18n, args);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  for (const el of root.querySelectorAll("[data-fmt]")) {
    el.textContent = format(el.dataset.fmt, el.dataset.raw);
  }
}

// --- formatting, always in the city's time zone ------------------------------------------------

const formatters = new Map();

function formatter(kind) {
  const key = `${language}|${kind}`;
  if (!formatters.has(key)) {
    const zone = { timeZone: TIME_ZONE };
    const make = {
      int: () => new Intl.NumberFormat(language, { maximumFractionDigits: 0 }),
      dec: () => new Intl.NumberFormat(language, { maximumFractionDigits: 1 }),
      pct: () => new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 }),
      datetime: () =>
        new Intl.DateTimeFormat(language, {
          ...zone,
          year: "numeric",
          month: "2-digit",
          day: "2-digit",
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
          hourCycle: "h23",
        }),
      date: () => new Intl.DateTimeFormat(language, { ...zone, dateStyle: "medium" }),
      time: () => new Intl.DateTimeFormat(language, { ...zone, timeStyle: "medium", hourCycle: "h23" }),
      hm: () =>
        new Intl.DateTimeFormat(language, { ...zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
      month: () => new Intl.DateTimeFormat(language, { ...zone, year: "numeric", month: "long" }),
      weekday: () => new Intl.DateTimeFormat(language, { ...zone, weekday: "short", month: "numeric", day: "numeric" }),
      relative: () => new Intl.RelativeTimeFormat(language, { numeric: "auto", style: "short" }),
    }[kind];
    if (!make) throw new Error(`unknown format ${kind}`);
    formatters.set(key, make());
  }
  return formatters.get(key);
}

export function formatNumber(n, kind = "int") {
  return formatter(kind).format(n);
}

/** kind: int, dec, pct, datetime, date, time, hm, month, weekday, relative, bytes. */
export function format(kind, raw) {
  if (raw === undefined || raw === null || raw === "") return t("common.none");
  if (kind === "int" || kind === "dec" || kind === "pct") return formatter(kind).format(Number(raw));
  if (kind === "bytes") return t("common.bytes", { n: Number(raw) });
  if (kind === "month") {
    // "2026-11": the month as the city names it (the 15th at noon is inside it in any zone)
    return formatter("month").format(new Date(`${raw}-15T12:00:00+08:00`));
  }
  const when = new Date(raw);
  if (Number.isNaN(when.getTime())) return String(raw);
  if (kind === "relative") return relative(when);
  return formatter(kind).format(when);
}

function relative(when) {
  const seconds = Math.round((when.getTime() - Date.now()) / 1000);
  const f = formatter("relative");
  const abs = Math.abs(seconds);
  if (abs < 60) return f.format(seconds, "second");
  if (abs < 3600) return f.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return f.format(Math.round(seconds / 3600), "hour");
  return f.format(Math.round(seconds / 86400), "day");
}

/** Calendar parts of an instant in the city: {year, month, day, hour, minute}. */
export function cityParts(when = new Date()) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(when);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute") };
}

/** Midnight today in the city, as an ISO string with its +08:00 offset (for API filters). */
export function cityMidnight(when = new Date()) {
  const { year, month, day } = cityParts(when);
  const pad = (n) => String(n).padStart(2, "0");
  return `${year}-${pad(month)}-${pad(day)}T00:00:00+08:00`;
}

/** "YYYY-MM" of this month in the city. */
export function cityMonth(when = new Date()) {
  const { year, month } = cityParts(when);
  return `${year}-${String(month).padStart(2, "0")}`;
}
