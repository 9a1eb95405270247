// What the composer knows per channel when the conversation details do not say (channels/*.py SPEC).
export const CHANNELS = {
  messenger: { name: "Messenger", text: 2000, image: true, stickers: false },
  whatsapp: { name: "WhatsApp", text: 4096, image: true, stickers: false },
  line: { name: "LINE", text: 5000, image: true, stickers: true },
  x: { name: "X", text: 10000, image: true, stickers: false },
  open: { name: "Open Messaging", text: 20000, image: true, stickers: false },
  web: { name: "Web chat", text: 20000, image: true, stickers: false },
};

// LINE's free sticker package 446 (Moon & James / Brown & Cony), ids from LINE's sticker list.
export const LINE_STICKERS = [
  ["446", "1988", "👍 OK"], ["446", "1989", "😊 Thanks"], ["446", "1990", "🙇 Sorry"],
  ["446", "1991", "🎉 Yay"], ["446", "1992", "🤔 Hmm"], ["446", "1993", "👋 Bye"],
];

export const EMOJI = ["😊", "😀", "😂", "🙏", "👍", "👋", "❤️", "🎉", "😉", "🤔", "😢", "😮", "✅", "⭐", "📦", "💳"];

export function channelOf(name) { return CHANNELS[name] || { name: name || "unknown", text: 2000, image: false, stickers: false }; }

// Relative to this module, so the page works wherever the edge mounts it.
export function iconUrl(channel) { return new URL(`../icons/${CHANNELS[channel] ? channel : "open"}.svg`, import.meta.url).href; }

// The composer's rules: from GET /conversations/{id} (limits / capabilities) over the table above.
export function rulesOf(details) {
  const base = channelOf(details.channel);
  const caps = details.capabilities || details.content || {};
  const limits = details.limits || {};
  const text = limits.text || (typeof caps.text === "number" ? caps.text : null) || details.max_text_length || base.text;
  const image = caps.image ?? base.image;
  const stickers = details.channel === "line" && (caps.sticker ?? base.stickers);
  return { name: base.name, text, image, stickers };
}
