// Tables of a view's rows: every value lands in textContent (customer names and messages stay text).
import { el } from "./render.js";

const TIME = /(^|_)(at|time|interval|interval_start|start|started|ended|entered|exited|answered_at|date)$/;

export function label(column) {
  const words = column.replace(/_(s|seconds)$/, "").replace(/_pct$/, " %").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1) + (/_(s|seconds)$/.test(column) ? " (s)" : "");
}

// A cell's text: durations rounded, percentages with one decimal, times in the viewer's zone.
export function cell(column, value, tz) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(/_pct$/.test(column) ? 1 : 2).replace(/\.?0+$/, "") || "0";
  if (TIME.test(column) && typeof value === "string" && /^\d{4}-\d\d-\d\d[ T]\d/.test(value)) return localTime(value, tz);
  return String(value);
}

export function localTime(value, tz) {
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return date.toLocaleString("sv-SE", { timeZone: tz || undefined, dateStyle: "short", timeStyle: "short" });
  } catch { return date.toISOString().slice(0, 16).replace("T", " "); }
}

// `table`'s head and body from {columns, rows}; `link(column, row)` may give a cell a button.
export function fill(table, { columns, rows }, { tz, link } = {}) {
  table.tHead.replaceChildren(el("tr", {}, columns.map((c) => el("th", { scope: "col", "data-column": c, text: label(c) }))));
  const body = rows.map((row) => el("tr", {}, columns.map((c) => {
    const text = cell(c, row[c], tz), action = link && link(c, row);
    const numeric = typeof row[c] === "number";
    return el("td", { "data-column": c, class: numeric ? "num" : null },
      action ? el("button", { type: "button", class: "linkish", text, onclick: action }) : text);
  })));
  table.tBodies[0].replaceChildren(...body);
  if (!rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: String(columns.length || 1), class: "muted", text: "No rows for these filters." })));
}
