// Switchboard's web messaging widget (docs/channels/web.md): one classic script, no build step, no
// framework. The snippet queues commands in `Switchboard.q` and loads this file asynchronously; it
// talks to the edge over the guest API (one WebSocket, JSON frames), reads the history over HTTP
// and uploads attachments with a PUT. Everything it draws lives in a shadow root, so the host
// page's CSS does not reach it and its CSS does not leak out.
(function () {
  "use strict";
  if (window.Switchboard && window.Switchboard.loaded) return;   // the snippet pasted twice

  const SCRIPT = document.currentScript
    || document.querySelector("script[data-deployment-id][src*='widget.js']");
  const DEPLOYMENT = SCRIPT && SCRIPT.dataset.deploymentId;
  const BASE = new URL(SCRIPT ? SCRIPT.src : location.href, location.href);
  const BACKOFF = { firstMs: 500, maxMs: 15000 };   // doubled per failed attempt, then jittered
  const PING_MS = 25000;
  const TYPING_EVERY_MS = 5000;                     // the server passes on one `typing` per 5 s
  const EXPIRY_NOTICE_MS = 5 * 60 * 1000;           // "expires soon" this long before the end
  const PAGE_SIZE = 25;
  const RECENT_KEPT = 20;                           // the last messages shown, kept in the browser
  const EMOJI = ["😀", "😂", "😊", "😍", "🤔", "😢", "😮", "😅", "👍", "👎", "👏", "🙏",
                 "👋", "🎉", "❤️", "🔥", "✅", "❌", "⭐", "☕", "📦", "🚚", "💳", "📷"];

  const ICON = '<svg width="28" height="28" viewBox="0 0 24 24" fill="currentColor"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';

  // ---- small helpers --------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child);
    }
    return el;
  }

  function safeUrl(url) {
    // Only http(s) and our own blob previews are ever put into src/href; relative URLs (the edge's
    // signed /media/ paths) are the edge's, not the host page's.
    if (!url) return null;
    try {
      const parsed = new URL(url, BASE);
      return ["http:", "https:", "blob:"].includes(parsed.protocol) ? parsed.href : null;
    } catch (e) { return null; }
  }

  function linkified(text) {
    // Text stays text (never HTML); URLs in it become links.
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(/https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g)) {
      parts.push(text.slice(last, match.index));
      const href = safeUrl(match[0]);
      parts.push(href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, match[0]) : match[0]);
      last = match.index + match[0].length;
    }
    parts.push(text.slice(last));
    return parts;
  }

  function newToken() {
    // 32 random bytes as base64url: the session's secret, kept in this browser only.
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function epochMs(value) {
    if (value === null || value === undefined || value === "") return null;
    const number = typeof value === "number" ? value : Date.parse(value);
    return Number.isFinite(number) ? number : null;
  }

  // ---- what the browser keeps: the token and the last event id, per deployment ----------------

  class Store {
    constructor(deployment) {
      this.key = `switchboard:${deployment}`;
      this.memory = {};
      try { this.memory = JSON.parse(localStorage.getItem(this.key) || "{}") || {}; } catch (e) { /* private mode */ }
      if (!this.memory.token) this.reset();
    }

    get(name) { return this.memory[name]; }

    set(name, value) {
      this.memory[name] = value;
      try { localStorage.setItem(this.key, JSON.stringify(this.memory)); } catch (e) { /* private mode */ }
    }

    reset() {
      // A new token is a new session: nothing of the old one applies to it.
      this.memory = {};
      this.set("token", newToken());
    }
  }

  // ---- the guest socket: requests by tracingId, events, reconnect with backoff -----------------

  class Connection {
    constructor(url, handlers) {
      this.url = url;
      this.handlers = handlers;   // {opened(), event(frame), closed()}
      this.pending = new Map();
      this.counter = 0;
      this.attempt = 0;
      this.ws = null;
    }

    open() {
      clearTimeout(this.timer);
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => { this.attempt = 0; this.handlers.opened(); };
      ws.onmessage = (message) => this.receive(message.data);
      ws.onclose = () => { if (this.ws === ws) this.lost(); };
      ws.onerror = () => ws.close();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => { if (this.isOpen()) this.request("ping").catch(() => {}); }, PING_MS);
    }

    isOpen() { return Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN; }

    request(action, fields) {
      if (!this.isOpen()) return Promise.reject({ code: "disconnected", message: "not connected" });
      const tracingId = `w-${++this.counter}`;
      this.ws.send(JSON.stringify({ action, tracingId, ...fields }));
      return new Promise((resolve, reject) => this.pending.set(tracingId, { resolve, reject }));
    }

    receive(data) {
      let frame;
      try { frame = JSON.parse(data); } catch (e) { return; }
      if (!frame || typeof frame !== "object") return;
      const waiting = frame.tracingId && this.pending.get(frame.tracingId);
      if (frame.type === "response" && waiting) {
        this.pending.delete(frame.tracingId);
        waiting.resolve(frame.body || {});
      } else if (frame.type === "error" && waiting) {
        this.pending.delete(frame.tracingId);
        waiting.reject(frame);
      } else if (frame.type === "event") {
        this.handlers.event(frame);
      } else if (frame.type === "error") {
        this.handlers.event({ type: "event", event: "error", body: frame });
      }
    }

    lost() {
      clearInterval(this.pinger);
      for (const waiting of this.pending.values()) waiting.reject({ code: "disconnected", message: "connection lost" });
      this.pending.clear();
      this.handlers.closed();
      // Exponential backoff with jitter, so a restarted edge is not met by every visitor at once.
      const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** this.attempt);
      const delay = ceiling / 2 + Math.random() * ceiling / 2;
      this.attempt += 1;
      this.timer = setTimeout(() => this.open(), delay);
    }

    now() {
      // Retry at once (the browser came back online, or the visitor opened the panel).
      if (this.isOpen() || !this.timer) return;
      this.attempt = 0;
      this.open();
    }

    drop() { if (this.ws) this.ws.close(); }   // as the network would; lost() reconnects
  }

  // ---- the look: CSS of the shadow root ---------------------------------------------------------

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { --sb-colour: #2563eb; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #111827; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; }
button, input, textarea { font: inherit; color: inherit; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; cursor: pointer; background: var(--sb-colour);
  color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; position: relative; }
.launcher:focus-visible, button:focus-visible, a:focus-visible, textarea:focus-visible, input:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; border-radius: 10px; padding: 0 6px;
  background: #dc2626; color: #fff; font-size: 12px; line-height: 20px; }
.panel { position: absolute; right: 0; bottom: 68px; width: min(370px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px));
  background: #fff; border-radius: 12px; box-shadow: 0 10px 40px rgba(0,0,0,.25); display: flex; flex-direction: column; overflow: hidden; }
.panel[hidden], [hidden] { display: none !important; }
header { background: var(--sb-colour); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
header h2 { font-size: 16px; margin: 0; flex: 1; }
header .state { font-size: 12px; opacity: .9; }
header button { background: transparent; border: 0; color: #fff; cursor: pointer; font-size: 20px; line-height: 1; padding: 4px 8px; }
.notices { padding: 0 12px; }
.notice { margin: 8px 0 0; padding: 8px 10px; border-radius: 8px; background: #fef3c7; color: #78350f; font-size: 13px; }
.notice.info { background: #e0f2fe; color: #0c4a6e; }
.notice button { margin-left: 6px; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.greeting { align-self: flex-start; background: #f3f4f6; border-radius: 12px; padding: 8px 12px; max-width: 85%; }
.older { align-self: center; }
.message { max-width: 85%; padding: 8px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.message.inbound { align-self: flex-end; background: var(--sb-colour); color: #fff; border-bottom-right-radius: 4px; }
.message.inbound a { color: #fff; }
.message.outbound { align-self: flex-start; background: #f3f4f6; border-bottom-left-radius: 4px; }
.message .who { display: block; font-size: 12px; font-weight: 600; margin-bottom: 2px; }
.message .meta { display: block; font-size: 11px; opacity: .75; margin-top: 2px; text-align: right; }
.message img.image { display: block; max-width: 100%; max-height: 220px; border-radius: 8px; margin-top: 4px; }
.message img.sticker { display: block; width: 96px; height: 96px; margin-top: 4px; }
.message.failed { background: #fee2e2; color: #7f1d1d; }
.typing { padding: 0 14px 6px; font-size: 12px; color: #4b5563; min-height: 18px; }
form.composer { border-top: 1px solid #e5e7eb; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.row { display: flex; gap: 6px; align-items: flex-end; }
textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 8px; padding: 8px; min-height: 40px; max-height: 120px; }
.tool, .send, .primary { border: 1px solid #d1d5db; background: #fff; border-radius: 8px; padding: 8px 10px; cursor: pointer; }
.send, .primary { background: var(--sb-colour); color: #fff; border-color: transparent; }
button[disabled], textarea[disabled] { opacity: .5; cursor: not-allowed; }
.emoji { display: grid; grid-template-columns: repeat(8, 1fr); gap: 2px; }
.emoji button { border: 0; background: transparent; font-size: 20px; cursor: pointer; padding: 4px; border-radius: 6px; }
.emoji button:hover { background: #f3f4f6; }
.uploads { display: flex; flex-direction: column; gap: 4px; font-size: 12px; }
.upload { display: flex; gap: 6px; align-items: center; }
.upload progress { flex: 1; }
.form { padding: 14px; display: flex; flex-direction: column; gap: 8px; overflow-y: auto; }
.form label { display: flex; flex-direction: column; gap: 2px; font-size: 13px; }
.form input, .form textarea { border: 1px solid #d1d5db; border-radius: 8px; padding: 8px; }
.alert { padding: 0 14px; font-size: 12px; color: #b91c1c; min-height: 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

  // ---- the view: builds the DOM and draws what the widget tells it ------------------------------

  class View {
    constructor(widget) {
      this.widget = widget;
      this.host = h("div", { id: "switchboard-widget", "data-deployment-id": DEPLOYMENT });
      this.shadow = this.host.attachShadow({ mode: "open" });
      this.shadow.append(h("style", {}, CSS));
      this.build();
      document.body.append(this.host);
    }

    build() {
      const w = this.widget;
      this.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
      this.launcher = h("button", { class: "launcher", type: "button", "aria-label": "Open chat",
                                    "aria-expanded": "false", "aria-controls": "sb-panel",
                                    onclick: () => (w.isOpen ? w.close() : w.open()) },
        h("span", { class: "icon", "aria-hidden": "true" }), this.badge);
      this.launcher.querySelector(".icon").innerHTML = ICON;   // a constant, never data
      this.title = h("h2", { id: "sb-title" }, "Chat with us");
      this.state = h("span", { class: "state", role: "status" }, "connecting…");
      this.closeButton = h("button", { type: "button", "aria-label": "Close chat", onclick: () => w.close() }, "×");
      this.notices = h("div", { class: "notices" });
      this.greeting = h("p", { class: "greeting" });
      this.olderButton = h("button", { type: "button", class: "tool older", hidden: true, onclick: () => w.loadOlder() },
        "Load earlier messages");
      this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
                            tabindex: "0", onscroll: () => { if (this.log.scrollTop < 40) w.loadOlder(); } },
        this.olderButton, this.greeting);
      this.typing = h("div", { class: "typing", "aria-live": "polite" });
      this.queue = h("div", { class: "typing", role: "status" });
      this.alert = h("div", { class: "alert", role: "alert" });
      this.composer = this.buildComposer();
      this.prechat = h("form", { class: "form", hidden: true, "aria-label": "Before we start" });
      this.offline = h("form", { class: "form", hidden: true, "aria-label": "We are away: leave your details" });
      this.panel = h("section", { class: "panel", id: "sb-panel", role: "dialog", "aria-modal": "true",
                                  "aria-labelledby": "sb-title", hidden: true,
                                  onkeydown: (event) => this.keydown(event) },
        h("header", {}, this.title, this.state, this.closeButton),
        this.notices, this.prechat, this.offline, this.log, this.queue, this.typing, this.alert, this.composer);
      this.root = h("div", { class: "root" }, this.panel, this.launcher);
      this.shadow.append(this.root);
    }

    buildComposer() {
      const w = this.widget;
      this.input = h("textarea", { rows: "1", "aria-label": "Message", placeholder: "Write a message…",
                                   oninput: () => w.typed(),
                                   onkeydown: (event) => {
                                     if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); w.send(); }
                                   } });
      this.fileInput = h("input", { type: "file", hidden: true, "aria-label": "Attachment file",
                                    onchange: () => { w.attach([...this.fileInput.files]); this.fileInput.value = ""; } });
      this.emojiButton = h("button", { type: "button", class: "tool", "aria-label": "Emoji", "aria-expanded": "false",
                                       "aria-controls": "sb-emoji", onclick: () => this.toggleEmoji() }, "😊");
      this.attachButton = h("button", { type: "button", class: "tool", "aria-label": "Attach a file",
                                        onclick: () => this.fileInput.click() }, "📎");
      this.sendButton = h("button", { type: "submit", class: "send", "aria-label": "Send" }, "Send");
      this.emoji = h("div", { class: "emoji", id: "sb-emoji", role: "group", "aria-label": "Emoji", hidden: true },
        EMOJI.map((e) => h("button", { type: "button", "aria-label": `emoji ${e}`, onclick: () => this.insert(e) }, e)));
      this.uploads = h("div", { class: "uploads", "aria-live": "polite" });
      this.ended = h("div", { class: "notice info", hidden: true },
        "This conversation has ended.",
        h("button", { type: "button", class: "primary", onclick: () => w.startNew() }, "Start new conversation"));
      return h("form", { class: "composer",
                         onsubmit: (event) => { event.preventDefault(); w.send(); } },
        this.ended, this.emoji, this.uploads,
        h("div", { class: "row" }, this.emojiButton, this.attachButton, this.input, this.sendButton), this.fileInput);
    }

    // -- panel, focus and keyboard

    show(open) {
      this.panel.hidden = !open;
      this.launcher.setAttribute("aria-expanded", String(open));
      this.launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
      if (open) {
        this.badge.hidden = true;
        this.scrollToEnd();
        this.focusFirst();
      } else if (this.shadow.activeElement) {
        this.launcher.focus();
      }
    }

    keydown(event) {
      if (event.key === "Escape") { event.stopPropagation(); this.widget.close(); return; }
      if (event.key !== "Tab") return;
      // Focus stays in the open panel: Tab from the last control goes to the first, and back.
      const focusable = [...this.panel.querySelectorAll("button, textarea, input:not([type=file]), a[href], [tabindex='0']")]
        .filter((el) => !el.disabled && el.getClientRects().length > 0);
      if (!focusable.length) return;
      const first = focusable[0], last = focusable[focusable.length - 1];
      const active = this.shadow.activeElement;
      if (event.shiftKey && (active === first || !this.panel.contains(active))) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && active === last) { event.preventDefault(); first.focus(); }
    }

    focusFirst() {
      const field = this.firstField();
      if (field) field.focus();
      else if (this.input.disabled && !this.ended.hidden) this.ended.querySelector("button").focus();
      else this.input.focus();
    }

    firstField() {
      const form = !this.prechat.hidden ? this.prechat : !this.offline.hidden ? this.offline : null;
      return form && form.querySelector("input, textarea");
    }

    // -- look and state

    applyLook(look) {
      if (!look) return;
      if (/^#[0-9a-fA-F]{6}$/.test(look.colour || "")) this.root.style.setProperty("--sb-colour", look.colour);
      if (look.name) { this.title.textContent = look.name; this.panel.setAttribute("aria-label", look.name); }
      this.greeting.textContent = look.greeting || "";
      this.greeting.hidden = !look.greeting;
      if (look.language) this.root.lang = look.language;
    }

    connection(text) { this.state.textContent = text; }

    unread(count) {
      this.badge.textContent = String(count);
      this.badge.hidden = !count;
      this.launcher.setAttribute("aria-label", count ? `Open chat, ${count} unread` : "Open chat");
    }

    locked(readOnly) {
      this.ended.hidden = !readOnly;
      for (const el of [this.input, this.sendButton, this.attachButton, this.emojiButton]) el.disabled = readOnly;
    }

    say(text) {
      this.alert.textContent = text || "";
      clearTimeout(this.alertTimer);
      if (text) this.alertTimer = setTimeout(() => { this.alert.textContent = ""; }, 8000);
    }

    notice(id, text, kind) {
      let el = this.notices.querySelector(`[data-notice="${id}"]`);
      if (!text) { if (el) el.remove(); return; }
      if (!el) { el = h("p", { class: `notice ${kind || ""}`, "data-notice": id, role: "status" }); this.notices.append(el); }
      el.textContent = text;
    }

    typingBy(name) { this.typing.textContent = name ? `${name} is typing…` : ""; }

    queued(text) { this.queue.textContent = text || ""; }

    // -- messages

    message(m) {
      // One element per message, kept in time order (history pages and replays arrive out of order).
      const el = h("div", { class: `message ${m.direction}`, "data-sent-at": String(m.sentAt || Date.now()) });
      this.fill(el, m);
      const nearEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 60;
      const later = [...this.log.querySelectorAll(".message")].find((other) => Number(other.dataset.sentAt) > Number(el.dataset.sentAt));
      this.log.insertBefore(el, later || null);
      if (!later && nearEnd) this.scrollToEnd();
      return el;
    }

    fill(el, m) {
      el.replaceChildren();
      if (m.direction === "outbound") el.append(h("span", { class: "who" }, m.senderName || "Agent"));
      const items = m.content || [];
      // Text may come as `text` or as text items of `content`; shown once either way.
      const text = m.text || items.filter((i) => i.type === "text" && i.text).map((i) => i.text).join("\n");
      if (text) el.append(...linkified(text));
      for (const item of items) if (item.type !== "text") el.append(this.item(item));
      el.append(h("span", { class: "meta" }, clock(m.sentAt || Date.now()), h("span", { class: "status" })));
    }

    item(item) {
      const url = safeUrl(item.url);
      if (!url) return item.caption || item.title ? h("span", {}, ` ${item.caption || item.title}`) : "";
      if (item.type === "image") {
        return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
          h("img", { class: "image", src: url, alt: item.caption || item.title || "image" }));
      }
      if (item.type === "sticker") return h("img", { class: "sticker", src: url, alt: item.title || "sticker" });
      return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "link" },
        `\n${item.title || item.caption || url}`);
    }

    status(el, text, failed) {
      const span = el.querySelector(".status");
      if (span) span.textContent = text ? ` · ${text}` : "";
      el.classList.toggle("failed", Boolean(failed));
    }

    scrollToEnd() { this.log.scrollTop = this.log.scrollHeight; }

    keepScroll(change) {
      // Older messages go above what the visitor is reading: keep it where it was.
      const fromEnd = this.log.scrollHeight - this.log.scrollTop;
      change();
      this.log.scrollTop = this.log.scrollHeight - fromEnd;
    }

    clearMessages() { for (const el of this.log.querySelectorAll(".message")) el.remove(); }

    // -- composer parts

    toggleEmoji(open) {
      const show = open === undefined ? this.emoji.hidden : open;
      this.emoji.hidden = !show;
      this.emojiButton.setAttribute("aria-expanded", String(show));
      if (show) this.emoji.querySelector("button").focus();
    }

    insert(text) {
      const { selectionStart: start, selectionEnd: end, value } = this.input;
      this.input.value = value.slice(0, start) + text + value.slice(end);
      this.input.selectionStart = this.input.selectionEnd = start + text.length;
      this.toggleEmoji(false);
      this.input.focus();
    }

    upload(name) {
      const bar = h("progress", { max: "100", value: "0", "aria-label": `Uploading ${name}` });
      const row = h("div", { class: "upload" }, h("span", {}, name), bar);
      this.uploads.append(row);
      return { row, bar };
    }

    // -- forms

    form(form, fields, submitText, onsubmit) {
      const labels = { name: "Name", email: "Email", phone: "Phone", message: "Your question" };
      const types = { email: "email", phone: "tel" };
      form.replaceChildren(h("p", {}, form.getAttribute("aria-label")));
      for (const field of fields) {
        const input = field === "message"
          ? h("textarea", { name: field, rows: "4", required: true })
          : h("input", { name: field, type: types[field] || "text", autocomplete: field === "phone" ? "tel" : field });
        form.append(h("label", {}, labels[field], input));
      }
      form.append(h("button", { type: "submit", class: "primary" }, submitText));
      form.onsubmit = (event) => {
        event.preventDefault();
        const values = Object.fromEntries(fields.map((f) => [f, form.elements[f].value.trim()]).filter(([, v]) => v));
        onsubmit(values);
      };
    }

    mode(which) {
      // "chat", "prechat" or "offline": what the panel shows below its header.
      if (which === this.shown) return;   // a reconnect's session answer: leave the focus alone
      this.shown = which;
      this.prechat.hidden = which !== "prechat";
      this.offline.hidden = which !== "offline";
      for (const el of [this.log, this.composer, this.typing, this.queue]) el.hidden = which !== "chat";
      if (!this.panel.hidden) this.focusFirst();
    }
  }

  // ---- the widget: session, messages, outbox, uploads and the host page's API -----------------

  class Widget {
    constructor() {
      this.store = new Store(DEPLOYMENT);
      this.listeners = { ready: [], message: [], opened: [], closed: [] };
      this.attributes = {};
      this.jwt = null;
      this.session = null;          // the last session response body
      this.messages = new Map();    // messageId -> element: every message is on screen once
      this.outbox = [];             // visitor messages not yet answered by the server
      this.attachments = [];        // uploads of the message being written
      this.unreadCount = 0;
      this.isOpen = false;
      this.historyLoaded = false;
      this.nextBefore = null;
      this.lastTypingAt = 0;
      this.view = new View(this);
      const entry = new URLSearchParams(location.search).get("switchboard_entry");
      if (entry) this.attributes.entryPoint = entry;
      const scheme = BASE.protocol === "https:" ? "wss:" : "ws:";
      this.connection = new Connection(
        `${scheme}//${BASE.host}/webmessaging/v1?deploymentId=${encodeURIComponent(DEPLOYMENT)}`,
        { opened: () => this.configure(), event: (frame) => this.event(frame), closed: () => this.disconnected() });
      window.addEventListener("online", () => this.connection.now());
      document.addEventListener("visibilitychange", () => this.markShownRead());
      this.connection.open();
      if (entry) this.open();
    }

    // -- the host page's API

    command(name, ...args) {
      const commands = {
        open: (options) => { if (options && options.entryPoint) this.setAttributes({ entryPoint: options.entryPoint }); this.open(); },
        close: () => this.close(),
        setUser: (user) => this.setAttributes(user || {}),
        authenticate: (jwt) => this.authenticate(jwt),
        on: (event, fn) => {
          if (!this.listeners[event] || typeof fn !== "function") return;
          this.listeners[event].push(fn);
          if (event === "ready" && this.readyDetail) fn(this.readyDetail);   // a listener added after the fact
        },
      };
      if (!commands[name]) { console.warn(`Switchboard: unknown command ${name}`); return; }
      commands[name](...args);
    }

    emit(event, detail) {
      for (const fn of this.listeners[event] || []) {
        try { fn(detail); } catch (e) { console.error("Switchboard listener failed", e); }
      }
    }

    open() {
      if (this.isOpen) return;
      this.isOpen = true;
      this.unreadCount = 0;
      this.view.unread(0);
      this.view.show(true);
      this.connection.now();
      this.markShownRead();
      this.emit("opened", {});
    }

    close() {
      if (!this.isOpen) return;
      this.isOpen = false;
      this.view.show(false);
      this.emit("closed", {});
    }

    setAttributes(values) {
      const allowed = ["name", "email", "phone", "entryPoint", "language", "page"];
      for (const key of allowed) if (values[key]) this.attributes[key] = String(values[key]);
      if (this.session) this.configure();   // the server keeps the details on the session
    }

    authenticate(jwt) {
      this.jwt = jwt;
      if (!this.session) return;   // configure() sends it
      this.connection.request("authenticate", { token: this.store.get("token"), jwt })
        .then((body) => this.sessionStarted(body), (error) => this.failed(error));
    }

    // -- the session

    configure(startNew) {
      const fields = { token: this.store.get("token"), attributes: { page: location.href, ...this.attributes } };
      if (startNew) fields.startNew = true;
      if (!startNew && this.store.get("since")) fields.since = this.store.get("since");
      if (this.jwt) fields.jwt = this.jwt;
      return this.connection.request("configureSession", fields)
        .then((body) => this.sessionStarted(body), (error) => this.configureFailed(error, startNew));
    }

    sessionStarted(body) {
      const first = !this.session;
      const other = this.session && this.session.sessionId !== body.sessionId;
      this.session = body;
      if (this.store.get("sessionId") !== body.sessionId) this.store.set("recent", []);   // another session's
      this.store.set("sessionId", body.sessionId);
      this.view.connection("online");
      this.view.applyLook(body.look);
      this.applyMedia(body.allowedMedia);
      this.expiry(body);
      if (other) this.forgetMessages();
      this.chooseMode(body);
      this.view.locked(Boolean(body.readOnly) && !this.unlocked);
      if (!this.historyLoaded) { this.showRecent(); this.loadHistory(); }
      this.flush();
      if (first) {
        this.readyDetail = { sessionId: body.sessionId, resumed: Boolean(body.resumed) };
        this.emit("ready", this.readyDetail);
      }
    }

    configureFailed(error, startNew) {
      if (error.code === "disconnected") return;   // the reconnect configures again
      if (error.code === "rate_limited") {   // too many new sessions from this network: the edge says when
        setTimeout(() => this.configure(startNew), (error.retryAfter || 1) * 1000);
        return;
      }
      if (error.code === "session_expired") { this.restart("Your previous chat has expired; this is a new one."); return; }
      if ((error.code === "invalid_jwt" || error.code === "step_down_refused") && this.jwt) {
        this.jwt = null;   // chat on as a guest (or as who the session already is)
        this.failed(error);
        this.configure();
        return;
      }
      if (error.code === "auth_required") {
        this.view.connection("sign in to chat");
        this.view.say("Please sign in on this site to chat with us.");
        this.view.locked(true);
        this.view.ended.hidden = true;
        return;
      }
      this.failed(error);
    }

    restart(why) {
      // The old token's session is gone: a new token, a new session, nothing of the old one shown.
      this.store.reset();
      this.session = null;
      this.forgetMessages();
      this.view.notice("restart", why, "info");
      this.configure(true);
    }

    forgetMessages() {
      this.messages.clear();
      this.view.clearMessages();
      this.historyLoaded = false;
      this.nextBefore = null;
      this.view.olderButton.hidden = true;
    }

    chooseMode(body) {
      // A form already shown stays as it is (what the visitor typed, or the thanks after sending).
      if (body.open === false) {
        if (this.view.shown !== "offline") {
          this.view.form(this.view.offline, ["name", "email", "phone", "message"], "Send", (form) => this.offlineForm(form));
        }
        this.view.mode("offline");
      } else if ((body.prechat || []).length && !this.store.get("prechatDone") && !this.store.get("wrote")) {
        if (this.view.shown !== "prechat") {
          this.view.form(this.view.prechat, body.prechat, "Start chat", (values) => this.prechatDone(values));
        }
        this.view.mode("prechat");
      } else {
        this.view.mode("chat");
      }
    }

    prechatDone(values) {
      this.store.set("prechatDone", true);
      this.view.mode("chat");
      this.setAttributes(values);
    }

    offlineForm(form) {
      this.connection.request("submitOfflineForm", { token: this.store.get("token"), form })
        .then(() => {
          this.view.offline.replaceChildren(h("p", { role: "status" },
            "Thanks! We are closed right now; we will answer as soon as we are back."));
        }, (error) => this.failed(error));
    }

    applyMedia(media) {
      this.allowedMedia = media || { types: [], maxBytes: 0 };
      this.view.fileInput.accept = (this.allowedMedia.types || []).join(",");
      this.view.attachButton.hidden = !(this.allowedMedia.types || []).length;
    }

    expiry(body) {
      clearTimeout(this.expiryTimer);
      const ends = epochMs(body.conversationExpiresAt);
      const session = epochMs(body.expiresAt);
      const soonest = [ends, session].filter((t) => t !== null).sort((a, b) => a - b)[0];
      const update = () => {
        const now = Date.now();
        this.view.notice("expiry", ends && ends - now < EXPIRY_NOTICE_MS && ends > now && !body.readOnly
          ? `This conversation closes at ${clock(ends)} unless you write.` : "");
        this.view.notice("session", session && session - now < EXPIRY_NOTICE_MS && session > now
          ? `Your chat session ends at ${clock(session)}.` : "");
      };
      update();
      if (soonest && soonest - EXPIRY_NOTICE_MS > Date.now()) {
        this.expiryTimer = setTimeout(update, Math.min(soonest - EXPIRY_NOTICE_MS - Date.now() + 50, 2 ** 31 - 1));
      }
    }

    disconnected() {
      this.view.connection("reconnecting…");
      this.view.typingBy("");
    }

    ended() {
      this.unlocked = false;
      this.view.locked(true);
      this.view.notice("expiry", "");
      this.view.queued("");
      this.view.typingBy("");
    }

    startNew() {
      // The next message starts the new conversation on this session (the window has passed).
      this.unlocked = true;
      this.view.locked(false);
      this.view.notice("expiry", "");
      this.view.input.focus();
    }

    // -- server events

    event(frame) {
      const body = frame.body || {};
      const handlers = {
        message: () => this.received(body),
        typing: () => this.agentTyping(body),
        receipt: () => this.receipt(body),
        queueStatus: () => this.queueStatus(body),
        conversationEnded: () => this.ended(),
        sessionExpired: () => this.restart("Your chat session has expired; this is a new one."),
        error: () => this.failed(body),
      };
      if (handlers[frame.event]) handlers[frame.event]();
      if (frame.id) this.store.set("since", frame.id);   // replayed after a reconnect (since)
    }

    received(m) {
      if (!m.messageId) return;
      const existing = this.messages.get(m.messageId);
      if (existing && m.fromHistory && existing.dataset.local) {
        this.view.fill(existing, m);   // the history's copy has the attachments' URLs
        delete existing.dataset.local;
        this.view.status(existing, m.direction === "outbound" ? "" : "sent");
      }
      if (existing) return;   // a replay, or history overlapping what came live: shown once
      const mine = m.clientMessageId && this.outbox.find((o) => o.clientMessageId === m.clientMessageId);
      if (mine) { this.messages.set(m.messageId, mine.el); return; }
      const el = this.view.message({ ...m, direction: m.direction === "outbound" ? "outbound" : "inbound" });
      this.messages.set(m.messageId, el);
      if (!m.fromHistory) this.remember(m);
      el.dataset.messageId = m.messageId;
      if (m.direction === "outbound") {
        this.view.typingBy("");
        this.view.queued("");
        if (!this.isOpen && !m.fromHistory) { this.unreadCount += 1; this.view.unread(this.unreadCount); }
        if (!m.fromHistory) this.markShownRead();
      } else {
        this.view.status(el, "sent");
      }
      this.emit("message", { messageId: m.messageId, direction: m.direction, text: m.text || "", content: m.content || [],
                             senderName: m.senderName || null, sentAt: m.sentAt, conversationId: m.conversationId || null });
    }

    agentTyping(body) {
      clearTimeout(this.typingTimer);
      this.view.typingBy(body.senderName || "Agent");
      this.typingTimer = setTimeout(() => this.view.typingBy(""), body.durationMs || 6000);
    }

    receipt(body) {
      const el = this.messages.get(body.messageId);
      if (el && el.classList.contains("inbound")) this.view.status(el, body.status || "delivered");
    }

    queueStatus(body) {
      const parts = [];
      if (body.position) parts.push(`You are number ${body.position} in the queue`);
      if (body.estimatedWaitSeconds) parts.push(`about ${Math.max(1, Math.round(body.estimatedWaitSeconds / 60))} min`);
      this.view.queued(parts.join(" · "));
    }

    markShownRead() {
      // Agent messages the visitor can see: the panel is open and the page is in front.
      if (!this.isOpen || document.visibilityState === "hidden" || !this.session) return;
      const read = new Set(this.store.get("read") || []);
      for (const [messageId, el] of this.messages) {
        if (!el.classList.contains("outbound") || read.has(messageId)) continue;
        read.add(messageId);
        this.connection.request("markRead", { token: this.store.get("token"), messageId }).catch(() => this.unread(messageId));
      }
      this.store.set("read", [...read].slice(-200));
    }

    unread(messageId) {
      // A read the edge did not take: forgotten, so the next time it is shown it is sent again.
      this.store.set("read", (this.store.get("read") || []).filter((id) => id !== messageId));
    }

    failed(error) {
      const words = {
        file_type_not_allowed: "That kind of file cannot be sent here.",
        file_too_large: "That file is too large.",
        message_too_long: "That message is too long.",
        invalid_jwt: "We could not confirm who you are; please sign in again.",
        step_down_refused: "You are already signed in as someone else.",
        closed: "We are closed right now; please leave a message.",
      };
      if (error.code === "closed") this.chooseMode({ ...(this.session || {}), open: false });
      this.view.say(words[error.code] || error.message || "Something went wrong.");
    }

    // -- history

    showRecent() {
      // The last messages this browser showed: the history (ClickHouse) may not have the newest
      // yet when the page is reloaded right after them.
      for (const m of this.store.get("recent") || []) {
        if (this.messages.has(m.messageId)) continue;
        this.received({ ...m, fromHistory: true });
        const el = this.messages.get(m.messageId);
        if (el) el.dataset.local = "true";
      }
    }

    remember(m) {
      // No media URLs kept (blob previews die with the page, signed ones are not the browser's to
      // keep): the history's copy brings them back.
      const content = (m.content || []).map((item) => (["url", "sticker"].includes(item.type) ? item
        : { type: item.type, caption: item.caption || item.title }));
      const recent = (this.store.get("recent") || []).filter((r) => r.messageId !== m.messageId);
      recent.push({ messageId: m.messageId, direction: m.direction, text: m.text || "", content,
                    senderName: m.senderName || null, sentAt: m.sentAt || Date.now() });
      this.store.set("recent", recent.slice(-RECENT_KEPT));
    }

    loadHistory() {
      this.historyLoaded = true;
      this.nextBefore = null;
      return this.historyPage();
    }

    loadOlder() {
      if (this.nextBefore && !this.loadingOlder) this.historyPage(this.nextBefore);
    }

    historyPage(before) {
      const s = this.session;
      if (!s || !s.historyUrl || !s.historyToken) return Promise.resolve();
      if (epochMs(s.historyTokenExpiresAt) && epochMs(s.historyTokenExpiresAt) < Date.now() + 5000) {
        return this.configure();   // a fresh history token comes with the session response
      }
      const url = new URL(s.historyUrl, BASE);
      url.searchParams.set("pageSize", String(PAGE_SIZE));
      if (before) url.searchParams.set("before", before);
      this.loadingOlder = true;
      return fetch(url, { headers: { Authorization: `Bearer ${s.historyToken}` } })
        .then((answer) => (answer.ok ? answer.json() : Promise.reject(new Error(`history ${answer.status}`))))
        .then((page) => {
          this.view.keepScroll(() => {
            for (const m of page.messages || []) this.received({ ...m, fromHistory: true });
          });
          if (!before) this.view.scrollToEnd();
          this.nextBefore = page.nextBefore || null;
          this.view.olderButton.hidden = !this.nextBefore;
          this.markShownRead();
        })
        .catch((error) => console.warn("Switchboard: history not loaded", error))
        .finally(() => { this.loadingOlder = false; });
    }

    // -- sending

    typed() {
      const now = Date.now();
      if (!this.session || now - this.lastTypingAt < TYPING_EVERY_MS || !this.view.input.value) return;
      this.lastTypingAt = now;
      this.connection.request("typing", { token: this.store.get("token") }).catch(() => {});
    }

    send() {
      const text = this.view.input.value.trim();
      const uploads = this.attachments;
      if (uploads.some((a) => !a.attachmentId)) { this.view.say("Wait until the upload has finished."); return; }
      if (!text && !uploads.length) return;
      const clientMessageId = `c-${newToken().slice(0, 16)}`;
      const content = uploads.map((a) => ({ type: a.type.startsWith("image/") ? "image" : "file", url: a.preview, caption: a.name }));
      const el = this.view.message({ direction: "inbound", text, content, sentAt: Date.now() });
      el.dataset.clientMessageId = clientMessageId;
      this.view.status(el, "sending");
      this.view.scrollToEnd();
      this.outbox.push({ clientMessageId, text, content, attachments: uploads.map((a) => a.attachmentId), el });
      this.view.input.value = "";
      this.attachments = [];
      this.view.uploads.replaceChildren();
      this.flush();
    }

    flush() {
      if (this.flushing || !this.outbox.length || !this.session || !this.connection.isOpen()) return;
      const next = this.outbox[0];
      const message = { clientMessageId: next.clientMessageId };
      if (next.text) message.text = next.text;
      if (next.attachments.length) message.attachments = next.attachments;
      this.flushing = true;
      this.connection.request("onMessage", { token: this.store.get("token"), message })
        .then((body) => this.sent(next, body), (error) => this.notSent(next, error))
        .finally(() => { this.flushing = false; });
    }

    sent(entry, body) {
      this.outbox.shift();
      this.store.set("wrote", true);   // no pre-chat form once the conversation has begun
      this.unlocked = false;
      if (body.messageId) {
        this.remember({ messageId: body.messageId, direction: "inbound", text: entry.text, content: entry.content,
                        sentAt: epochMs(body.receivedAt) || Date.now() });
        entry.el.dataset.messageId = body.messageId;
        if (!this.messages.has(body.messageId)) this.messages.set(body.messageId, entry.el);
        this.emit("message", { messageId: body.messageId, direction: "inbound", text: entry.text, content: [],
                               senderName: null, sentAt: epochMs(body.receivedAt) || Date.now(), conversationId: null });
      }
      this.view.status(entry.el, "sent");
      this.view.notice("expiry", "");
      if (body.conversationExpiresAt) this.expiry({ ...this.session, conversationExpiresAt: body.conversationExpiresAt });
      setTimeout(() => this.flush(), 0);
    }

    notSent(entry, error) {
      const later = (ms) => setTimeout(() => this.flush(), ms);
      if (error.code === "disconnected") return;                        // sent again once configured
      if (error.code === "rate_limited") { later((error.retryAfter || 1) * 1000); return; }
      if (error.code === "unavailable") { later(1000); return; }
      if (error.code === "session_not_configured") { this.configure(); return; }
      if (error.code === "session_expired") { this.restart("Your previous chat has expired; this is a new one."); return; }
      if (error.code === "read_only") { this.view.locked(true); this.view.status(entry.el, "not sent", true); }
      else this.view.status(entry.el, "not sent", true);
      this.outbox.shift();
      this.failed(error);
      later(0);
    }

    // -- attachments: getUploadUrl, then PUT with progress, then referenced by onMessage

    attach(files) {
      for (const file of files) {
        const media = this.allowedMedia || {};
        if ((media.types || []).length && !media.types.includes(file.type)) { this.failed({ code: "file_type_not_allowed" }); continue; }
        if (media.maxBytes && file.size > media.maxBytes) { this.failed({ code: "file_too_large" }); continue; }
        const entry = { name: file.name, type: file.type, preview: URL.createObjectURL(file), attachmentId: null };
        this.attachments.push(entry);
        const { row, bar } = this.view.upload(file.name);
        const drop = (error) => {
          row.remove();
          this.attachments = this.attachments.filter((a) => a !== entry);
          this.failed(error);
        };
        this.connection.request("getUploadUrl", { token: this.store.get("token"), fileName: file.name,
                                                  fileType: file.type, fileSize: file.size })
          .then((body) => this.put(file, body, bar))
          .then((attachmentId) => { entry.attachmentId = attachmentId; bar.value = 100; bar.setAttribute("aria-label", `${file.name} uploaded`); },
                drop);
      }
    }

    put(file, body, bar) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("PUT", new URL(body.uploadUrl, BASE).href);
        xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
        xhr.upload.onprogress = (event) => { if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total); };
        xhr.onload = () => {
          const codes = { 413: "file_too_large", 415: "file_type_not_allowed" };
          if (xhr.status === 201 || xhr.status === 200) {
            let answer = {};
            try { answer = JSON.parse(xhr.responseText); } catch (e) { /* the id we asked for stands */ }
            resolve(answer.attachmentId || body.attachmentId);
          } else reject({ code: codes[xhr.status] || "upload_failed", message: "The upload failed." });
        };
        xhr.onerror = () => reject({ code: "upload_failed", message: "The upload failed." });
        xhr.send(file);
      });
    }
  }

  // ---- boot: replace the snippet's queue with the real command function -----------------------

  function boot() {
    if (!DEPLOYMENT) { console.error("Switchboard: the script tag needs data-deployment-id"); return; }
    const queued = (window.Switchboard && window.Switchboard.q) || [];
    const widget = new Widget();
    const api = function Switchboard(name, ...args) { widget.command(name, ...args); };
    api.loaded = true;
    api.widget = widget;   // for debugging and the browser tests (tests/browser/test_widget.py)
    window.Switchboard = api;
    for (const args of queued) widget.command(...args);
  }

  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
