// The login page: an API token, typed in or carried by the link the demo prints
// (/login#token=...), is exchanged for the session cookie (HttpOnly: no script keeps the token);
// then the browser goes back where it was going (?next=/checkins).

import { apply, initI18n } from "/js/i18n.js";
import { $, fill, h, label } from "/js/dom.js";
import { brand, languageSwitch } from "/js/shell.js";

/** Where to go after logging in: a path on this hub, never another site. */
function destination() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  const local = next.startsWith("/") && !/^\/[\\/]/.test(next) && !next.startsWith("/login");
  return local ? next : "/";
}

/** The token in the link's fragment (never sent to any server), taken out of the address bar and
 * the history at once. */
function tokenFromLink() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return token;
}

function problem(key) {
  const box = $("#login-problem");
  box.hidden = !key;
  if (key) fill(box, label(key));
  else box.replaceChildren();
}

async function logIn(token) {
  problem(null);
  if (!token.trim()) {
    problem("login.empty");
    return;
  }
  $("#login-submit").disabled = true;
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token: token.trim() }),
    });
    if (response.ok) {
      await response.json(); // who logged in; read it all before leaving the page
      location.replace(destination());
      return;
    }
    problem(response.status === 401 ? "login.rejected" : "login.failed");
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

async function start() {
  const linked = tokenFromLink();
  await initI18n();
  renderHeader();
  apply(document);
  $("#login").addEventListener("submit", (event) => {
    event.preventDefault();
    logIn($("#token").value);
  });
  if (linked !== null) await logIn(linked);
  else $("#token").focus();
  requestAnimationFrame(() => {
    document.documentElement.dataset.ready = "true";
  });
}

start();
