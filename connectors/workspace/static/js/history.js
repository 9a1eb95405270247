// The customer's history above the conversation: who the customer is (every channel identity and
// detail, and how each was matched: GET /conversations/{id}/history `customer`), then earlier
// conversations by channel, oldest first.
import { channelOf, iconUrl } from "./channels.js";
import { MessageLog, normalize } from "./messages.js";
import { el, messageNode, time } from "./render.js";

export function renderHistory(root, items) {
  const groups = new Map();
  for (const item of [...items].reverse()) {   // the API pages newest first; show oldest first
    const key = item.conversation_id || "earlier";
    if (!groups.has(key)) groups.set(key, new MessageLog());
    groups.get(key).add(normalize(item));
  }
  root.replaceChildren(...[...groups].map(([id, log]) => {
    const first = log.order[0], channel = first.channel;
    return el("section", { class: "earlier", "data-conversation-id": id, "aria-label": `Earlier conversation on ${channelOf(channel).name}` },
      el("h3", {}, el("img", { src: iconUrl(channel), alt: "", width: 14, height: 14 }),
        el("span", { text: ` ${channelOf(channel).name} · ${time(first.at)} · ${new Date(first.at || 0).toLocaleDateString()}` })),
      el("ol", { class: "log" }, log.order.map((m) => messageNode(m, log))));
  }));
  if (!groups.size) root.append(el("p", { class: "muted", text: "No earlier conversations." }));
}

function channelIcon(channel) {
  return channel ? el("img", { src: iconUrl(channel), alt: channelOf(channel).name, width: 14, height: 14 }) : null;
}

function how(entry) {
  return entry.matched_by ? el("span", { class: "muted", text: ` — ${entry.matched_by}` }) : null;
}

// A suggested merge (a detail the customer typed matches another customer): the agent confirms or rejects it.
function suggestionNode(s, onAnswer) {
  const answer = (decision) => () => onAnswer && onAnswer(s, decision);
  return el("div", { class: "suggestion", role: "group", "aria-label": "Merge suggestion" },
    el("p", { text: `Same person? ${s.detail_type} ${s.detail_value} — ${s.reason}` }),
    el("button", { type: "button", class: "confirm-merge", onclick: answer("confirm"), text: "Same customer: merge" }),
    " ",
    el("button", { type: "button", class: "reject-merge", onclick: answer("reject"), text: "Not the same" }));
}

export function renderIdentity(root, identity, onAnswer) {
  root.replaceChildren();
  if (!identity) return;
  if (Array.isArray(identity)) identity = { identities: identity };
  const merged = (identity.customers || []).filter((id) => id !== identity.customer_id);
  const names = identity.names && identity.names.length ? identity.names : identity.name ? [identity.name] : [];
  root.append(el("p", { class: "customer-head" }, el("strong", { text: names.join(" / ") || "Name not known" }), " ",
    el("span", { class: "muted", text: `customer ${identity.customer_id || ""}` +
      `${merged.length ? ` (merged with ${merged.join(", ")})` : ""}` })));
  const identities = identity.identities || [];
  root.append(el("h4", { text: "Channel identities" }), el("ul", { class: "identities", "aria-label": "Channel identities" },
    identities.map((i) => el("li", {}, channelIcon(i.channel),
      el("span", { text: ` ${channelOf(i.channel).name} ${i.external_id || i.display_name || ""}` }), how(i)))));
  if (!identities.length) root.append(el("p", { class: "muted", text: "No channel identity recorded yet." }));
  const details = identity.details || [];
  if (details.length) {
    root.append(el("h4", { text: "Details" }), el("ul", { class: "identities", "aria-label": "Customer details" },
      details.map((d) => el("li", {}, el("span", { text: `${d.type}: ${d.value}` }),
        d.agent_entered ? el("span", { class: "muted", text: " (entered by an agent)" }) : null, how(d)))));
  }
  for (const s of identity.suggestions || []) root.append(suggestionNode(s, onAnswer));
  for (const flag of identity.flags || []) {
    root.append(el("p", { class: "muted", text: `possible match, not merged: ${flag.reason}` }));
  }
}
