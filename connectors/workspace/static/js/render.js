// DOM building that never parses data as HTML: every string lands in textContent or an attribute.
import { channelOf, iconUrl } from "./channels.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function time(ms) {
  if (!ms) return "";
  const d = new Date(typeof ms === "number" ? ms : Date.parse(ms));
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function since(ms, now = Date.now()) {
  const t = typeof ms === "number" ? ms : Date.parse(ms);
  if (!t) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

// Only http(s) and our own relative media URLs become links or images (no javascript: URLs).
export function safeUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch { return null; }
}

function link(url, label) {
  const href = safeUrl(url);
  return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label || url }) : el("span", { text: label || url || "" });
}

const TEXT_URL = /(https?:\/\/[^\s<>"]+)/g;

function textWithLinks(text) {
  const parts = String(text).split(TEXT_URL);
  return parts.map((part, i) => (i % 2 ? link(part) : document.createTextNode(part)));
}

// One content item (schemas/avro/common/ContentItem.avsc and what later versions add).
export function contentItem(item) {
  const url = item.url || item.media_url;
  switch (item.type) {
    case "text": return el("p", { class: "text" }, textWithLinks(item.text || ""));
    case "url": return el("p", { class: "text" }, item.text ? textWithLinks(item.text) : link(url));
    case "image": {
      const src = safeUrl(url);
      return el("figure", { class: "media" }, src ? el("img", { src, alt: item.text || "image from the conversation", loading: "lazy" })
        : el("span", { class: "muted", text: "image (not fetched yet)" }), item.text ? el("figcaption", { text: item.text }) : null);
    }
    case "sticker": {
      const src = safeUrl(url);
      return src ? el("img", { class: "sticker", src, alt: "sticker" }) : el("span", { class: "sticker", text: `sticker ${item.sticker_package_id || ""}/${item.sticker_id || ""}` });
    }
    case "location": {
      const map = item.latitude != null ? `https://www.openstreetmap.org/?mlat=${item.latitude}&mlon=${item.longitude}#map=16/${item.latitude}/${item.longitude}` : null;
      return el("p", { class: "location" }, "📍 ", el("span", { text: [item.title, item.address].filter(Boolean).join(", ") || "location" }), " ", map ? link(map, "map") : null);
    }
    case "contact": return el("p", { class: "contact" }, "👤 ", el("span", { text: [item.title, item.text, item.payload].filter(Boolean).join(" · ") }));
    case "order": return orderItem(item);
    case "video": case "audio": case "file":
      return el("p", { class: "file" }, `${item.type}: `, url ? link(url, item.title || item.text || item.mime_type || "open") : el("span", { text: item.title || item.mime_type || "not fetched yet" }));
    case "postback": case "quick_reply": return el("p", { class: "button-reply" }, "▸ ", el("span", { text: item.text || item.title || item.payload || "" }));
    case "template": return el("p", { class: "template" }, "template: ", el("span", { text: item.title || item.text || "" }));
    default: return el("p", { class: "muted", text: `${item.raw_type || item.type || "unsupported"} message` });
  }
}

function orderItem(item) {
  let lines = item.items || [];
  if (!lines.length && item.payload) { try { lines = JSON.parse(item.payload).items || []; } catch { lines = []; } }
  return el("div", { class: "order" }, el("strong", { text: `🛒 order ${item.title || ""}` }),
    el("ul", {}, lines.map((line) => el("li", { text: `${line.quantity ?? 1} × ${line.name || line.product_retailer_id || line.id || ""} ${line.price ?? line.item_price ?? ""} ${line.currency || ""}` }))));
}

// A message in the log: direction, sender, content, quoted message, edit/unsend marks, receipt.
export function messageNode(message) {
  const out = message.direction === "outbound";
  const channel = message.channel;
  const node = el("li", { class: `message ${out ? "out" : "in"}`, "data-message-id": message.id });
  const meta = el("div", { class: "meta" },
    channel ? el("img", { src: iconUrl(channel), alt: channelOf(channel).name, width: 14, height: 14, class: "channel-icon" }) : null,
    el("span", { class: "who", text: out ? (message.sender || "agent") : (message.sender || "customer") }),
    el("time", { text: time(message.at) }),
    out ? el("span", { class: "receipt", "aria-label": "delivery", text: receiptMark(message.receipt) }) : null);
  node.append(meta);
  if (message.quoted) node.append(el("blockquote", { class: "quoted" }, el("span", { text: message.quoted })));
  if (message.forwarded) node.append(el("p", { class: "muted", text: "forwarded" }));
  if (message.unsent) node.append(el("p", { class: "muted", text: "message unsent by the customer" }));
  else for (const item of message.content) node.append(contentItem(item));
  if (message.edited) node.append(el("p", { class: "muted", text: "edited" }));
  return node;
}

export function receiptMark(status) {
  return { sending: "…", accepted: "✓", sent: "✓", delivered: "✓✓", read: "✓✓ read", failed: "✗ failed", rejected: "✗ rejected" }[status] || "";
}
