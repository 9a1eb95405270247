// The agent desk: conversations (several at once), the active one with history, push events.
import { api, listOf } from "./api.js";
import { channelOf, iconUrl } from "./channels.js";
import { Composer } from "./composer.js";
import { openTransfer, openWrapup } from "./dialogs.js";
import { MessageLog, normalize } from "./messages.js";
import { Offers } from "./offers.js";
import { el, messageNode, since } from "./render.js";
import { renderHistory, renderIdentity } from "./history.js";

const $ = (id) => document.getElementById(id);
// Without a name, the customer's id on the platform (the last part of `<tenant>:<channel>:<account>:<id>`).
export function customerOnThread(threadKey) { return threadKey ? threadKey.split(":").slice(3).join(":") || null : null; }

function knownName(desk, customerId) { return (customerId && desk.names && desk.names.get(customerId)) || null; }

export class Desk {
  constructor(me) {
    this.me = me;
    this.conversations = new Map();
    this.active = null;
    this.composer = new Composer((c, content) => this.send(c, content));
    this.offers = new Offers($("offers"), (o) => this.accept(o), (o) => this.decline(o));
    $("transfer-open").onclick = () => this.active && openTransfer(this.active, () => this.leave(this.active.id));
    $("end").onclick = () => this.active && api.end(this.active.id).catch((e) => this.composer.error(e.message));
    $("wrapup-open").onclick = () => this.active && openWrapup(this.active, () => this.leave(this.active.id));
    $("customer-form").onsubmit = (event) => this.saveCustomer(event);
    $("history-more").onclick = () => this.loadHistory(this.active, true);
    $("customer-box").addEventListener("toggle", (event) => { if (event.target.open && this.active) this.loadHistory(this.active); });
    addEventListener("keydown", (event) => this.shortcut(event));
    setInterval(() => this.renderList(), 1000);
  }

  async load() {
    const [conversations, offers] = await Promise.all([api.conversations(), api.offers().catch(() => [])]);
    for (const c of listOf(conversations, "conversations")) this.upsert(c);
    for (const o of listOf(offers, "offers")) { this.offers.show(o); this.upsert({ ...o, state: "offered" }); }
    this.renderList();
    const first = [...this.conversations.values()].find((c) => c.state !== "offered");
    if (first && !this.active) this.select(first.id);
  }

  upsert(raw) {
    const id = raw.conversation_id || raw.id;
    if (!id) return null;
    const c = this.conversations.get(id) || { id, log: new MessageLog(), unread: 0, draft: "", attachments: [] };
    c.channel = raw.channel || c.channel;
    c.platformId = customerOnThread(raw.thread_key) || c.platformId;
    c.customerId = raw.customer_id || c.customerId;
    c.customerName = raw.customer_name || (raw.customer && typeof raw.customer === "object" && (raw.customer.name || raw.customer.display_name)) ||
      c.customerName || knownName(this, c.customerId);
    // The name when anything told us one, with the platform id beside it (the agent recognizes either).
    c.customer = [c.customerName, c.platformId].filter(Boolean).join(" · ") || raw.customer_id || c.customer;
    c.queue = raw.queue_id || raw.queue || c.queue;
    c.state = raw.state || c.state || "connected";
    c.waitingSince = raw.waiting_since || raw.created_at || c.waitingSince;
    c.offerId = raw.offer_id || c.offerId;
    if (typeof raw.unread === "number") c.unread = raw.unread;
    if (raw.wrapup_codes && raw.wrapup_codes.length) c.wrapupCodes = raw.wrapup_codes;
    this.conversations.set(id, c);
    return c;
  }

  renderList() {
    const list = $("conversation-list");
    const items = [...this.conversations.values()];
    list.replaceChildren(...items.map((c) => el("li", { class: c === this.active ? "active" : "" },
      el("button", { type: "button", class: "conv-item", "data-conversation-id": c.id, "aria-current": c === this.active ? "true" : null,
        onclick: () => this.select(c.id) },
        el("img", { src: iconUrl(c.channel), alt: channelOf(c.channel).name, width: 18, height: 18 }),
        el("span", { class: "conv-name", text: c.customer || c.id }),
        el("span", { class: "conv-state", text: c.state }),
        el("span", { class: "wait", title: "waiting", text: since(c.waitingSince) }),
        c.unread ? el("span", { class: "unread", "aria-label": `${c.unread} unread`, text: String(c.unread) }) : null))));
    const unread = items.reduce((n, c) => n + (c.unread || 0), 0);
    document.title = unread ? `(${unread}) Switchboard` : "Switchboard";
  }

