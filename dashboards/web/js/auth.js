// Who is logged in (GET /api/v1/me) and what they may do, logging out, and the way back to the
// login page when the hub answers 401. The session is an HttpOnly cookie: no script ever holds
// the token after the login page has exchanged it.

let me = null;

/** The logged-in user: {username, role, centre_id, unit_id, sites, permissions}. */
export function currentUser() {
  return me;
}

export function can(permission) {
  return Boolean(me && me.permissions.includes(permission));
}

/** Where to log in, coming back here afterwards. */
export function loginURL() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** Leave for the login page; the returned promise never settles (the page is going away). */
export function toLogin() {
  location.replace(loginURL());
  return new Promise(() => {});
}

export async function loadMe() {
  const response = await fetch("/api/v1/me", { headers: { Accept: "application/json" } });
  if (response.status === 401) return toLogin();
  if (!response.ok) throw new Error(`/api/v1/me: HTTP ${response.status}`);
  me = await response.json();
  return me;
}

/** After the live stream was refused: back to the login page if the session has ended. */
export async function checkSession() {
  try {
    const response = await fetch("/api/v1/me", { headers: { Accept: "application/json" } });
    if (response.status === 401) toLogin();
  } catch {
    // the hub is away: the stream keeps trying
  }
}

export async function logOut() {
  try {
    await fetch("/api/v1/session", { method: "DELETE" });
  } finally {
    location.replace("/login");
  }
}
