// The live part of the ops page: a tile per queue (the my_queues_activity view), the agents table
// (/supervisor/agents) and charts of waiting and service level, polled every 2 s.
import { api, listOf } from "./api.js";
import { LiveChart } from "./ops-charts.js";
import { records, reports } from "./ops-api.js";
import { el } from "./render.js";

const $ = (id) => document.getElementById(id);
export const POLL_MS = 2000;
const pick = (row, ...names) => names.map((n) => row[n]).find((v) => v !== undefined && v !== null);

// What a tile shows, in order: [label, value of the row].
const FIGURES = [
  ["Waiting", (r) => pick(r, "waiting", "waiting_now") ?? 0],
  ["Longest wait", (r) => duration(pick(r, "longest_wait_s", "longest_wait_seconds", "longest_wait"))],
  ["Interacting", (r) => pick(r, "interacting", "interacting_now") ?? 0],
  ["On queue", (r) => pick(r, "agents_on_queue", "on_queue") ?? 0],
  ["Idle", (r) => pick(r, "agents_idle", "idle") ?? 0],
  ["Not responding", (r) => pick(r, "agents_not_responding", "not_responding") ?? 0],
  ["Offered today", (r) => pick(r, "offered", "offered_today") ?? 0],
  ["Answered", (r) => pick(r, "answered", "answered_today") ?? 0],
  ["Abandoned", (r) => pick(r, "abandoned", "abandoned_today") ?? 0],
  ["SL %", (r) => percent(pick(r, "sl_pct", "service_level_pct"))],
];

export function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return "—";
  const s = Math.max(0, Math.round(Number(seconds)));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function percent(value) { return value === null || value === undefined ? "—" : `${Number(value).toFixed(1)}%`; }

export const queueOf = (row) => String(pick(row, "queue_id", "queue") ?? "");

export class Live {
  constructor() {
    this.waiting = new LiveChart($("chart-waiting"));
    this.sl = new LiveChart($("chart-sl"), { percent: true });
    this.tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  // Every configured queue gets a tile (the view lists only queues with something to count).
  async start(views) {
    this.takes = (views.find((v) => v.name === "my_queues_activity") || {}).parameters;
    this.stopped = false;
    this.configured = await api.queues().then((q) => listOf(q, "queues").map((x) => x.id)).catch(() => []);
    this.tick();
  }
  stop() { this.stopped = true; clearTimeout(this.timer); }

  // One poll, then the next 2 s after it answered (polls never pile up behind a slow answer).
  async tick() {
    try {
      const [activity, agents] = await Promise.all([reports.view("my_queues_activity", { tz: this.tz }, this.takes), api.svAgents()]);
      this.render(withEveryQueue(records(activity).rows, this.configured), listOf(agents, "agents"));
      $("live-status").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      $("live-error").textContent = "";
    } catch (exc) { $("live-error").textContent = exc.message; $("live-status").textContent = "not updating"; }
    if (!this.stopped) this.timer = setTimeout(() => this.tick(), POLL_MS);
  }

  render(queues, agents) {
    $("tiles").replaceChildren(...queues.map(tile));
    const now = Date.now();
    this.waiting.push(now, Object.fromEntries(queues.map((q) => [queueOf(q), Number(pick(q, "waiting", "waiting_now") ?? 0)])));
    this.sl.push(now, Object.fromEntries(queues.map((q) => [queueOf(q), pick(q, "sl_pct", "service_level_pct") ?? null])));
    $("agents").tBodies[0].replaceChildren(...agents.map(agentRow));
  }
}

function withEveryQueue(rows, configured) {
  const seen = new Set(rows.map(queueOf));
  const quiet = (configured || []).filter((q) => !seen.has(q)).map((queue_id) => ({ queue_id }));
  return [...rows, ...quiet].sort((a, b) => queueOf(a).localeCompare(queueOf(b)));
}

function tile(row) {
  const queue = queueOf(row), waiting = Number(FIGURES[0][1](row));
  return el("article", { class: `tile${waiting ? " busy" : ""}`, role: "listitem", "aria-label": `Queue ${queue}`, "data-queue": queue },
    el("h3", { text: queue }),
    el("dl", {}, FIGURES.map(([name, value]) => el("div", { "data-figure": name }, el("dt", { text: name }), el("dd", { text: String(value(row)) })))));
}

function agentRow(agent) {
  const load = agent.load && typeof agent.load === "object"
    ? Object.entries(agent.load).map(([state, n]) => `${n} ${state}`).join(", ") : String(agent.load ?? "");
  return el("tr", { "data-agent": agent.id || agent.agent_id },
    el("td", { text: agent.name || agent.id || agent.agent_id }), el("td", { text: agent.disabled ? "disabled" : agent.presence || "offline" }),
    el("td", { text: (agent.queues || []).join(", ") }), el("td", { text: load || "—" }));
}
