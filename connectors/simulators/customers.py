"""Simulated customers: a pool of recurring people with stable ids on every channel, and what they send."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from . import phrases

CHANNELS = ("messenger", "whatsapp", "line", "x", "open")
KINDS = ("text", "emoji", "url", "email", "image", "sticker", "location", "postback", "quick_reply",
         "video", "audio", "file")


@dataclass(frozen=True)
class Customer:
    """One person, with the id each platform knows them by (the fixtures' people come first)."""

    name: str
    language: str
    psid: str          # Messenger page-scoped id
    phone: str         # WhatsApp wa_id: international number without '+'
    line_id: str       # LINE userId
    x_id: str          # X user id
    x_handle: str
    email: str | None  # volunteered in messages; the Open Messaging id when open_id_type is email
    open_id_type: str  # email | phone | opaque
    channels: tuple[str, ...] = CHANNELS

    def id_on(self, channel: str) -> str:
        """The platform's id for this customer on `channel` (web: the simulator's name for the
        visitor; the edge names their session itself)."""
        return {"messenger": self.psid, "whatsapp": self.phone, "line": self.line_id, "x": self.x_id,
                "open": self.open_id, "web": f"visitor-{self.psid}"}[channel]

    @property
    def open_id(self) -> str:
        """Open Messaging from.id, by idType."""
        if self.open_id_type == "email":
            return self.email
        return f"+{self.phone}" if self.open_id_type == "phone" else f"cust-{self.psid[-8:]}{self.line_id[1:9]}"


@dataclass(frozen=True)
class Content:
    """What a customer sends, before a platform gives it its shape."""

    kind: str
    text: str | None = None
    url: str | None = None
    title: str | None = None      # button title, place name
    payload: str | None = None    # button payload
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


FIXTURE_PEOPLE = [
    Customer("Maria Lopez", "es", "6523409871234567", "14155550123", "U1a2b3c4d5e6f708192a3b4c5d6e7f809",
             "987654321012345678", "marialopez_sf", "maria@example.com", "email"),
    Customer("Kenji Sato", "ja", "7134098712345678", "818012345678", "U8f7e6d5c4b3a29180716f5e4d3c2b1a0",
             "1122334455667788990", "kenji_sato_jp", None, "phone"),
    Customer("Amara Okafor", "en", "5893412098765432", "2348031234567", "U0a1b2c3d4e5f60718293a4b5c6d7e8f9",
             "1502938475610293847", "amaraokafor", None, "opaque"),
]


def customer_pool(size: int = 24, seed: int = 7) -> list[Customer]:
    """The fixtures' three people plus `size - 3` generated ones, the same for the same seed."""
    rng = random.Random(f"customers-{seed}")
    return FIXTURE_PEOPLE[:size] + [_generated(rng, i) for i in range(max(0, size - len(FIXTURE_PEOPLE)))]


def _generated(rng: random.Random, i: int) -> Customer:
    lang = rng.choice(sorted(phrases.TEXTS))
    first, last = rng.choice(phrases.FIRST_NAMES[lang]), rng.choice(phrases.LAST_NAMES[lang])
    phone = phrases.COUNTRY_CODES[lang] + "".join(rng.choices("0123456789", k=12 - len(phrases.COUNTRY_CODES[lang])))
    # Some people volunteer one email on several channels: that is what identity matching links.
    email = f"{_ascii(first)}.{_ascii(last)}{i}@example.com" if rng.random() < 0.5 else None
    channels = tuple(c for c in CHANNELS if rng.random() < 0.6) or (rng.choice(CHANNELS),)
    return Customer(f"{first} {last}", lang, str(rng.randrange(10**15, 10**16)), phone,
                    "U" + rng.randbytes(16).hex(), str(rng.randrange(10**17, 10**19)),
                    f"{_ascii(first)}_{_ascii(last)}{i}", email,
                    "email" if email else rng.choice(("phone", "opaque")), channels)


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def compose(rng: random.Random, customer: Customer, kind: str) -> Content:
    """A realistic message of `kind` from `customer`, in their language."""
    lang = customer.language
    if kind == "text":
        return Content("text", rng.choice(phrases.TEXTS[lang]))
    if kind == "emoji":
        return Content("emoji", f"{rng.choice(phrases.TEXTS[lang])} {rng.choice(phrases.EMOJI)}{rng.choice(phrases.EMOJI)}")
    if kind == "url":
        url = rng.choice(phrases.URLS)
        return Content("url", phrases.LINKS[lang].format(url=url), url=url)
    if kind == "email":
        return Content("text", phrases.EMAIL[lang].format(email=customer.email or f"{customer.x_handle}@example.com"))
    if kind == "location":
        name, address, lat, long = rng.choice(phrases.PLACES)
        return Content("location", title=name, address=address, latitude=lat, longitude=long)
    if kind in ("postback", "quick_reply"):
        title, payload = rng.choice(phrases.BUTTONS)
        return Content(kind, text=title, title=title, payload=payload)
    caption = phrases.CAPTIONS[lang] if kind in ("image", "video") and rng.random() < 0.5 else None
    return Content(kind, text=caption)  # image, sticker, video, audio, file: media ids come from the platform
