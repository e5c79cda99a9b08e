// Taps as the check-ins page shows them: who tapped (a masked name, never a
// card number) and which activity a tap counted toward.

import { getAll } from "/js/api.js";
import { label, value } from "/js/dom.js";
import { cityMonth } from "/js/i18n.js";

/**
 * Who a tap was: the member's masked name when the hub knows the card, else the card's short
 * reference (the hub sends only the first 8 characters of its hash).
 */
export function describeTap(tap) {
  if (tap.member) return value(tap.member);
  return label("checkins.card", { hash: tap.card_ref || "" }, "span", { class: "mono muted" });
}

/**
 * Today's activities at a centre (all centres: site empty) with how many taps each counted, from
 * today's taps; walk-in services (taps with no activity) as one more row.
 */
export async function attendanceToday(site, todayTaps, midnight) {
  const activities = await getAll("/api/v1/activities", { centre_id: site || undefined, month: cityMonth() }, 2000);
  const start = new Date(midnight).getTime();
  const end = start + 24 * 3600 * 1000;
  const today = activities.filter((a) => {
    const at = new Date(a.starts_at).getTime();
    return at >= start && at < end;
  });
  return summarise(today, todayTaps);
}

export function summarise(activities, taps) {
  const counts = new Map();
  for (const tap of taps) counts.set(tap.activity_id ?? null, (counts.get(tap.activity_id ?? null) || 0) + 1);
  const rows = activities
    .map((a) => ({ id: a.id, title: a.title, centre_id: a.centre_id, starts_at: a.starts_at, attended: counts.get(a.id) || 0 }))
    .sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at));
  const known = new Set(rows.map((r) => r.id));
  for (const tap of taps) {
    if (tap.activity_id && !known.has(tap.activity_id)) {
      known.add(tap.activity_id);
      rows.push({ id: tap.activity_id, title: tap.activity, starts_at: null, attended: counts.get(tap.activity_id) });
    }
  }
  if (counts.get(null)) rows.push({ id: null, title: null, starts_at: null, attended: counts.get(null) });
  return rows;
}
