// The report API (docs/workspace.md, "Ops page"): GET /api/v1/reports[/{view}], JSON or CSV, the
// session cookie carries the supervisor's token; parameters go in the query string, never in SQL.
import { ApiError } from "./api.js";

const PARAMS = ["from", "to", "granularity", "tz", "queue", "agent", "channel", "media_type", "wrapup_code", "direction"];

// The view's URL with the parameters it takes (`takes`: its parameter names from GET /reports; the
// API refuses one it does not take, so a filter a view has no use for is left out).
export function reportUrl(view, params, format = "json", takes = null) {
  const query = new URLSearchParams();
  for (const name of PARAMS) if (params[name] && (!takes || takes.includes(name))) query.set(name, params[name]);
  query.set("format", format);
  return `/api/v1/reports/${encodeURIComponent(view)}?${query}`;
}

async function get(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || `GET ${path}: ${response.status}`);
  return data;
}

export const reports = {
  views: () => get("/api/v1/reports"),
  view: (view, params, takes) => get(reportUrl(view, params, "json", takes)),
  interaction: (id) => get(`/api/v1/reports/interaction/${encodeURIComponent(id)}`),
};

// A view's answer as row objects keyed by column name (columns may be names or {name, type}; rows
// arrays in column order or objects already).
export function records(answer) {
  const columns = ((answer && answer.columns) || []).map((c) => (typeof c === "string" ? c : c.name));
  const rows = (answer && answer.rows) || [];
  const named = rows.map((row) => (Array.isArray(row) ? Object.fromEntries(columns.map((c, i) => [c, row[i]])) : row));
  return { columns: columns.length ? columns : Object.keys(named[0] || {}), rows: named };
}

// The views the API lists, as [{name, title, parameters}], whatever shape the list comes in.
export function viewList(answer) {
  const list = Array.isArray(answer) ? answer : (answer && (answer.views || answer.items)) || [];
  const entries = Array.isArray(list) ? list : Object.entries(list).map(([name, v]) => ({ name, ...(v || {}) }));
  return entries.map((v) => (typeof v === "string" ? { name: v } : { ...v, name: v.name || v.view || v.id,
    parameters: parameterNames(v.parameters) }));
}

// Parameter names from a list of names or of {name, …}, or an object keyed by name (null: unknown).
function parameterNames(given) {
  if (!given) return null;
  if (Array.isArray(given)) return given.map((p) => (typeof p === "string" ? p : p.name));
  return Object.keys(given);
}
