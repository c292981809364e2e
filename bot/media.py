"""Customers' photos: fetch through the channel, check by content, keep behind a store.

The type is read from the bytes (``filetype``), never from a file name or the
provider's declared MIME type: a PDF renamed ``.jpg`` is refused. Files are kept by
:class:`FileMediaStore` under ``DOORSTEP_DATA_DIR/media``; an object store can
implement :class:`MediaStore` instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import filetype

from bot.errors import DoorstepError
from bot.models import MediaRef
from flows.base import MediaItem

log = logging.getLogger("doorstep.media")

ACCEPTED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic",
                  "image/heif": "heic", "image/webp": "webp"}
_MEDIA_ID = re.compile(r"md_[0-9a-f]{24}")
# Files are fetched inside the conversation's turn, whose lock lasts 30 s: stop starting new
# downloads after this long, so ten slow MMS attachments cannot outlive the lock.
TURN_BUDGET_S = 15.0


class MediaRejected(DoorstepError):
    """A file the customer sent cannot be used; ``reason`` says why for the reply."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason  # "too_large" | "unsupported" | "unavailable"


class MediaFetcher(Protocol):
    """A channel's way to download a file the customer sent (raises MediaRejected)."""

    def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
        ...


class MediaStore(Protocol):
    """Where checked files are kept."""

    def put(self, content: bytes, content_type: str, case_id: str | None) -> MediaItem:
        ...

    def get(self, media_id: str) -> tuple[bytes, str] | None:
        ...


def sniff_type(content: bytes) -> str | None:
    """The accepted image type of ``content`` by its magic bytes, or None."""
    kind = filetype.guess(content[:8192])
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        return None
    return "image/heic" if kind.mime == "image/heif" else kind.mime


def check(content: bytes, max_bytes: int) -> str:
    """Return the content type of an acceptable photo; raise :class:`MediaRejected`."""
    if len(content) > max_bytes:
        raise MediaRejected("too_large", f"{len(content)} bytes")
    kind = sniff_type(content)
    if kind is None:
        raise MediaRejected("unsupported", "not a JPEG, PNG, HEIC or WebP image")
    return kind


class FileMediaStore:
    """Keep media as files: ``<dir>/<id>.<ext>`` plus a small JSON sidecar."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, content: bytes, content_type: str, case_id: str | None) -> MediaItem:
        self.directory.mkdir(parents=True, exist_ok=True)
        media_id = "md_" + secrets.token_hex(12)
        path = self.directory / f"{media_id}.{ACCEPTED_TYPES[content_type]}"
        # Write then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
        meta = {"content_type": content_type, "size": len(content), "case_id": case_id,
                "file": path.name}
        (self.directory / f"{media_id}.json").write_text(json.dumps(meta))
        return MediaItem(media_id, content_type, len(content))

    def get(self, media_id: str) -> tuple[bytes, str] | None:
        if not _MEDIA_ID.fullmatch(media_id):
            return None
        meta_path = self.directory / f"{media_id}.json"
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        return (self.directory / meta["file"]).read_bytes(), meta["content_type"]

    def delete(self, media_id: str) -> None:
        if not _MEDIA_ID.fullmatch(media_id):
            return
        for path in self.directory.glob(f"{media_id}.*"):
            path.unlink(missing_ok=True)


@dataclass
class MediaIntake:
    """Fetch, check and store the files of one inbound message."""

    fetchers: Mapping[str, MediaFetcher]
    store: MediaStore
    max_bytes: int
    clock: Callable[[], float] = field(default=time.monotonic)

    def take(self, channel: str, refs: tuple[MediaRef, ...],
             case_id: str | None) -> tuple[list[MediaItem], list[str]]:
        """Return the stored items and the reasons the other files were refused."""
        items: list[MediaItem] = []
        refused: list[str] = []
        fetcher = self.fetchers.get(channel)
        deadline = self.clock() + TURN_BUDGET_S
        for ref in refs:
            try:
                if self.clock() > deadline:
                    raise MediaRejected("unavailable", "no time left in this turn")
                if fetcher is None:
                    raise MediaRejected("unavailable", f"no media fetcher for {channel}")
                if ref.size is not None and ref.size > self.max_bytes:
                    raise MediaRejected("too_large", f"declared {ref.size} bytes")
                content = fetcher.fetch(ref, self.max_bytes)
                items.append(self.store.put(content, check(content, self.max_bytes), case_id))
            except MediaRejected as exc:
                log.info("media from %s refused: %s", channel, exc.reason)
                refused.append(exc.reason)
        return items, refused
