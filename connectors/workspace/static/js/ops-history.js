// The historical views: filters (interval, granularity, time zone, queue, agent, channel, media
// type, wrap-up code, direction), the view's rows as a table, its CSV (the API's format=csv), the
// charts worth looking at, and one interaction's timeline from a row of the Interactions view.
import { api, listOf } from "./api.js";
import { reportUrl, records, reports } from "./ops-api.js";
import { fill } from "./ops-table.js";
import { browserZone, fromInput, localInput, range, validZone } from "./ops-time.js";
import { drawCharts } from "./ops-views.js";
import { el } from "./render.js";

const $ = (id) => document.getElementById(id);
const REALTIME = new Set(["my_queues_activity", "interaction"]);   // live tiles / the drill-down
const FILTERS = ["granularity", "tz", "queue", "agent", "channel", "media_type", "wrapup_code", "direction"];

export class History {
  constructor() {
    this.form = $("filters");
    this.form.elements.tz.value = browserZone();
    this.form.onsubmit = (event) => { event.preventDefault(); this.show(); };
    this.form.elements.range.onchange = () => { if (this.form.elements.range.value !== "custom") this.show(); };
    for (const name of ["from", "to"]) this.form.elements[name].oninput = () => { this.form.elements.range.value = "custom"; };
    this.form.elements.view.onchange = () => this.show();
    $("interaction-close").onclick = () => { $("interaction").hidden = true; };
  }

  async start(views) {
    const f = this.form.elements;
    if (Intl.supportedValuesOf) $("zones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => el("option", { value: z })));
    const [queues, agents] = await Promise.all([api.queues(), api.agents()]);
    this.views = views.filter((v) => !REALTIME.has(v.name));
    f.view.replaceChildren(...this.views.map((v) => el("option", { value: v.name, text: shortTitle(v) })));
    const queueList = listOf(queues, "queues");
    options(f.queue, queueList.map((q) => q.id));
    options(f.agent, listOf(agents, "agents").map((a) => [a.id, a.name || a.id]));
    options(f.wrapup_code, [...new Set(queueList.flatMap((q) => q.wrapup_codes || []))].sort());
    await this.show();
  }

  applyRange() {
    const f = this.form.elements, tz = this.zone();
    if (f.range.value === "custom") return;
    const [from, to] = range(f.range.value, tz);
    f.from.value = localInput(from, tz);
    f.to.value = localInput(to, tz);
  }

  zone() { const tz = this.form.elements.tz.value.trim(); return validZone(tz) ? tz : browserZone(); }

  // The API's parameters from the form: from/to read in the chosen zone, sent as UTC ISO.
  params() {
    const f = this.form.elements, tz = this.zone(), params = {};
    for (const name of FILTERS) params[name] = f[name].value.trim();
    params.tz = tz;
    const from = fromInput(f.from.value, tz), to = fromInput(f.to.value, tz);
    if (from !== null) params.from = new Date(from).toISOString();
    if (to !== null) params.to = new Date(to).toISOString();
    return params;
  }

  async show() {
    this.applyRange();   // "today" and the like end now, whenever the report is asked again
    const view = this.form.elements.view.value, params = this.params(), seq = (this.seq || 0) + 1;
    if (!view) return;
    this.seq = seq;
    const about = this.views.find((v) => v.name === view) || {}, takes = about.parameters;
    this.offer(takes);
    $("csv").href = reportUrl(view, params, "csv", takes);
    $("csv").setAttribute("download", `${view}.csv`);
    $("view-about").textContent = about.title || "";
    $("report-status").textContent = "loading…";
    try {
      const answer = records(await reports.view(view, params, takes));
      if (seq !== this.seq) return;   // a later request's answer wins
      fill($("report"), answer, { tz: params.tz, link: (column, row) => this.drill(view, column, row) });
      $("report").dataset.view = view;
      $("report-status").textContent = `${answer.rows.length} rows · ${params.tz}`;
      $("report-error").textContent = "";
      drawCharts(view, answer, params.tz);
    } catch (exc) {
      $("report-status").textContent = "";
      $("report-error").textContent = exc.message;
    }
  }

  // Filters the view does not take are disabled (the API would refuse them).
  offer(takes) {
    for (const name of FILTERS) this.form.elements[name].disabled = !!takes && !takes.includes(name);
    for (const name of ["from", "to", "range"]) this.form.elements[name].disabled = !!takes && !takes.includes("from");
  }

  drill(view, column, row) {
    if (column !== "conversation_id" || !row.conversation_id) return null;
    return () => this.interaction(row.conversation_id);
  }

  async interaction(id) {
    $("interaction-title").textContent = `Interaction ${id}`;
    try {
      const answer = await reports.interaction(id);
      const events = answer && answer.rows ? records(answer) : timeline(answer);
      fill($("interaction-table"), events, { tz: this.zone() });
      $("interaction").hidden = false;
      $("interaction").scrollIntoView({ block: "nearest" });
    } catch (exc) { $("report-error").textContent = exc.message; }
  }
}

// "Interactions: one row per conversation…" (the view file's first line) -> "Interactions".
function shortTitle(v) { return (v.title || v.name.replace(/_/g, " ")).split(":")[0]; }

function options(select, values) {
  const first = select.options[0];
  select.replaceChildren(first, ...values.map((v) => (Array.isArray(v) ? el("option", { value: v[0], text: v[1] }) : el("option", { value: v, text: v }))));
}

// One interaction's answer without {columns, rows}: its lists (segments, messages, decisions…) as one
// table, a `kind` column saying which list each row came from.
function timeline(answer) {
  const rows = Object.entries(answer || {}).filter(([, v]) => Array.isArray(v))
    .flatMap(([kind, list]) => list.map((item) => ({ kind, ...(item && typeof item === "object" ? item : { value: item }) })));
  return { columns: [...new Set(rows.flatMap(Object.keys))], rows };
}
