"""The media store: content-addressed files, type- and size-checked, shared by every edge replica."""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from .sniff import agrees, sniff

KEY = re.compile(r"^[0-9a-f]{64}$")


class MediaRefused(ValueError):
    """Media we do not keep (type not allowed, type not what was declared, too large, unreachable)."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule, self.reason = rule, reason


@dataclass(frozen=True)
class MediaObject:
    """One stored file: its key (sha256 of the bytes), its sniffed type and its size."""

    key: str
    mime_type: str
    size: int


class MediaStore(Protocol):
    """Where media live, behind one small interface (a directory today; an object store later).

    - `put(data, declared_mime)` checks the bytes (size ≤ the store's limit, an allowed type that
      agrees with `declared_mime`) and stores them under their content hash: MediaRefused otherwise.
      Putting the same bytes twice gives the same key.
    - `get(key)` the object and its bytes, or None; `exists(key)`.
    - `link(name, key)` / `resolve(name)`: a name for a stored key (a platform's media id, an
      uploaded id), so a later request finds what a prefetch already stored.
    """

    def put(self, data: bytes, declared_mime: str | None) -> MediaObject: ...

    def get(self, key: str) -> tuple[MediaObject, bytes] | None: ...

    def exists(self, key: str) -> bool: ...

    def link(self, name: str, key: str) -> None: ...

    def resolve(self, name: str) -> MediaObject | None: ...


def checked(data: bytes, declared_mime: str | None, max_bytes: int) -> MediaObject:
    """The MediaObject `data` would be stored as, or MediaRefused naming what is wrong."""
    if len(data) > max_bytes:
        raise MediaRefused("media.too_large", f"the file has {len(data)} bytes; the limit is {max_bytes} "
                                              "(SWITCHBOARD_MEDIA_MAX_BYTES)")
    if not data:
        raise MediaRefused("media.empty", "the file is empty")
    mime = sniff(data)
    if mime is None:
        raise MediaRefused("media.type", "not an allowed type: images (jpeg, png, gif, webp), mp4 video, "
                                         "ogg/mp3/aac/amr/m4a audio or pdf")
    if not agrees(declared_mime, mime):
        raise MediaRefused("media.type_mismatch", f"declared {declared_mime} but the bytes are {mime}")
    return MediaObject(hashlib.sha256(data).hexdigest(), mime, len(data))


class DirectoryStore:
    """A directory (SWITCHBOARD_MEDIA_DIR) of `<k[:2]>/<key>` files with `<key>.json` metadata beside.

    Writes go to a temporary file renamed into place, so another replica reading the same
    directory sees a whole file or none; the metadata is written last and is what `exists` checks.
    """

    def __init__(self, root: Path, max_bytes: int):
        self.root, self.max_bytes = Path(root), max_bytes

    def put(self, data: bytes, declared_mime: str | None) -> MediaObject:
        """Check and store `data` (MediaRefused if it is refused)."""
        media = checked(data, declared_mime, self.max_bytes)
        if not self.exists(media.key):
            path = self._path(media.key)
            _atomic_write(path, data)
            _atomic_write(path.with_suffix(".json"), json.dumps(asdict(media)).encode())
        return media

    def get(self, key: str) -> tuple[MediaObject, bytes] | None:
        """The object and its bytes, None for an unknown (or malformed) key."""
        media = self._meta(key)
        return None if media is None else (media, self._path(key).read_bytes())

    def exists(self, key: str) -> bool:
        """Whether `key` is stored."""
        return self._meta(key) is not None

    def remove(self, key: str) -> bool:
        """Delete a stored object (an erased customer's media, switchboard/erase.py); whether it was there."""
        if not self.exists(key):
            return False
        path = self._path(key)
        path.with_suffix(".json").unlink(missing_ok=True)   # metadata first: `exists` says no at once
        path.unlink(missing_ok=True)
        return True

    def link(self, name: str, key: str) -> None:
        """Remember `name` → `key` (last writer wins; both write the same key for the same bytes)."""
        _atomic_write(self._name_path(name), key.encode())

    def resolve(self, name: str) -> MediaObject | None:
        """The object a name was linked to, or None."""
        path = self._name_path(name)
        return self._meta(path.read_text().strip()) if path.exists() else None

    def _meta(self, key: str) -> MediaObject | None:
        if not KEY.match(key or ""):  # keys are hex digests: nothing else reaches the file system
            return None
        meta = self._path(key).with_suffix(".json")
        return MediaObject(**json.loads(meta.read_bytes())) if meta.exists() else None

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.bin"

    def _name_path(self, name: str) -> Path:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return self.root / "names" / digest[:2] / digest


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
