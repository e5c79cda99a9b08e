// What every page shares: its frame (the icon, the header with the navigation, live state,
// language switch, who is logged in and the logout button; the footer), loading the page's state
// when the stream connects (and again whenever events were lost), and the "ready" mark that tests
// and the load benchmark wait for.
//
// The frame is made here, once, rather than copied into each HTML file: a page carries only what
// must be there before any script runs (charset, viewport, its title, the stylesheet, its one
// module; ECharts' preload on the pages that draw charts) and its own <main>. Made by a script,
// not included by the server: the pages stay static files served as they are, and the strict CSP
// needs nothing inline (docs/dashboards.md).
//
// Pages and live topics the user's role may not use are left out: the hub would refuse them
// anyway (docs/security.md), this only keeps the page from asking.

import { apply, currentLanguage, format, initI18n, onLanguageChange, setLanguage } from "/js/i18n.js";
import { can, checkSession, currentUser, loadMe, logOut } from "/js/auth.js";
import { fill, h, label, value } from "/js/dom.js";
import { LiveStream } from "/js/live.js";

export const PAGES = [
  { id: "home", path: "/", key: "nav.home" },
  { id: "venues", path: "/venues", key: "nav.venues" },
  { id: "checkins", path: "/checkins", key: "nav.checkins" },
  { id: "operations", path: "/operations", key: "nav.operations" },
  { id: "records", path: "/records", key: "nav.records" },
  { id: "requests", path: "/requests", key: "nav.requests" },
  { id: "admin", path: "/admin", key: "nav.admin" },
  { id: "audit", path: "/audit", key: "nav.audit" },
  { id: "notifications", path: "/notifications", key: "nav.notifications" },
];

/** A page is for users with any of these permissions (none listed: everyone). */
const PAGE_NEEDS = {
  venues: ["venues.read"],
  venue: ["venues.read"],
  checkins: ["checkins.read"],
  operations: ["system.read"],
  site: ["system.read"],
  records: ["assessment.read", "venue_sharing.read"],
  requests: ["service_requests.read"],
  // the admin pages: for whoever may change something (which kinds: js/admin/kinds.js)
  admin: ["organisation.write", "records.write", "registry.write", "venues.hours", "sites.write"],
  audit: ["audit.read"],
  notifications: ["notifications.own", "notifications.read"],
};

/** What following each live topic needs (as the hub checks it). */
const TOPIC_NEEDS = {
  checkins: "checkins.read",
  readings: "readings.read",
  occupancy: "venues.read",
  devices: "devices.read",
  dead_letters: "dead_letters.read",
};

export function mayOpen(page) {
  const needs = PAGE_NEEDS[page] || [];
  return !needs.length || needs.some((permission) => can(permission));
}

/**
 * The icon, and an empty header and footer around the page's <main>, filled once the catalogue
 * is in. Made as this module is evaluated: as early as a script can, before the page's own
 * module runs (it imports this one) and before anything of the page is drawn by it.
 */
function frame() {
  document.head.append(h("link", { rel: "icon", href: "/img/favicon.svg", type: "image/svg+xml" }));
  document.body.prepend(h("header", { id: "shell", class: "shell" }));
  document.body.append(h("footer", { id: "footer" }));
}

frame();

const FIRST_LOAD_WITHOUT_STREAM_MS = 1500;
const REFRESH_RELATIVE_MS = 15000;

function liveState(state) {
  const pill = document.getElementById("live-state");
  if (!pill) return;
  pill.dataset.state = state;
  fill(pill, h("span", { class: "dot", "aria-hidden": "true" }), label(`live.${state}`));
}

/** The language switch of the header (also on the login page). */
export function languageSwitch() {
  const button = h(
    "button",
    {
      type: "button",
      class: "lang-switch",
      id: "lang-switch",
      dataset: { i18nAttr: "title:lang.switch_title;aria-label:lang.switch_title" },
      on: {
        click: async () => {
          const next = currentLanguage() === "en" ? "zh-CN" : "en";
          await setLanguage(next);
        },
      },
    },
    label("lang.switch"),
  );
  button.dataset.target = currentLanguage() === "en" ? "zh-CN" : "en";
  return button;
}

/** The mark and name at the left of the header. */
export function brand() {
  return h(
    "a",
    { class: "brand", href: "/" },
    h("span", { class: "brand-mark", "aria-hidden": "true" }),
    label("app.title", undefined, "span", { class: "brand-name" }),
  );
}

