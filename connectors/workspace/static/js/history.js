// The customer's history above the conversation: earlier conversations by channel, and who the
// customer is (identities and how they were matched) — whatever the history API gives.
import { channelOf, iconUrl } from "./channels.js";
import { normalize } from "./messages.js";
import { el, messageNode, time } from "./render.js";

export function renderHistory(root, items) {
  const groups = new Map();
  for (const item of [...items].reverse()) {   // the API pages newest first; show oldest first
    const key = item.conversation_id || "earlier";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(normalize(item));
  }
  root.replaceChildren(...[...groups].map(([id, messages]) => {
    const channel = messages[0].channel;
    return el("section", { class: "earlier", "data-conversation-id": id, "aria-label": `Earlier conversation on ${channelOf(channel).name}` },
      el("h3", {}, el("img", { src: iconUrl(channel), alt: "", width: 14, height: 14 }),
        el("span", { text: ` ${channelOf(channel).name} · ${time(messages[0].at)} · ${new Date(messages[0].at || 0).toLocaleDateString()}` })),
      el("ol", { class: "log" }, messages.map(messageNode)));
  }));
  if (!groups.size) root.append(el("p", { class: "muted", text: "No earlier conversations." }));
}

export function renderIdentity(root, identity) {
  root.replaceChildren();
  if (!identity) return;
  const list = Array.isArray(identity) ? identity : identity.identities || [identity];
  const head = !Array.isArray(identity) && (identity.name || identity.customer_id)
    ? el("p", {}, el("strong", { text: identity.name || "" }), " ", el("span", { class: "muted", text: identity.customer_id || "" })) : null;
  root.append(...[head, el("ul", { class: "identities" }, list.map((i) => el("li", {},
    i.channel ? el("img", { src: iconUrl(i.channel), alt: channelOf(i.channel).name, width: 14, height: 14 }) : null,
    el("span", { text: ` ${[i.display_name, i.external_id, i.email, i.phone].filter(Boolean).join(" · ")}` }),
    i.reason || i.matched_by ? el("span", { class: "muted", text: ` — ${i.reason || i.matched_by}` }) : null)))].filter(Boolean));
  for (const key of ["emails", "phones"]) {
    if (identity[key] && identity[key].length) root.append(el("p", { class: "muted", text: `${key}: ${identity[key].join(", ")}` }));
  }
}
