// One shape for a message whether it comes from a push event, the messages or history API or an offer.
// Fields are read defensively: the pipeline may carry a message's attributes (reply, forward, edit,
// unsend: schemas/avro/inbound-message/v2.avsc) on the event under the same names, or in `attributes`.
export function normalize(raw, fallback = {}) {
  const m = raw.message && typeof raw.message === "object" ? { ...raw, ...raw.message } : raw;
  const attrs = m.attributes && typeof m.attributes === "object" ? m.attributes : {};
  let content = m.content, sparse = false;
  if (typeof content === "string") content = [{ type: "text", text: content }];
  if (!Array.isArray(content) || !content.length) {
    // History rows carry text and content types only (sink/history.py): name what is not text.
    sparse = true;
    content = [...(m.text ? [{ type: "text", text: m.text }] : []),
      ...(m.content_types || []).filter((t) => t !== "text" && t !== "url").map((t) => ({ type: t }))];
  }
  const at = m.occurred_at || m.occurred_ms || m.sent_at || m.received_at || m.created_at || m.at;
  const raw_direction = m.direction || (m.outbound_id ? "outbound" : "inbound");
  const direction = raw_direction === "outbound" || raw_direction === "out" ? "outbound" : "inbound";
  const kind = m.kind || m.message_kind || attrs.kind || null;
  return {
    // An item without any id (the offer's recent history) is known by when, which way and what it said.
    id: m.message_id || m.outbound_id || m.client_id || m.event_id || m.id || `${at}:${direction}:${m.text || ""}`,
    outboundId: m.outbound_id || (direction === "outbound" ? m.message_id : null) || null,
    clientId: m.client_id || null,
    platformId: m.platform_message_id || attrs.platform_message_id || null,
    conversationId: m.conversation_id || fallback.conversationId,
    direction,
    channel: m.channel || fallback.channel,
    content, sparse, at,
    // The customer's name when anything carries it; an agent_id on an inbound event is whose feed it is.
    sender: direction === "outbound" ? (m.agent_name || m.sender_name || m.agent_id || null)
      : (m.sender_name || m.customer_name || m.display_name || (m.sender && m.sender.display_name) || fallback.customer || null),
    receipt: m.receipt || m.status || null,
    replyTo: m.reply_to_message_id || attrs.reply_to_message_id || null,
    quoted: m.reply_to_text || attrs.reply_to_text || m.quoted_text || (m.quoted && m.quoted.text) || null,
    forwarded: !!(m.forwarded || m.frequently_forwarded || attrs.forwarded === "true"),
    frequentlyForwarded: !!(m.frequently_forwarded || attrs.frequently_forwarded === "true"),
    kind,
    target: m.target_message_id || attrs.target_message_id || null,
    edited: !!m.edited || kind === "edit", unsent: !!(m.unsent || m.deleted) || kind === "unsend",
    version: 0,
  };
}

// A conversation's messages, each once: by message id, an echo of our own send by its outbound id
// (or, if the echo beats the POST's answer, by its content), edits and unsends applied to their target.
export class MessageLog {
  constructor() { this.byId = new Map(); this.order = []; }

  add(message) {
    if ((message.kind === "edit" || message.kind === "unsend") && this.amend(message)) return null;
    const known = this.find(message) || this.pendingEcho(message);
    if (known) { this.merge(known, message); return null; }
    message.key = message.id || message.clientId;
    this.alias(message, message.key, message.clientId, message.outboundId, message.platformId);
    this.order.push(message);
    this.order.sort((a, b) => (toMs(a.at) || 0) - (toMs(b.at) || 0));
    return message;
  }

  find(message) {
    for (const id of [message.id, message.clientId, message.outboundId, message.platformId]) {
      if (id && this.byId.has(id)) return this.byId.get(id);
    }
    return null;
  }

  // Our reply's echo (outbound, message_id = outbound_id) before the POST told us that id.
  pendingEcho(message) {
    if (message.direction !== "outbound" || !message.outboundId) return null;
    return this.order.find((m) => m.clientId && !m.outboundId && m.direction === "outbound" && sameText(m, message)) || null;
  }

  alias(message, ...ids) { for (const id of ids) if (id) this.byId.set(id, message); }

  merge(known, message) {
    if (message.outboundId && !known.outboundId) known.outboundId = message.outboundId;
    this.alias(known, message.id, message.outboundId, message.platformId);
    if (message.platformId) known.platformId = known.platformId || message.platformId;
    if (known.sparse && !message.sparse) { known.content = message.content; known.sparse = false; }
    else if (!message.sparse && hasSignedMedia(message) && !hasSignedMedia(known)) known.content = message.content;
    for (const k of ["edited", "unsent", "forwarded", "replyTo", "quoted"]) if (message[k] && !known[k]) known[k] = message[k];
    if (message.receipt && rank(message.receipt) >= rank(known.receipt)) known.receipt = message.receipt;
    if (message.sender && !known.sender) known.sender = message.sender;
    known.version += 1;
  }

  // An edit replaces the shown content ("edited"); an unsend shows "message removed".
  amend(change) {
    const target = change.target && this.byId.get(change.target);
    if (!target) return false;
    if (change.kind === "unsend") target.unsent = true;
    else { target.content = change.content; target.edited = true; target.sparse = false; }
    target.version += 1;
    this.alias(target, change.id);
    // Replies quoting it show the new text too.
    for (const m of this.order) if (m.replyTo && this.byId.get(m.replyTo) === target) m.version += 1;
    return true;
  }

  quotedText(id) {
    const m = id && this.byId.get(id);
    if (!m) return null;
    if (m.unsent) return "message removed";
    return m.content.map((i) => i.text || (i.type !== "text" ? i.type : "")).filter(Boolean).join(" ") || null;
  }

  receipt(id, status) {
    const message = this.byId.get(id);
    if (message && rank(status) >= rank(message.receipt)) { message.receipt = status; message.version += 1; }
    return message;
  }
}

function texts(m) { return m.content.filter((i) => i.type === "text").map((i) => i.text || "").join("\n"); }
function sameText(a, b) { return texts(a) === texts(b) && a.content.length === b.content.length; }
function hasSignedMedia(m) { return m.content.some((i) => i.url && String(i.url).startsWith("/media/")); }

const RANKS = ["sending", "accepted", "sent", "delivered", "read"];
function rank(status) { return status === "failed" || status === "rejected" ? 99 : RANKS.indexOf(status); }
export function toMs(at) { return typeof at === "number" ? at : at ? Date.parse(at) : 0; }
