// Calls to the hub's API, with the session cookie. Errors carry the status so pages can say what
// failed; a 401 (the session ended) goes back to the login page.

import { toLogin } from "/js/auth.js";

export class ApiError extends Error {
  constructor(path, status, detail) {
    super(`${path}: HTTP ${status}${detail ? ` ${detail}` : ""}`);
    this.status = status;
    this.path = path;
  }
}

function url(path, params) {
  const query = new URLSearchParams();
  for (const [key, val] of Object.entries(params || {})) {
    if (val !== undefined && val !== null && val !== "") query.set(key, val);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export async function getJSON(path, params) {
  const target = url(path, params);
  const response = await fetch(target, { headers: { Accept: "application/json" } });
  if (response.status === 401) return toLogin();
  if (!response.ok) {
    let detail = "";
    try {
      detail = JSON.stringify((await response.json()).detail);
    } catch {
      // not JSON
    }
    throw new ApiError(target, response.status, detail);
  }
  return response.json();
}

export async function getText(path, params) {
  const target = url(path, params);
  const response = await fetch(target);
  if (response.status === 401) return toLogin();
  if (!response.ok) throw new ApiError(target, response.status);
  return response.text();
}

/** Every row of a paged list ({data, count}), up to max rows. */
export async function getAll(path, params = {}, max = 5000) {
  const limit = Math.min(1000, max);
  const rows = [];
  for (let offset = 0; offset < max; offset += limit) {
    const page = await getJSON(path, { ...params, offset, limit });
    rows.push(...page.data);
    if (rows.length >= page.count || page.data.length < limit) break;
  }
  return rows;
}

export function exportURL(path, params) {
  return url(path, params);
}

/** Prometheus text exposition → {name: [{labels, value}]}. */
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[3] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    (out[match[1]] ||= []).push({ labels, value: Number(match[4]) });
  }
  return out;
}

export function metricSum(metrics, name) {
  return (metrics[name] || []).reduce((sum, sample) => sum + sample.value, 0);
}