  async select(id) {
    const c = this.conversations.get(id);
    if (!c) return;
    this.active = c;
    c.unread = 0;
    $("empty").hidden = true;
    $("active").hidden = false;
    $("active-icon").src = iconUrl(c.channel);
    $("active-icon").alt = channelOf(c.channel).name;
    $("active-title").textContent = `${c.customer || c.id} · ${channelOf(c.channel).name}${c.queue ? ` · ${c.queue}` : ""}`;
    this.renderLog();
    this.composer.attach(c);
    this.renderList();
    if (!c.details) await this.loadDetails(c);
    if (this.active === c) { this.composer.attach(c); this.composer.policy(c.policy); }
    this.loadPolicy(c);
    if (!c.history) await this.loadHistory(c);
  }

  async loadPolicy(c) {
    try {
      c.policy = await api.policy(c.id);
      if (this.active === c) this.composer.policy(c.policy);
    } catch { /* no policy view yet (404): keep what the socket said */ }
  }

  async loadDetails(c) {
    try {
      const [d, pushed] = await Promise.all([api.conversation(c.id), api.messages(c.id).catch(() => null)]);
      for (const m of listOf(pushed, "messages")) c.log.add(normalize(m, { conversationId: c.id, channel: c.channel, customer: c.customerName }));
      c.details = d;
      this.upsert({ ...d, conversation_id: c.id });
      c.wrapup = d.wrapup || { codes: d.wrapup_codes || c.wrapupCodes, mode: d.wrapup_mode || d.acw_mode, timeout_seconds: d.wrapup_timeout_seconds };
      c.policy = d.policy || c.policy;
      for (const m of d.messages || []) c.log.add(normalize(m, { conversationId: c.id, channel: c.channel }));
      if (this.active === c) this.renderLog();
    } catch (exc) { this.composer.error(exc.message); }
  }

  async loadHistory(c, older = false) {
    if (!c) return;
    try {
      const page = await api.history(c.id, older ? c.historyNext : null);
      const items = listOf(page, "messages", "history");
      c.history = older ? [...(c.history || []), ...items] : items;
      c.historyNext = page && page.next;
      c.identity = (page && (page.customer || page.identity || page.identities)) || c.identity;
      this.learnName(c);
      for (const item of items) {
        if ((item.conversation_id || "") === c.id) c.log.add(normalize(item, { conversationId: c.id, channel: c.channel, customer: c.customerName }));
      }
    } catch (exc) { c.history = c.history || []; }
    if (this.active !== c) return;
    renderIdentity($("identity"), c.identity, (s, decision) => this.answerSuggestion(c, s, decision));
    renderHistory($("history"), (c.history || []).filter((item) => (item.conversation_id || "") !== c.id));
    $("history-more").hidden = !c.historyNext;
    this.renderLog();
  }

  // The log in order, each message's node rebuilt only when it changed (receipt, edit, signed media).
  renderLog() {
    const c = this.active, log = $("log");
    if (!c) return;
    if (log.dataset.conversationId !== c.id) { log.dataset.conversationId = c.id; log.replaceChildren(); }
    const nodes = new Map([...log.children].map((n) => [n.dataset.messageId, n]));
    let previous = null;
    for (const m of c.log.order) {
      let node = nodes.get(m.key);
      nodes.delete(m.key);
      if (!node || node.dataset.version !== String(m.version)) {
        const fresh = messageNode(m, c.log);
        if (node) node.replaceWith(fresh);
        node = fresh;
      }
      const want = previous ? previous.nextSibling : log.firstChild;
      if (want !== node) log.insertBefore(node, want);
      previous = node;
    }
    for (const stale of nodes.values()) stale.remove();
    log.scrollTop = log.scrollHeight;
  }

