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

// Only http(s) URLs become links (no javascript: or data: URLs).
export function safeUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch { return null; }
}

// What the page loads (img, video, audio, file links) is only ever our own signed `/media/` path:
// the edge replaced the platform's URL (kept as `source_url`, never loaded: docs/workspace.md, "Media").
export function mediaUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, location.origin);
    return parsed.origin === location.origin && parsed.pathname.startsWith("/media/") ? parsed.href : null;
  } catch { return null; }
}

function link(url, label, check = safeUrl) {
  const href = check(url);
  return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label || url }) : el("span", { text: label || url || "" });
}

const TEXT_URL = /(https?:\/\/[^\s<>"]+)/g;

function textWithLinks(text) {
  const parts = String(text).split(TEXT_URL);
  return parts.map((part, i) => (i % 2 ? link(part) : document.createTextNode(part)));
}

function unavailable(item, what) {
  return el("span", { class: "muted media-error", text: `${what} not available${item.media_error ? `: ${item.media_error}` : ""}` });
}

// One content item (schemas/avro/common/ContentItem/v2.avsc; docs/channels/content.md).
export function contentItem(item) {
  const src = mediaUrl(item.url);
  switch (item.type) {
    case "text": return el("p", { class: "text" }, textWithLinks(item.text || ""));
    case "url": return el("p", { class: "text" }, item.text ? textWithLinks(item.text) : link(item.url, item.title));
    case "image":
      return el("figure", { class: "media" }, src ? el("img", { src, alt: item.text || "image from the conversation", loading: "lazy" })
        : unavailable(item, "image"), item.text ? el("figcaption", { text: item.text }) : null);
    case "sticker":
      return src ? el("img", { class: "sticker", src, alt: "sticker" })
        : el("span", { class: "sticker", text: `sticker ${item.sticker_package_id || ""}/${item.sticker_id || ""}` });
    case "video": case "audio":
      return el("figure", { class: "media" }, src ? el(item.type, { src, controls: true, preload: "metadata" }) : unavailable(item, item.type),
        src ? link(item.url, `download ${item.title || item.type}`, mediaUrl) : null, item.text ? el("figcaption", { text: item.text }) : null);
    case "file":
      return el("p", { class: "file" }, "📄 ", src ? link(item.url, item.title || item.text || item.mime_type || "file", mediaUrl) : unavailable(item, item.title || "file"));
    case "location": return locationItem(item);
    case "contact": return contactItem(item);
    case "order": return orderItem(item);
    case "postback": case "quick_reply": return el("p", { class: "button-reply" }, "▸ ", el("span", { text: item.text || item.title || item.payload || "" }));
    case "reaction": return el("p", { class: "reaction" }, el("span", { text: `reacted ${item.text || ""}` }));
    case "template": return el("p", { class: "template" }, "template: ", el("span", { text: item.title || item.text || item.payload || "" }));
    default: return el("p", { class: "muted", text: `${item.raw_type || item.type || "unsupported"} message` });
  }
}

function locationItem(item) {
  const map = item.url || (item.latitude != null
    ? `https://www.openstreetmap.org/?mlat=${item.latitude}&mlon=${item.longitude}#map=16/${item.latitude}/${item.longitude}` : null);
  return el("div", { class: "location" }, el("strong", { text: `📍 ${item.title || "location"}` }),
    item.address ? el("p", { text: item.address }) : null, map && safeUrl(map) ? el("p", {}, link(map, "open the map")) : null);
}

function points(label, list) {
  return (list || []).map((p) => el("li", { text: `${label}: ${p.value}${p.label ? ` (${p.label})` : ""}` }));
}

function contactItem(item) {
  const c = item.contact || {};
  return el("div", { class: "contact" }, el("strong", { text: `👤 ${c.name || item.title || item.text || "contact"}` }),
    c.organization ? el("p", { class: "muted", text: c.organization }) : null,
    el("ul", {}, points("phone", c.phones), points("email", c.emails), points("web", c.urls), points("address", c.addresses)));
}

function money(value, currency) {
  if (value == null || Number.isNaN(Number(value))) return "";
  try { return currency ? new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value) : String(value); }
  catch { return `${value} ${currency || ""}`.trim(); }
}

function orderItem(item) {
  let lines = (item.order && item.order.items) || item.items || [];
  if (!lines.length && item.payload) { try { lines = JSON.parse(item.payload).items || []; } catch { lines = []; } }
  const currency = (lines.find((l) => l.currency) || {}).currency;
  const priced = lines.every((l) => l.item_price != null || l.price != null);
  const total = lines.reduce((sum, l) => sum + Number(l.quantity ?? 1) * Number(l.item_price ?? l.price ?? 0), 0);
  return el("div", { class: "order" }, el("strong", { text: "🛒 order" }),
    el("ul", {}, lines.map((l) => el("li", { text: `${l.quantity ?? 1} × ${l.product_retailer_id || l.name || l.id || "item"}` +
      `${l.item_price != null || l.price != null ? ` · ${money(l.item_price ?? l.price, l.currency)} each` : ""}` }))),
    lines.length && priced ? el("p", { class: "total", text: `total ${money(total, currency)}` }) : null,
    item.text ? el("p", { class: "muted", text: item.text }) : null);
}

// A message in the log: direction, sender, quoted message, forwarded/edited/removed marks, content, receipt.
export function messageNode(message, log = null) {
  const out = message.direction === "outbound";
  const channel = message.channel;
  const node = el("li", { class: `message ${out ? "out" : "in"}`, "data-message-id": message.key || message.id,
    "data-version": String(message.version || 0) });
  const meta = el("div", { class: "meta" },
    channel ? el("img", { src: iconUrl(channel), alt: channelOf(channel).name, width: 14, height: 14, class: "channel-icon" }) : null,
    el("span", { class: "who", text: message.sender || (out ? "agent" : "customer") }),
    el("time", { text: time(message.at) }),
    out ? el("span", { class: "receipt", "aria-label": "delivery", text: receiptMark(message.receipt) }) : null);
  node.append(meta);
  if (message.replyTo || message.quoted) {
    const quoted = message.quoted || (log && log.quotedText(message.replyTo));
    node.append(el("blockquote", { class: "quoted" }, el("span", { text: quoted || "replying to an earlier message" })));
  }
  if (message.forwarded) node.append(el("p", { class: "muted mark", text: message.frequentlyForwarded ? "forwarded many times" : "forwarded" }));
  if (message.unsent) node.append(el("p", { class: "muted mark", text: "message removed" }));
  else for (const item of message.content) node.append(contentItem(item));
  if (message.edited && !message.unsent) node.append(el("p", { class: "muted mark", text: "edited" }));
  return node;
}

export function receiptMark(status) {
  return { sending: "…", accepted: "✓", sent: "✓", delivered: "✓✓", read: "✓✓ read", failed: "✗ failed", rejected: "✗ rejected" }[status] || "";
}
