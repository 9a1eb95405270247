// The composer: drafts per conversation, the channel's character limit, emoji, LINE stickers,
// image upload, canned responses on "/", the policy state, Ctrl+Enter to send.
import { api, listOf } from "./api.js";
import { EMOJI, LINE_STICKERS, rulesOf } from "./channels.js";
import { el } from "./render.js";

const $ = (id) => document.getElementById(id);

export class Composer {
  constructor(onSend) {
    this.onSend = onSend;
    this.conversation = null;
    this.canned = [];
    this.draft = $("draft");
    this.draft.addEventListener("input", () => this.changed());
    this.draft.addEventListener("keydown", (event) => this.key(event));
    $("composer").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    $("emoji-open").addEventListener("click", () => toggle($("emoji-picker")));
    $("sticker-open").addEventListener("click", () => toggle($("sticker-picker")));
    $("image-input").addEventListener("change", (event) => this.upload(event.target));
    $("emoji-picker").append(...EMOJI.map((e) => el("button", { type: "button", text: e, "aria-label": `emoji ${e}`, onclick: () => this.insert(e) })));
    $("sticker-picker").append(...LINE_STICKERS.map(([pkg, id, label]) =>
      el("button", { type: "button", text: label, "aria-label": `sticker ${label}`, onclick: () => this.sticker(pkg, id) })));
  }

  attach(conversation) {
    if (this.conversation) this.conversation.draft = this.draft.value;   // switching keeps the draft
    this.conversation = conversation;
    this.draft.value = conversation.draft || "";
    this.rules = rulesOf({ channel: conversation.channel, ...(conversation.details || {}) });
    $("sticker-open").hidden = !this.rules.stickers;
    $("image-input").closest("label").hidden = !this.rules.image;
    for (const p of [$("emoji-picker"), $("sticker-picker"), $("canned")]) p.hidden = true;
    this.renderAttachments();
    this.changed();
    api.canned(conversation.queue).then((data) => { this.canned = listOf(data, "canned_responses"); }).catch(() => { this.canned = []; });
  }

  changed() {
    const c = this.conversation;
    if (!c) return;
    c.draft = this.draft.value;
    const left = this.rules.text - [...this.draft.value].length;
    $("counter").textContent = `${left} characters left (${this.rules.name} limit ${this.rules.text})`;
    $("counter").classList.toggle("over", left < 0);
    const text = this.draft.value;
    if (text.startsWith("/")) this.showCanned(text.slice(1).toLowerCase()); else $("canned").hidden = true;
    if (text && Date.now() - (this.lastTyping || 0) > 3000 && c.state === "connected") {
      this.lastTyping = Date.now();
      api.typing(c.id).catch(() => {});
    }
  }

  showCanned(filter) {
    const box = $("canned");
    const found = this.canned.filter((r) => `${r.shortcut || ""} ${r.title || ""}`.toLowerCase().includes(filter));
    box.replaceChildren(...found.map((r) => el("button", { type: "button", role: "option", class: "canned-item",
      onclick: () => { this.draft.value = r.text || ""; box.hidden = true; this.changed(); this.draft.focus(); } },
      el("strong", { text: r.shortcut ? `/${r.shortcut}` : r.title || "" }), " ", el("span", { text: r.text || "" }))));
    box.hidden = !found.length;
  }

