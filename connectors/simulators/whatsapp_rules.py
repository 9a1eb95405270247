"""What the Cloud API refuses in a send body, and the template catalogue (per WABA) it checks against."""
from __future__ import annotations

import re
import zlib
from datetime import datetime, timezone

from switchboard.pricing import prices

# Each WABA's template catalogue starts as these (GET /{waba-id}/message_templates serves it):
# name → (category, status, {language: body text}). A body parameter is a {{n}} placeholder.
SEED = {
    "hello_world": ("UTILITY", "APPROVED", {"en_US": "Welcome and congratulations!! This message demonstrates your "
                    "ability to send a WhatsApp message notification from the Cloud API, hosted by Meta."}),
    "card_blocked_followup": ("UTILITY", "APPROVED", {
        "en_US": "Hi {{1}}, your card ending {{2}} is blocked while we check a payment. Reply here to talk to us.",
        "es_ES": "Hola {{1}}, tu tarjeta terminada en {{2}} está bloqueada mientras revisamos un pago. Responde aquí."}),
    "order_update": ("UTILITY", "APPROVED", {
        "en_US": "Your order {{1}} has an update. Reply to this message to see it.",
        "es_ES": "Tu pedido {{1}} tiene novedades. Responde a este mensaje para verlas.",
        "ja": "ご注文 {{1}} に更新があります。このメッセージに返信してご確認ください。",
        "pt_BR": "Seu pedido {{1}} foi atualizado. Responda esta mensagem para ver.",
        "fr": "Votre commande {{1}} a été mise à jour. Répondez à ce message pour la voir.",
        "de": "Ihre Bestellung {{1}} wurde aktualisiert. Antworten Sie auf diese Nachricht, um sie zu sehen."}),
    "conversation_reopen": ("UTILITY", "APPROVED", {
        "en_US": "Hi {{1}}, we have an answer to your last message. Reply to continue the conversation.",
        "es_ES": "Hola {{1}}, tenemos una respuesta a tu último mensaje. Responde para continuar la conversación.",
        "ja": "{{1}}様、前回のお問い合わせへの回答がございます。返信して会話を続けてください。",
        "pt_BR": "Olá {{1}}, temos uma resposta para sua última mensagem. Responda para continuar a conversa.",
        "fr": "Bonjour {{1}}, nous avons une réponse à votre dernier message. Répondez pour poursuivre la conversation.",
        "de": "Hallo {{1}}, wir haben eine Antwort auf Ihre letzte Nachricht. Antworten Sie, um das Gespräch fortzusetzen."}),
    "appointment_reminder": ("UTILITY", "APPROVED", {
        "en_US": "Hi {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. Reply YES to confirm or NO to change it.",
        "es_ES": "Hola {{1}}, te recordamos tu cita el {{2}} a las {{3}}. Responde SÍ para confirmar o NO para cambiarla."}),
    "spring_offer": ("MARKETING", "APPROVED", {"en_US": "Hi {{1}}, spring is here: 20% off everything until Sunday."}),
    "winter_sale": ("MARKETING", "PAUSED", {"en_US": "Hi {{1}}, last days of our winter sale: up to 50% off."}),
    "abandoned_cart": ("MARKETING", "REJECTED", {"es_ES": "Hola {{1}}{{2}}, olvidaste algo en tu carrito."}),
    "login_code": ("AUTHENTICATION", "APPROVED", {"en_US": "*{{1}}* is your verification code. For your security, "
                   "do not share this code."}),
}
# Per-message pricing: what a status's `pricing` says follows the billing rule in effect in the
# price table (deploy/pricing/whatsapp.yaml `rules`, switchboard/pricing.py), the one source the
# sink prices with: service replies and utility templates inside the customer service window free
# until 2026-10-01, billed from then (beyond the rule's `service_free_per_month`, 0 today).
PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")


def seed_catalogue() -> list[dict]:
    """A new WABA's templates as Graph objects (one per name and language, ids stable)."""
    return [{"name": name, "parameter_format": "POSITIONAL", "components": _components(name, category, text),
             "language": language, "status": status, "category": category,
             "id": str(1283746500000000 + zlib.crc32(f"{name}:{language}".encode()) % 10**8)}
            for name, (category, status, texts) in SEED.items() for language, text in texts.items()]


