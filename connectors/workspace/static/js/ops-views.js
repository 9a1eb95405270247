// Which charts a historical view gets: offered vs answered per interval where its rows are
// intervals (queue_performance), the handle-time distribution where they are conversations.
import { bars, histogram } from "./ops-charts.js";

const $ = (id) => document.getElementById(id);
const INTERVAL = ["interval_start", "interval", "period_start", "period"];
const HANDLE = ["handle_s", "handle_seconds", "handle_time_s"];
const PER_INTERACTION = new Set(["interaction_details"]);   // a row per conversation (others sum per agent or queue)

const first = (columns, names) => names.find((n) => columns.includes(n));

function epochSeconds(value) {
  if (typeof value === "number") return value > 1e11 ? value / 1000 : value;
  const text = String(value);
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(" ", "T")}Z`;
  return Date.parse(iso) / 1000;
}

// Per interval: the sum of offered and of answered over every row (queue, agent…) of that interval.
function perInterval(rows, column) {
  const sums = new Map();
  for (const row of rows) {
    const t = epochSeconds(row[column]);
    if (!Number.isFinite(t)) continue;
    const s = sums.get(t) || { offered: 0, answered: 0 };
    s.offered += Number(row.offered || 0);
    s.answered += Number(row.answered || 0);
    sums.set(t, s);
  }
  const x = [...sums.keys()].sort((a, b) => a - b);
  return [x, { offered: x.map((t) => sums.get(t).offered), answered: x.map((t) => sums.get(t).answered) }];
}

export function drawCharts(view, { columns, rows }, tz) {
  const interval = first(columns, INTERVAL), handle = first(columns, HANDLE);
  const offered = interval && columns.includes("offered") && columns.includes("answered") && rows.length > 0;
  const known = (r) => r[handle] !== null && r[handle] !== undefined;   // no participation: no handle time
  const handles = handle && PER_INTERACTION.has(view) ? rows.filter(known).map((r) => Number(r[handle])).filter(Number.isFinite) : [];
  $("fig-offered").hidden = !offered;
  $("fig-handle").hidden = !handles.length;
  $("history-charts").hidden = !offered && !handles.length;
  if (offered) bars($("chart-offered"), ...perInterval(rows, interval), tz);
  if (handles.length) histogram($("chart-handle"), handles);
}
