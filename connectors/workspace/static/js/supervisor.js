// Supervisor view: agents with presence and load, queues with waiting now and longest wait, any
// conversation's timeline and the routing explanation of each offer; force-transfer and end.
import { api, listOf } from "./api.js";
import { el, since, time } from "./render.js";

const $ = (id) => document.getElementById(id);

export class Supervisor {
  constructor() {
    $("supervisor-view").prepend(el("p", { class: "ops-link" }, el("a", { href: "ops.html", text: "Ops page: live queues, agents and reports" })));
    $("sv-lookup").onsubmit = (event) => { event.preventDefault(); this.show(event.target.conversation_id.value.trim()); };
    $("sv-end").onclick = () => this.act(() => api.end(this.conversationId));
    $("sv-transfer").onclick = () => this.act(() => api.transfer(this.conversationId, { queue_id: $("sv-queue").value, mode: "blind", note: "supervisor transfer" }));
  }

  start() { this.refresh(); this.timer = setInterval(() => this.refresh(), 3000); }
  stop() { clearInterval(this.timer); }

  async refresh() {
    try {
      const [agents, queues] = await Promise.all([api.svAgents(), api.svQueues()]);
      const agentRows = listOf(agents, "agents").map((a) => el("tr", {},
        el("td", { text: a.name || a.agent_id }), el("td", { text: a.presence || "" }), el("td", { text: a.on_queue ? "yes" : "no" }),
        el("td", { text: loadOf(a) })));
      $("sv-agents").tBodies[0].replaceChildren(...agentRows);
      const queueList = listOf(queues, "queues");
      $("sv-queues").tBodies[0].replaceChildren(...queueList.map((q) => el("tr", {},
        el("td", { text: q.queue_id || q.name }), el("td", { text: String(q.waiting ?? q.waiting_now ?? 0) }),
        el("td", { text: q.longest_wait_seconds != null ? `${q.longest_wait_seconds}s` : since(q.oldest_waiting_since) || "—" }))));
      const current = $("sv-queue").value;
      $("sv-queue").replaceChildren(...queueList.map((q) => el("option", { value: q.queue_id || q.name, text: q.queue_id || q.name })));
      if (current) $("sv-queue").value = current;
      $("sv-error").textContent = "";
    } catch (exc) { $("sv-error").textContent = exc.message; }
  }

  async show(id) {
    this.conversationId = id;
    try {
      const [timeline, decisions] = await Promise.all([api.svTimeline(id), api.svDecisions(id)]);
      $("sv-timeline").replaceChildren(...listOf(timeline, "events", "timeline").map((e) => el("li", {},
        el("time", { text: time(e.occurred_at) }), " ", el("strong", { text: e.type || e.kind || "" }), " ",
        el("span", { text: e.reason || e.text || e.agent_id || "" }))));
      $("sv-decisions").replaceChildren(...listOf(decisions, "decisions").map((d) => el("li", {},
        el("strong", { text: `${d.decision || d.type || "offer"} → ${d.agent_id || d.chosen_agent_id || "nobody"}` }), " ",
        el("span", { text: explanation(d) }))));
      $("sv-conversation").hidden = false;
      $("sv-error").textContent = "";
    } catch (exc) { $("sv-error").textContent = exc.message; }
  }

  async act(call) {
    try { await call(); $("sv-error").textContent = "done"; this.show(this.conversationId); }
    catch (exc) { $("sv-error").textContent = exc.message; }
  }
}

function loadOf(a) {
  if (a.load && typeof a.load === "object") return Object.entries(a.load).map(([k, v]) => `${k} ${v.used ?? v}/${v.capacity ?? ""}`).join(", ");
  return `${a.load ?? a.active ?? 0}/${a.capacity ?? ""}`;
}

function explanation(d) {
  if (typeof d.explanation === "string") return d.explanation;
  const parts = [d.rule && `rule ${d.rule}`, d.queue_id && `queue ${d.queue_id}`, d.ring != null && `ring ${d.ring}`, d.reason];
  const candidates = (d.candidates || []).map((c) => `${c.agent_id}${c.score != null ? ` (${c.score})` : ""}${c.excluded ? ` excluded: ${c.excluded}` : ""}`);
  return [...parts.filter(Boolean), candidates.length ? `candidates: ${candidates.join(", ")}` : null].filter(Boolean).join(" · ");
}