  key(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.send(); }
    if (event.key === "Escape") for (const p of [$("emoji-picker"), $("sticker-picker"), $("canned")]) p.hidden = true;
    if (event.key === "Tab" && !$("canned").hidden) {
      const first = $("canned").querySelector("button");
      if (first) { event.preventDefault(); first.click(); }
    }
  }

  insert(text) {
    const d = this.draft, start = d.selectionStart ?? d.value.length, end = d.selectionEnd ?? d.value.length;
    d.value = d.value.slice(0, start) + text + d.value.slice(end);
    d.selectionStart = d.selectionEnd = start + text.length;
    $("emoji-picker").hidden = true;
    d.focus();
    this.changed();
  }

  async upload(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file || !this.conversation) return;
    const c = this.conversation;
    try {
      const media = await api.upload(file);
      c.attachments = [...(c.attachments || []), { type: "image", media_key: media.media_key, url: media.url, mime_type: media.mime_type }];
      this.renderAttachments();
      this.error("");
    } catch (exc) { this.error(`Upload failed: ${exc.message}`); }
  }

  sticker(pkg, id) {
    $("sticker-picker").hidden = true;
    this.onSend(this.conversation, [{ type: "sticker", sticker_package_id: pkg, sticker_id: id }]).catch((exc) => this.error(exc.message));
  }

  renderAttachments() {
    const c = this.conversation;
    $("attachments").replaceChildren(...(c.attachments || []).map((a, i) => el("span", { class: "attachment" },
      el("img", { src: a.url, alt: "image to send", height: 40 }),
      el("button", { type: "button", "aria-label": "remove image", text: "×", onclick: () => { c.attachments.splice(i, 1); this.renderAttachments(); } }))));
  }

  async send() {
    const c = this.conversation;
    if (!c) return;
    const text = this.draft.value.trim();
    if ([...text].length > this.rules.text) { this.error(`Too long for ${this.rules.name}: at most ${this.rules.text} characters.`); return; }
    const content = [...(text ? [{ type: "text", text }] : []), ...(c.attachments || [])];
    if (!content.length) return;
    try {
      await this.onSend(c, content);
      c.attachments = [];
      if (this.conversation === c) { this.draft.value = ""; this.renderAttachments(); this.changed(); }
      else c.draft = "";
      this.error("");
    } catch (exc) { this.error(exc.message); }
  }

  // The policy beside the composer: the socket's `policy` event (window_open_until…) or the policy API's
  // answer (window {until, seconds_left}, templates, reply_token, quota, tier) — GET /conversations/{id}/policy.
  policy(view) {
    const p = $("policy"), detail = $("policy-detail");
    if (!view) { p.textContent = ""; detail.textContent = ""; $("template-box").hidden = true; $("send").disabled = false; return; }
    const parts = [], extra = [];
    const until = view.window ? view.window.until : (view.window_open_until || view.window_closes_at);
    const left = until == null ? null : (typeof until === "number" ? until : Date.parse(until)) - Date.now();
    if (view.template_only || (left != null && left <= 0)) parts.push(left != null && left <= 0 ? "window closed — template only" : "template only");
    else if (left != null) parts.push(`window closes in ${duration(left)}`);
    if (view.blocked) parts.push(`nothing may be sent: ${view.blocked}`);
    if (view.replies_left != null) parts.push(`${view.replies_left} replies left`);
    if (view.tag_required) parts.push(`tag ${view.tag_required}`);
    const token = view.reply_token ? view.reply_token.until : view.reply_token_until;
    if (token && token > Date.now()) extra.push(`reply token valid ${Math.floor((token - Date.now()) / 1000)} s`);
    if (view.quota && view.quota.left != null) extra.push(`quota left ${view.quota.left}`);
    if (view.daily_cap && view.daily_cap.left != null) extra.push(`${view.daily_cap.left} messages left today`);
    if (view.tier) extra.push(`tier headroom ${view.tier.headroom ?? "unlimited"}${view.tier.held ? ` (${view.tier.held} held)` : ""}`);
    if (view.reason) parts.push(view.reason);
    p.textContent = parts.join(" · ");
    detail.textContent = extra.join(" · ");
    const closed = !!view.template_only || (left != null && left <= 0);
    $("send").disabled = closed || !!view.blocked;
    this.templates(closed ? view.templates || [] : []);
  }

  templates(list) {
    const box = $("template-box"), picker = $("template-picker");
    box.hidden = !list.length;
    if (!list.length) return;
    picker.replaceChildren(...list.map((t, i) => el("option", { value: String(i), text: `${t.name} (${t.language})` })));
    const params = () => {
      const t = list[Number(picker.value) || 0];
      $("template-params").replaceChildren(...(t.parameters || []).map((type, i) =>
        el("label", {}, `{{${i + 1}}} ${type} `, el("input", { type: "text", "data-param": String(i), "aria-label": `parameter ${i + 1} (${type})` }))));
    };
    picker.onchange = params;
    params();
    $("template-send").onclick = async () => {
      const t = list[Number(picker.value) || 0], c = this.conversation;
      const parameters = [...$("template-params").querySelectorAll("input")].map((i) => i.value);
      if (parameters.some((v) => !v.trim())) { this.error("Fill in every template parameter."); return; }
      try {
        await api.sendTemplate(c.id, { name: t.name, language: t.language, parameters }, `tpl-${Date.now()}-${Math.random().toString(36).slice(2)}`);
        this.error("");
      } catch (exc) { this.error(exc.message); }
    };
  }

  error(text) { $("composer-error").textContent = text; }
}

function duration(ms) {
  const minutes = Math.floor(ms / 60000), hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} m` : `${minutes} m`;
}

function toggle(node) { node.hidden = !node.hidden; if (!node.hidden) { const b = node.querySelector("button"); if (b) b.focus(); } }
