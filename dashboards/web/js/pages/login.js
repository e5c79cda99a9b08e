// The login page: an API token typed in, or the single-use code of a one-click link
// (/login#code=..., made by `community user login-link NAME` and printed by the demo), is
// exchanged for the session cookie (HttpOnly: no script keeps the token); then the browser goes
// back where it was going (?next=/checkins).

import { apply, initI18n } from "/js/i18n.js";
import { $, fill, h, label } from "/js/dom.js";
import { brand, languageSwitch } from "/js/shell.js";

/** Where to go after logging in: a page of this hub, never another site. `next` is resolved the
 * way the browser would resolve it (which drops tabs and newlines, and reads "\" as "/"), and
 * only a result on this origin is taken. */
function destination(next = new URLSearchParams(location.search).get("next")) {
  if (!next) return "/";
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return "/";
  }
  if (url.origin !== location.origin || url.pathname.startsWith("/login")) return "/";
  return url.pathname + url.search + url.hash;
}

/** The code in the link's fragment (never sent to any server), taken out of the address bar at
 * once; it works once and for minutes only, so the copy the browser's history keeps is spent.
 * Anything else in a fragment (an old link's token) is dropped unread. */
function codeFromLink() {
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return code;
}

let labelled = false; // the catalogue is in: messages can be shown
let shown = null;

function problem(key) {
  shown = key;
  const box = $("#login-problem");
  box.hidden = !key;
  if (key && labelled) fill(box, label(key));
  else box.replaceChildren();
}

async function logIn(credential) {
  problem(null);
  if (!credential.token && !credential.code) {
    problem("login.empty");
    return;
  }
  $("#login-submit").disabled = true;
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(credential),
    });
    if (response.ok) {
      await response.json(); // who logged in; read it all before leaving the page
      location.replace(destination());
      return;
    }
    if (response.status === 401) problem(credential.code ? "login.link_spent" : "login.rejected");
    else problem("login.failed");
  } catch {
    problem("login.failed");
  } finally {
    $("#login-submit").disabled = false;
  }
}

function renderHeader() {
  fill($("#shell"), brand(), h("span", { class: "nav" }), h("div", { class: "tools" }, languageSwitch()));
  fill($("#footer"), label("footer.timezone"), label("footer.source"));
}

// Before anything that waits (the catalogue, the link's exchange): a submit from now on is
// ours, and the button (disabled in the page until now) may submit.
$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  logIn({ token: $("#token").value.trim() });
});
$("#login-submit").disabled = false;

async function start() {
  const code = codeFromLink();
  const exchanged = code ? logIn({ code }) : null;
  await initI18n();
  labelled = true;
  renderHeader();
  apply(document);
  problem(shown); // one met while the catalogue was on its way
  if (exchanged) await exchanged;
  else $("#token").focus();
  requestAnimationFrame(() => {
    document.documentElement.dataset.ready = "true";
  });
}

start();
