"""What a file really is: the type read from its bytes (Pillow for images, magic bytes otherwise)."""
from __future__ import annotations

import io

try:
    from PIL import Image, UnidentifiedImageError
except ImportError as exc:  # pinned in pyproject; a clear message if an install skipped it
    raise ImportError("connectors.media needs Pillow to check images: pip install Pillow") from exc

# Images the agent page shows and every channel can send (Genesys: jpg/png/gif; WebP for stickers).
IMAGES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def _mp4_family(data: bytes) -> str | None:
    # ISO base media: a box size, then "ftyp" and the major brand (ISO/IEC 14496-12 §4.3).
    if data[4:8] != b"ftyp":
        return None
    return "audio/mp4" if data[8:11] == b"M4A" else "video/mp4"


# Other media the platforms deliver (WhatsApp: aac, amr, mp3, mp4, ogg/opus, pdf; LINE m4a/mp4;
# Messenger mp4/pdf): a short allow list by signature, nothing else.
MAGIC = (
    (lambda d: d.startswith(b"%PDF-") and "application/pdf"),
    (lambda d: d.startswith(b"OggS") and "audio/ogg"),
    (lambda d: d.startswith(b"#!AMR\n") and "audio/amr"),
    (lambda d: (d.startswith(b"ID3") or d[:2] in (b"\xff\xfb", b"\xff\xf3")) and "audio/mpeg"),
    (lambda d: d[:2] in (b"\xff\xf1", b"\xff\xf9") and "audio/aac"),
    _mp4_family,
)

# Declared names that mean the same thing as the sniffed one.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg",
           "audio/x-m4a": "audio/mp4", "audio/opus": "audio/ogg", "video/mpeg4": "video/mp4"}
UNDECLARED = {None, "", "application/octet-stream", "binary/octet-stream"}


def sniff(data: bytes) -> str | None:
    """The MIME type of `data` if it is one of the allowed kinds, else None."""
    image = _image(data)
    if image:
        return image
    for check in MAGIC:
        found = check(data[:16])
        if found:
            return found
    return None


def _image(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()  # checks the structure without decoding every pixel
            return IMAGES.get(picture.format)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def base_type(mime: str | None) -> str | None:
    """`image/jpeg` of `image/JPEG; charset=…`, aliases folded."""
    if mime is None:
        return None
    plain = mime.split(";", 1)[0].strip().lower()
    return ALIASES.get(plain, plain)


def agrees(declared: str | None, sniffed: str) -> bool:
    """Whether the declared type (a header, a platform's mime_type, a file name's) matches the bytes."""
    plain = base_type(declared)
    return plain in UNDECLARED or plain == sniffed
