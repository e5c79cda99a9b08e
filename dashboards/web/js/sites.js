// The hub's view of a site as both operations pages show it: its state and problems as badges,
// in the same words and colours (the rule is the hub's: hub/sites/view.py).

import { badge, h } from "/js/dom.js";

export const SITE_STATES = ["online", "offline", "never_seen", "revoked"];
export const PROBLEMS = ["offline", "commands_failed", "outbox", "degraded", "unregistered"];
export const KINDS = ["centre", "venue"];
const STATE_TONES = { online: "ok", offline: "bad", never_seen: "idle", revoked: "idle" };
const PROBLEM_TONES = { offline: "bad", commands_failed: "bad", outbox: "warn", degraded: "warn", unregistered: "idle" };
export const DEVICE_TONES = { ok: "ok", degraded: "warn", disconnected: "bad", unknown: "idle" };
export const COMMAND_TONES = { queued: "idle", sent: "warn", done: "ok", failed: "bad", expired: "bad" };

export function stateBadge(state) {
  return badge(`site.state.${state}`, STATE_TONES[state] || "idle");
}

export function problemBadges(problems) {
  return h("span", { class: "badges" }, problems.map((p) => badge(`site.problem.${p}`, PROBLEM_TONES[p] || "warn")));
}

/** The page of one site. */
export function siteURL(id) {
  return `/site?id=${encodeURIComponent(id)}`;
}
