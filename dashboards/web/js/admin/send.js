// The admin pages' writes: a JSON body (or a file) sent with the session cookie, and the hub's
// answer split into what it accepted and what it refused. A refusal that names a field
// ({"detail": [{"loc": ["body", field, ...], "msg", "type"}]}, for 422 and 409 alike) goes beside
// that field; any other refusal goes at the top of the form.

import { toLogin } from "/js/auth.js";

/** {ok, status, data, fields: [{loc: [...after "body"], msg}], message} */
export async function send(method, path, body, contentType = "application/json") {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    return { ok: false, status: 0, data: null, fields: [], message: String(error && error.message) };
  }
  if (response.status === 401) return toLogin();
  let data = null;
  try {
    data = response.status === 204 ? null : await response.json();
  } catch {
    // not JSON: the status says enough
  }
  if (response.ok) return { ok: true, status: response.status, data, fields: [], message: "" };
  return { ok: false, status: response.status, data, ...refusal(data) };
}

/** The fields a refusal names (loc after "body") and the rest of it as one line. */
export function refusal(data) {
  const detail = data && data.detail;
  const fields = [];
  const rest = [];
  if (Array.isArray(detail)) {
    for (const item of detail) {
      const loc = Array.isArray(item && item.loc) ? item.loc : [];
      if (loc[0] === "body" && loc.length > 1) fields.push({ loc: loc.slice(1), msg: String(item.msg) });
      else rest.push(String((item && item.msg) || JSON.stringify(item)));
    }
  } else if (detail !== undefined && detail !== null) {
    rest.push(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return { fields, message: rest.join("; ") };
}
