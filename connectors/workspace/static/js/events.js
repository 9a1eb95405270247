// Push events (agent-notifications types, docs/workspace.md) applied to the desk, each once.
import { normalize } from "./messages.js";
import { openWrapup } from "./dialogs.js";
import { workEnded, workStarted } from "./work.js";

const HANDLERS = {
  offered(desk, e) {
    desk.upsert({ ...e, state: "offered", waiting_since: e.waiting_since || e.occurred_at });
    const c = desk.conversations.get(e.conversation_id);
    desk.offers.show({ ...e, customer_name: e.customer_name || (c && c.customerName) });
  },
  offer_revoked(desk, e) {
    desk.offers.remove(e.offer_id);
    const c = desk.conversations.get(e.conversation_id);
    if (c && c.state === "offered") desk.leave(c.id);
  },
  async assigned(desk, e) {
    desk.offers.remove(e.offer_id);
    const c = desk.upsert({ ...e, state: "connected" });
    for (const item of e.history || []) c.log.add(normalize(item, { conversationId: c.id, channel: c.channel, customer: c.customerName }));
    if (!desk.active) await desk.select(c.id);
  },
  message(desk, e) {
    const c = desk.conversations.get(e.conversation_id) || desk.upsert({ ...e, state: "connected" });
    const added = c.log.add(normalize(e, { conversationId: c.id, channel: c.channel, customer: c.customerName }));
    if (added && added.direction === "inbound" && !["edit", "unsend"].includes(added.kind) && (desk.active !== c || document.hidden)) c.unread += 1;
    if (desk.active === c) desk.renderLog();
  },
  receipt(desk, e) {
    const c = desk.conversations.get(e.conversation_id);
    if (!c) return;
    const id = e.outbound_id || e.message_id || (e.message && e.message.message_id);
    const m = c.log.receipt(id, e.status || e.receipt);
    if (m && desk.active === c) desk.renderLog();
  },
  typing(desk, e) {
    const c = desk.conversations.get(e.conversation_id);
    if (desk.active === c) {
      const p = document.getElementById("policy");
      p.dataset.typing = "customer is typing…";
      setTimeout(() => { delete p.dataset.typing; }, 4000);
    }
  },
  policy(desk, e) {
    const c = desk.conversations.get(e.conversation_id);
    if (!c) return;
    c.policy = { ...(c.policy || {}), ...(e.policy || e) };
    if (desk.active === c) desk.composer.policy(c.policy);
    desk.loadPolicy(c);   // the full view (templates, quota, tier) from the policy API
  },
  // The agent who takes a transferred conversation is told too, with `from_agent_id` (streams/routing/offers.py):
  // only the transferring agent leaves, at once for a blind transfer (a consult one ends in wrap-up).
  transferred(desk, e) {
    const incoming = e.from_agent_id && e.from_agent_id !== desk.me.person_id;
    const c = desk.conversations.get(e.conversation_id);
    if (incoming) { if (c) { c.transferNote = e.note || null; c.transferredFrom = e.from_agent_id; } return; }
    if (e.reason !== "consult") desk.leave(e.conversation_id);
  },
  conversation_ended(desk, e) {
    const c = desk.conversations.get(e.conversation_id);
    if (c) { c.state = "ended"; desk.renderList(); }
  },
  wrapup_required(desk, e) {
    const c = desk.conversations.get(e.conversation_id) || desk.upsert(e);
    c.state = "wrapup";
    c.wrapup = { ...(c.wrapup || {}), codes: e.wrapup_codes && e.wrapup_codes.length ? e.wrapup_codes : (c.wrapup && c.wrapup.codes) || [],
      mode: e.acw_mode || e.mode || (c.wrapup && c.wrapup.mode), timeout_seconds: e.timeout_seconds || (c.wrapup && c.wrapup.timeout_seconds) };
    desk.renderList();
    if (desk.active === c && !document.querySelector("dialog[open]")) openWrapup(c, () => desk.leave(c.id));
  },
  wrapped_up(desk, e) { if (desk.conversations.has(e.conversation_id)) desk.leave(e.conversation_id); },
  work_started(desk, e) { workStarted(e); },
  work_ended(desk, e) { workEnded(e); },
  presence_changed(desk, e) { desk.presence && desk.presence(e.presence || e.status, e.on_queue); },
  not_responding(desk, e) {
    desk.offers.remove(e.offer_id);
    desk.composer.error("You did not answer an offer: you are off queue until you choose Available · on queue.");
    desk.presence && desk.presence("available", false);
  },
};

export function apply(desk, event) {
  const handler = HANDLERS[event.type];
  if (handler) return handler(desk, event);
  return undefined;   // an event type this page does not know yet: ignored, still acknowledged
}
