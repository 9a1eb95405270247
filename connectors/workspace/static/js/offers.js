// Offer toasts: accept / decline with the alert countdown to `expires_at`, and the offer sound.
import { el } from "./render.js";
import { toMs } from "./messages.js";
import { iconUrl } from "./channels.js";

let gestured = false;
const sound = new Audio(new URL("../sounds/offer.wav", import.meta.url));
// Browsers refuse audio before a user gesture; after the first one, offers ring.
for (const type of ["pointerdown", "keydown"]) addEventListener(type, () => { gestured = true; }, { once: true, capture: true });

export class Offers {
  constructor(root, onAccept, onDecline) {
    this.root = root; this.onAccept = onAccept; this.onDecline = onDecline;
    this.toasts = new Map();
    setInterval(() => this.tick(), 1000);
  }

  show(offer) {
    if (!offer.offer_id || this.toasts.has(offer.offer_id)) return;
    const countdown = el("span", { class: "countdown", role: "timer" });
    const name = offer.customer_name || (offer.customer && offer.customer.name) || null;
    const platformId = offer.thread_key && offer.thread_key.split(":").slice(3).join(":");
    const who = [name, platformId].filter(Boolean).join(" · ") || offer.customer_id || "customer";
    const toast = el("div", { class: "toast", role: "alertdialog", "aria-label": `Offer from ${who}`, "data-offer-id": offer.offer_id },
      el("img", { src: iconUrl(offer.channel), alt: offer.channel || "", width: 20, height: 20 }),
      el("span", { class: "toast-text", text: `${who} · ${offer.queue_id || ""}` }), countdown,
      el("button", { type: "button", class: "accept", text: "Accept", onclick: () => this.onAccept(offer) }),
      el("button", { type: "button", class: "decline", text: "Decline", onclick: () => this.onDecline(offer) }));
    this.toasts.set(offer.offer_id, { toast, countdown, expires: toMs(offer.expires_at) });
    this.root.append(toast);
    this.tick();
    if (gestured) sound.play().catch(() => {});
  }

  remove(offerId) {
    const entry = this.toasts.get(offerId);
    if (entry) { entry.toast.remove(); this.toasts.delete(offerId); }
  }

  first() { const [entry] = this.toasts.values(); return entry && entry.toast.dataset.offerId; }

  tick() {
    for (const [id, entry] of this.toasts) {
      if (!entry.expires) continue;
      const left = Math.round((entry.expires - Date.now()) / 1000);
      entry.countdown.textContent = left > 0 ? `${left}s` : "expired";
      if (left < -5) this.remove(id);
    }
  }
}
