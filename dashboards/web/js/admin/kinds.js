// What the admin pages know of each registry kind, in one place: where its collection is, which
// field is its id, the columns of its list, the fields of its form (type, bounds, required,
// options, the kind a select refers to), its sub-forms, and who may change what
// (docs/administration.md). The page (js/pages/admin.js) is generic: a kind is added here.
//
// Bounds are the API's (hub/api/params.py, hub/org/models.py); the page checks them before it
// sends, and the server's refusal, if any, is shown next to the field it names all the same.

const CODE = { name: "code", type: "text", required: true, maxLength: 32, pattern: "[A-Za-z0-9_\\-]+" };
const NAME = { name: "name", type: "text", required: true, maxLength: 120 };
const SITE_ID = { name: "id", type: "text", required: true, maxLength: 63, pattern: "[a-z0-9][a-z0-9_\\-]*", createOnly: true };
const DAY = { type: "date", min: "2000-01-01", max: "2099-12-31" };
const ref = (name, kind, required = false) => ({ name, type: "ref", ref: kind, required });
const select = (name, options, required = true) => ({ name, type: "select", options, required });

export const UNIT_KINDS = ["agency", "enterprise", "institution", "two_new", "other"];
export const PARTY_ORG_KINDS = ["working_committee", "community_committee", "grid_branch", "building_group", "household_group"];
export const VENUE_KINDS = ["sports_ground", "car_park", "other"];
export const TEAM_KINDS = ["station", "alliance", "group"];
export const SITE_KINDS = ["centre", "venue"];
/** hub/sites/devices.py: KINDS, and the options each kind requires. */
export const DEVICE_KINDS = ["card_reader", "people_counter", "bay_sensor", "sign"];
export const DEVICE_REQUIRED = { card_reader: [], people_counter: ["unit_id"], bay_sensor: ["unit_id", "bays"], sign: ["unit_id"] };

/** The permission every write of a kind needs (docs/administration.md). */
const ORG = "organisation.write";