  async send(c, content) {
    const clientId = crypto.randomUUID();
    const pending = { id: clientId, clientId, direction: "outbound", channel: c.channel, content, at: Date.now(),
      sender: this.me.name, receipt: "sending", version: 0 };
    c.log.add(pending);
    if (this.active === c) this.renderLog();
    try {
      const answer = await api.send(c.id, content, clientId);
      // The echo (a `message` event with message_id = outbound_id) merges into this one, shown once.
      if (answer && answer.outbound_id) {
        const echo = c.log.byId.get(answer.outbound_id);
        pending.outboundId = answer.outbound_id;
        if (echo && echo !== pending) { c.log.order = c.log.order.filter((m) => m !== echo); c.log.merge(pending, echo); }
        c.log.byId.set(answer.outbound_id, pending);
      }
      this.mark(c, pending, "accepted");
    } catch (exc) { this.mark(c, pending, "failed"); throw exc; }
  }

  mark(c, message, status) {
    c.log.receipt(message.outboundId || message.id, status);
    if (this.active === c) this.renderLog();
  }

  // The customer's name from the identity details (history API), for the list, the title and offers.
  learnName(c) {
    const name = c.identity && !Array.isArray(c.identity) && (c.identity.name || (c.identity.names || [])[0]);
    if (!name) return;
    this.names = this.names || new Map();
    for (const id of [c.customerId, ...((c.identity.customers) || [])]) if (id) this.names.set(id, name);
    this.upsert({ conversation_id: c.id, customer_name: name });
    this.renderList();
  }

  async accept(offer) {
    this.offers.remove(offer.offer_id);
    // "connected" only when routing's `assigned` says so: acting before it would be refused (409).
    try { await api.accept(offer.offer_id); const c = this.upsert(offer); if (c && c.state === "offered") c.state = "accepting"; this.renderList(); }
    catch (exc) { this.composer.error(exc.message); }
  }

  async decline(offer) {
    this.offers.remove(offer.offer_id);
    await api.decline(offer.offer_id).catch(() => {});
    this.leave(offer.conversation_id);
  }

  leave(id) {
    this.conversations.delete(id);
    if (this.active && this.active.id === id) {
      this.active = null;
      $("active").hidden = true;
      $("empty").hidden = false;
      const next = [...this.conversations.values()].find((c) => c.state !== "offered");
      if (next) this.select(next.id);
    }
    this.renderList();
  }

  async answerSuggestion(c, s, decision) {
    try {
      await api.answerSuggestion(c.id, { decision, customer_id: s.customer_id, detail_type: s.detail_type, detail_value: s.detail_value });
      this.composer.error("");
    } catch (exc) { this.composer.error(exc.message); return; }
    this.lookAgain(c);
  }

  // A claim or an answer is decided by the identity processor a moment later: look again.
  lookAgain(c) {
    for (const ms of [1000, 3000, 6000, 12000, 20000, 35000, 60000]) setTimeout(() => { if (this.active === c) this.loadHistory(c); }, ms);
  }

  async saveCustomer(event) {
    event.preventDefault();
    const form = event.target, details = {};
    if (form.email.value) details.email = form.email.value;
    if (form.phone.value) details.phone = form.phone.value;
    const c = this.active;
    try { await api.customer(c.id, details); this.composer.error(""); form.reset(); }
    catch (exc) { this.composer.error(exc.message); return; }
    this.lookAgain(c);
  }

  shortcut(event) {
    if (!event.altKey) return;
    const ids = [...this.conversations.values()].filter((c) => c.state !== "offered").map((c) => c.id);
    const at = this.active ? ids.indexOf(this.active.id) : -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = ids[(at + (event.key === "ArrowDown" ? 1 : ids.length - 1)) % ids.length];
      if (next) this.select(next);
    } else if (event.key.toLowerCase() === "a" || event.code === "KeyA") {
      event.preventDefault();
      const offerId = this.offers.first();
      const c = [...this.conversations.values()].find((x) => x.offerId === offerId);
      if (offerId) this.accept({ offer_id: offerId, conversation_id: c && c.id });
    }
  }
}