def _components(name: str, category: str, text: str) -> list[dict]:
    params = body_parameters(text)
    body = {"type": "BODY", "text": text} | ({"example": {"body_text": [[f"sample{i + 1}" for i in range(params)]]}}
                                             if params else {})
    if category == "AUTHENTICATION":  # Meta's fixed body, an expiry footer and a copy-code button
        return [body | {"add_security_recommendation": True}, {"type": "FOOTER", "code_expiration_minutes": 10,
                "text": "This code expires in 10 minutes."},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}]
    if category == "MARKETING":
        return [body, {"type": "FOOTER", "text": "Not interested? Tap Stop promotions"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]}]
    return [{"type": "HEADER", "format": "TEXT", "text": name.replace("_", " ").title()}, body]


def pricing(category: str, inside: bool, at_ms: int, service_this_month: int = 0) -> dict:
    """A status's `pricing` as the Cloud API sends it: category service/utility/marketing/authentication,
    `service_this_month` the number's service messages of this calendar month, this one included."""
    rule = prices().rule_at(datetime.fromtimestamp(at_ms / 1000, timezone.utc))
    if category == "service":
        free = rule.service == "free" or service_this_month <= rule.service_free_per_month
    else:
        free = category == "utility" and inside and rule.utility_in_window == "free"
    return {"billable": not free, "pricing_model": "PMP", "category": category,
            "type": "free_customer_service" if free else "regular"}


def body_parameters(text: str) -> int:
    """How many distinct {{n}} placeholders a body text has (what a send must fill)."""
    return len(dict.fromkeys(PLACEHOLDER.findall(text)))


TYPES = {"text", "image", "video", "audio", "document", "sticker", "template", "interactive", "location",
         "reaction", "contacts"}
MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}
MAX_TEXT = 4096  # text.body (channels.md); captions 1,024


def body_problem(body: dict) -> tuple[str, str] | None:
    """(error code, message) for an invalid body, None when valid."""
    if body.get("messaging_product") != "whatsapp":
        return "100", "The parameter messaging_product is required."
    if body.get("recipient_type", "individual") != "individual":
        return "100", "Param recipient_type must be individual."
    if not isinstance(body.get("to"), str) or not body["to"].lstrip("+").isdigit():
        return "100", "The parameter to is required."
    kind = body.setdefault("type", "text")
    if kind not in TYPES:
        return "131051", "Unsupported message type"
    typed = body.get(kind)
    if not isinstance(typed, dict):
        return "100", f"The parameter {kind} is required."
    return _typed_problem(kind, typed)


def _typed_problem(kind: str, typed: dict) -> tuple[str, str] | None:
    if kind == "text":
        text = typed.get("body")
        if not isinstance(text, str) or not text:
            return "100", "The parameter text['body'] is required."
        if len(text) > MAX_TEXT:
            return "100", f"Param text['body'] must be at most {MAX_TEXT} characters long."
    if kind in MEDIA_TYPES:
        if not (typed.get("id") or str(typed.get("link", "")).startswith(("http://", "https://"))):
            return "100", f"Param {kind} must contain either id or link."
        if len(typed.get("caption", "")) > 1024:
            return "100", "Param caption must be at most 1024 characters long."
    if kind == "template" and not (typed.get("name") and isinstance(typed.get("language"), dict)
                                   and typed["language"].get("code")):
        return "100", "Param template must contain name and language.code."
    return None


def template_problem(catalogue: list[dict], template: dict) -> tuple[str, str] | None:
    """What the Cloud API answers for a template send (developers.facebook.com/docs/whatsapp/cloud-api/
    support/error-codes): 132001 unknown (or not approved) in that language, 132015 paused, 132016
    disabled, 132000 wrong parameter count."""
    name, lang = template["name"], template["language"]["code"]
    known = next((t for t in catalogue if t["name"] == name and t["language"] == lang), None)
    if known is not None and known["status"] == "PAUSED":
        return "132015", "Template is paused due to low quality so it cannot be sent in a template message."
    if known is not None and known["status"] == "DISABLED":
        return "132016", "Template has been paused too many times due to low quality and is now permanently disabled."
    if known is None or known["status"] != "APPROVED":
        return "132001", f"Template name does not exist in the translation: template name ({name}) does not exist in {lang}"
    expected = body_parameters(next((c["text"] for c in known["components"] if c["type"] == "BODY"), ""))
    given = sum(len(c.get("parameters", [])) for c in template.get("components", []) if c.get("type") == "body")
    if given != expected:
        return "132000", (f"Number of parameters does not match the expected number of params: body: number of "
                          f"localizable_params ({given}) does not match the expected number of params ({expected})")
    return None