export const KINDS = {
  subdistricts: {
    path: "/api/v1/subdistricts",
    write: ORG,
    columns: ["code", "name"],
    fields: [CODE, NAME],
  },
  communities: {
    path: "/api/v1/communities",
    write: ORG,
    columns: ["code", "name", "subdistrict_id"],
    fields: [CODE, NAME, ref("subdistrict_id", "subdistricts", true), ref("centre_id", "service-centres")],
  },
  grids: {
    path: "/api/v1/grids",
    write: ORG,
    columns: ["code", "name", "community_id", "level"],
    fields: [CODE, NAME, ref("community_id", "communities", true), { name: "level", type: "int", required: true, min: 1, max: 3 }, ref("parent_id", "grids")],
  },
  "party-orgs": {
    path: "/api/v1/party-orgs",
    write: ORG,
    columns: ["code", "name", "kind"],
    fields: [
      CODE,
      NAME,
      select("kind", { key: "party_org_kind", values: PARTY_ORG_KINDS }),
      ref("parent_id", "party-orgs"),
      ref("subdistrict_id", "subdistricts"),
      ref("community_id", "communities"),
      ref("grid_id", "grids"),
    ],
  },
  units: {
    path: "/api/v1/units",
    write: ORG,
    columns: ["code", "name", "kind", "community_id"],
    fields: [CODE, NAME, select("kind", { key: "unit_kind", values: UNIT_KINDS }), ref("community_id", "communities"), ref("alliance_id", "alliances")],
  },
  alliances: {
    path: "/api/v1/alliances",
    write: ORG,
    columns: ["code", "name", "subdistrict_id"],
    fields: [CODE, NAME, ref("subdistrict_id", "subdistricts")],
    subs: [
      {
        name: "chairs",
        mode: "items", // POST /alliances/{id}/chairs one period, DELETE …/chairs/{chair_id} one
        fields: [ref("unit_id", "units", true), { name: "starts_on", ...DAY, required: true }, { name: "ends_on", ...DAY, required: true }],
      },
    ],
  },
  agreements: {
    path: "/api/v1/agreements",
    write: ORG,
    columns: ["code", "community_id", "unit_id", "signed_on"],
    fields: [CODE, ref("community_id", "communities", true), ref("unit_id", "units", true), { name: "signed_on", ...DAY, required: true }, { name: "ends_on", ...DAY }],
    subs: [
      {
        name: "menu",
        mode: "body", // part of the agreement's own body
        fields: [select("direction", { key: "menu_direction", values: ["offer", "need"] }), { name: "title", type: "text", required: true, maxLength: 200 }],
      },
    ],
  },
  "volunteer-teams": {
    path: "/api/v1/volunteer-teams",
    write: ORG,
    columns: ["code", "name", "kind", "community_id"],
    fields: [CODE, NAME, select("kind", { key: "team_kind", values: TEAM_KINDS }), ref("community_id", "communities", true), ref("unit_id", "units")],
    subs: [
      {
        name: "members",
        mode: "replace", // PUT /volunteer-teams/{id}/members {member_ids}: the whole set
        wrap: { key: "member_ids", field: "member_id" },
        fields: [{ name: "member_id", type: "int", required: true, min: 1, max: 2147483647 }],
      },
    ],
  },
  members: {
    path: "/api/v1/members",
    write: "records.write",
    columns: ["code", "name", "unit_id", "community_id", "in_service"],
    fields: [
      { ...CODE, createOnly: true },
      NAME,
      ref("unit_id", "units", true),
      ref("community_id", "communities", true),
      ref("grid_id", "grids"),
      ref("party_org_id", "party-orgs"),
      { name: "in_service", type: "bool" },
      { name: "card", type: "text", pattern: "[0-9A-Fa-f]{10}", maxLength: 10, secret: true },
    ],
  },
  "service-centres": {
    path: "/api/v1/service-centres",
    write: "registry.write",
    columns: ["id", "name", "community_id"],
    fields: [SITE_ID, NAME, ref("community_id", "communities", true)],
    site: "centre",
  },
  "venue-registry": {
    path: "/api/v1/venue-registry",
    files: "venues", // its imports, template and export
    write: "registry.write",
    columns: ["id", "name", "kind", "unit_id", "capacity"],
    fields: [
      SITE_ID,
      NAME,
      select("kind", { key: "venue_kind", values: VENUE_KINDS }),
      ref("unit_id", "units", true),
      ref("community_id", "communities", true),
      ref("agreement_id", "agreements"),
      { name: "opened_on", ...DAY },
      { name: "address", type: "text", required: true, maxLength: 200 },
      { name: "latitude", type: "float", min: -90, max: 90 },
      { name: "longitude", type: "float", min: -180, max: 180 },
      { name: "capacity", type: "int", required: true, min: 1, max: 1000000 },
      { name: "alert_threshold_pct", type: "float", min: 1, max: 100 },
      { name: "opens_at", type: "time", required: true },
      { name: "closes_at", type: "time", required: true },
      { name: "public_count", type: "bool" },
    ],
    subs: [
      {
        name: "hours",
        mode: "weekdays", // PUT /venue-registry/{id}/hours: the seven days, none left out
        fields: [{ name: "opens_at", type: "time" }, { name: "closes_at", type: "time" }],
      },
      {
        name: "closures",
        mode: "items", // POST /venue-registry/{id}/closures one, DELETE …/closures/{id} one
        fields: [{ name: "starts_on", ...DAY, required: true }, { name: "ends_on", ...DAY, required: true }, { name: "reason", type: "text", required: true, maxLength: 200 }],
      },
    ],
    site: "venue",
    // A venue manager changes these of its own unit's venues, and nothing else.
    limited: { permission: "venues.hours", scope: "unit_id", fields: ["capacity", "alert_threshold_pct"], subs: ["hours", "closures"] },
  },
  sites: {
    path: "/api/v1/sites",
    write: "sites.write",
    columns: ["id", "name", "kind", "site_state"],
    fields: [{ ...SITE_ID, name: "site_id" }, select("kind", { key: "site_kind", values: SITE_KINDS }), { name: "reinstate", type: "bool" }],
    // shown in the list only: the hub's view of the site (docs/hub.md)
    shown: [select("site_state", { key: "site_state", values: ["never_seen", "online", "offline", "revoked"] })],
    noArchive: true,
    noImport: true,
  },
};

export const KIND_NAMES = Object.keys(KINDS);

/** The name of a kind's imports, template and export (/api/v1/imports/NAME…). */
export function filesOf(kindName) {
  return (KINDS[kindName] && KINDS[kindName].files) || kindName;
}

/**
 * What the user may do with a kind (row: the one being changed, if any):
 * {list, create, archive, importing, fields: Set|null (null: every field), subs: Set|null}.
 * The hub checks all of it again: this only keeps the page from offering what it would refuse.
 */
export function access(kindName, can, user, row) {
  const kind = KINDS[kindName];
  const none = { list: false, create: false, archive: false, importing: false, edit: false, fields: new Set(), subs: new Set() };
  if (!kind) return none;
  if (can(kind.write)) {
    return { list: true, create: true, archive: !kind.noArchive, importing: !kind.noImport && can("imports.write"), edit: true, fields: null, subs: null };
  }
  const limited = kind.limited;
  if (limited && can(limited.permission)) {
    const own = !row || (user && user[limited.scope] !== null && row[limited.scope] === user[limited.scope]);
    return { ...none, list: true, edit: own, fields: new Set(own ? limited.fields : []), subs: new Set(own ? limited.subs : []) };
  }
  return none;
}

/** The kinds the user may change something of, for the menu and the index. */
export function kindsFor(can, user) {
  return KIND_NAMES.filter((name) => access(name, can, user).list);
}
