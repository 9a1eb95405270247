// One shape for a message whether it comes from a push event, the history API or the details.
export function normalize(raw, fallback = {}) {
  const m = raw.message && typeof raw.message === "object" ? { ...raw, ...raw.message } : raw;
  let content = m.content;
  if (typeof content === "string") content = [{ type: "text", text: content }];
  if (!Array.isArray(content) || !content.length) {
    // History rows carry text and content types only (sink/history.py): name what is not text.
    content = [...(m.text ? [{ type: "text", text: m.text }] : []),
      ...(m.content_types || []).filter((t) => t !== "text" && t !== "url").map((t) => ({ type: t }))];
  }
  const at = m.occurred_at || m.occurred_ms || m.sent_at || m.received_at || m.created_at || m.at;
  const direction = m.direction || (m.agent_id && !m.customer_message ? "outbound" : "inbound");
  return {
    // An item without any id (the offer's recent history) is known by when, which way and what it said.
    id: m.message_id || m.outbound_id || m.client_id || m.event_id || m.id || `${at}:${direction}:${m.text || ""}`,
    outboundId: m.outbound_id || null,
    clientId: m.client_id || null,
    conversationId: m.conversation_id || fallback.conversationId,
    direction: direction === "outbound" || direction === "out" ? "outbound" : "inbound",
    channel: m.channel || fallback.channel,
    content,
    at,
    sender: m.sender_name || m.agent_name || m.display_name || m.agent_id || null,
    receipt: m.receipt || m.status || null,
    quoted: m.quoted_text || (m.quoted && (m.quoted.text || m.quoted.message_id)) || m.reply_to_text || null,
    forwarded: !!m.forwarded, edited: !!m.edited, unsent: !!(m.unsent || m.deleted),
  };
}

// A conversation's messages, each once: by message id, and an echo of our own send by client id.
export class MessageLog {
  constructor() { this.byId = new Map(); this.order = []; }

  add(message) {
    const key = message.id || message.clientId;
    const known = this.byId.get(key) || (message.clientId && this.byId.get(message.clientId)) ||
      (message.outboundId && this.byId.get(message.outboundId));
    if (known) { Object.assign(known, pick(message)); return null; }
    this.byId.set(key, message);
    for (const alias of [message.clientId, message.outboundId]) if (alias) this.byId.set(alias, message);
    this.order.push(message);
    this.order.sort((a, b) => (toMs(a.at) || 0) - (toMs(b.at) || 0));
    return message;
  }

  receipt(id, status) {
    const message = this.byId.get(id);
    if (message && rank(status) >= rank(message.receipt)) message.receipt = status;
    return message;
  }
}

function pick(m) {
  const out = {};
  for (const k of ["receipt", "edited", "unsent"]) if (m[k]) out[k] = m[k];
  if (m.id && m.outboundId) out.outboundId = m.outboundId;
  return out;
}

const RANKS = ["sending", "accepted", "sent", "delivered", "read"];
function rank(status) { return status === "failed" || status === "rejected" ? 99 : RANKS.indexOf(status); }
export function toMs(at) { return typeof at === "number" ? at : at ? Date.parse(at) : 0; }