function renderShell(page) {
  fill(
    document.getElementById("shell"),
    brand(),
    h(
      "nav",
      { class: "nav", dataset: { i18nAttr: "aria-label:nav.label" } },
      PAGES.filter((p) => mayOpen(p.id)).map((p) =>
        label(p.key, undefined, "a", {
          href: p.path,
          class: p.id === page ? "active" : undefined,
          "aria-current": p.id === page ? "page" : undefined,
        }),
      ),
    ),
    h(
      "div",
      { class: "tools" },
      h("span", { class: "live-pill", id: "live-state", role: "status", "aria-live": "polite" }),
      languageSwitch(),
      userChip(),
    ),
  );
  const footer = document.getElementById("footer");
  if (footer) fill(footer, label("footer.timezone"), label("footer.source"));
}

function userChip() {
  const user = currentUser();
  return h(
    "span",
    { class: "user", id: "user" },
    h("span", { class: "user-name" }, value(user.username, "strong"), label(`role.${user.role}`, undefined, "span", { class: "muted" })),
    label("auth.logout", undefined, "button", { type: "button", class: "lang-switch", id: "logout", on: { click: () => logOut() } }),
  );
}

/** Show (or clear, with key null) a problem at the top of the page. */
export function notice(key, detail) {
  let box = document.getElementById("notice");
  if (!box) {
    box = h("div", { id: "notice", class: "notice", role: "alert" });
    document.getElementById("main").prepend(box);
  }
  if (!key) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  const parts = [label(key)];
  if (detail) parts.push(h("code", { dataset: { value: "" } }, document.createTextNode(detail)));
  fill(box, ...parts);
}

/**
 * Start a page: load the language, draw the shell, open the live stream for topics, and call
 * load() to fetch the page's state when the stream is up (and again whenever events were lost).
 * onLanguage() redraws what apply() cannot (charts).
 */
export async function startPage({ page, topics = [], handlers = {}, load, onLanguage }) {
  // Who is asking and the catalogue load together; the stream connects as soon as we know which
  // topics the user may follow, while the catalogue may still be loading.
  const catalogue = initI18n();
  await loadMe();
  const allowed = mayOpen(page);
  const followed = allowed ? topics.filter((topic) => can(TOPIC_NEEDS[topic])) : [];
  let hello = null;
  let helloCame = false;
  const stream = followed.length
    ? new LiveStream(followed, {
        handlers,
        onSync: () => (hello ? hello() : (helloCame = true)),
        onState: (state) => liveState(state),
        onRefused: () => checkSession(),
      })
    : null;
  await catalogue;
  renderShell(page);
  apply(document);
  liveState(stream ? stream.state || "connecting" : "idle");
  if (!allowed) {
    notice("auth.forbidden");
    for (const el of document.getElementById("main").children) el.hidden = el.id !== "notice";
    requestAnimationFrame(() => {
      document.documentElement.dataset.ready = "true";
    });
    return;
  }

  let running = null;
  let again = false;
  let firstDone;
  const first = new Promise((resolve) => {
    firstDone = resolve;
  });
  async function sync() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await load();
          notice(null);
        } catch (error) {
          console.warn("load failed", error);
          notice("error.load", error && error.message);
        }
      } while (again);
      running = null;
      firstDone();
    })();
    return running;
  }

  if (stream) {
    hello = () => sync();
    if (helloCame) sync();
    const fallback = setTimeout(() => sync(), FIRST_LOAD_WITHOUT_STREAM_MS);
    first.then(() => clearTimeout(fallback));
  } else {
    sync();
  }

  onLanguageChange(() => {
    const switcher = document.getElementById("lang-switch");
    if (switcher) switcher.dataset.target = currentLanguage() === "en" ? "zh-CN" : "en";
    if (onLanguage) onLanguage();
    document.documentElement.dataset.lang = currentLanguage();
  });
  document.documentElement.dataset.lang = currentLanguage();
  setInterval(() => {
    for (const el of document.querySelectorAll('[data-fmt="relative"]')) {
      el.textContent = format("relative", el.dataset.raw);
    }
  }, REFRESH_RELATIVE_MS);

  await first;
  // Charts draw on the next frame; mark ready after it so a screenshot shows them.
  requestAnimationFrame(() => {
    document.documentElement.dataset.ready = "true";
  });
}
