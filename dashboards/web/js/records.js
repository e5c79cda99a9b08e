// The organisation's records as pages show them: who tapped (a masked name, never a card
// number), which activity a tap counted toward.

import { getJSON, hasRoute } from "/js/api.js";
import { label, value } from "/js/dom.js";

/** Who a tap was: the member's masked name when the hub knows the card, else the card's hash. */
export function describeTap(tap) {
  if (tap.member) return value(tap.member);
  return label("checkins.card", { hash: (tap.card_hash || "").slice(0, 8) }, "span", { class: "mono muted" });
}

/** Today's activities at a centre with how many attended, or null if the hub has no such records. */
export async function attendanceToday(site) {
  if (!(await hasRoute("/api/v1/attendance/today"))) return null;
  const page = await getJSON("/api/v1/attendance/today", { centre: site });
  return page.data;
}
