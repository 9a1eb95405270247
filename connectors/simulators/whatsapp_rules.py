"""What the Cloud API refuses in a send body, and the approved-template catalogue it checks against."""
from __future__ import annotations

# (name) → (category, body parameter count, languages). Unknown name or language: 132001.
TEMPLATES = {
    "hello_world": ("utility", 0, {"en_US"}),
    "card_blocked_followup": ("utility", 2, {"en_US", "es_ES"}),
    "order_update": ("utility", 1, {"en_US", "es_ES", "ja", "pt_BR", "fr", "de"}),
    "conversation_reopen": ("utility", 1, {"en_US", "es_ES", "ja", "pt_BR", "fr", "de"}),
    "spring_offer": ("marketing", 1, {"en_US"}),
}
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


def template_problem(template: dict) -> tuple[str, str] | None:
    """132001 for an unknown template or translation, 132000 for a wrong parameter count."""
    name, lang = template["name"], template["language"]["code"]
    known = TEMPLATES.get(name)
    if known is None or lang not in known[2]:
        return "132001", f"Template name does not exist in the translation: template name ({name}) does not exist in {lang}"
    given = sum(len(c.get("parameters", [])) for c in template.get("components", []) if c.get("type") == "body")
    if given != known[1]:
        return "132000", (f"Number of parameters does not match the expected number of params: body: number of "
                          f"localizable_params ({given}) does not match the expected number of params ({known[1]})")
    return None
