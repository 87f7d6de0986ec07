"""Rich outputs in a terminal: images are saved to files and shown by their path."""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_EXTENSIONS = {"base64.png": ".png", "base64.jpeg": ".jpg", "base64.jpg": ".jpg"}


def image_dir() -> Path:
    """A private folder (0700) for the images of this user's sessions."""
    path = Path(tempfile.gettempdir()) / f"interpreter-images-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def save_image(chunk: Mapping[str, Any]) -> Path | None:
    """Writes an image chunk to a file; returns its path (None: not a saveable image)."""
    fmt = str(chunk.get("format", ""))
    if chunk.get("type") != "image":
        return None
    if fmt == "path":
        return Path(str(chunk.get("content", "")))
    suffix = _EXTENSIONS.get(fmt)
    if suffix is None:
        return None
    try:
        data = base64.b64decode(str(chunk.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        return None
    fd, name = tempfile.mkstemp(prefix="image-", suffix=suffix, dir=image_dir())
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return Path(name)


def describe(chunk: Mapping[str, Any]) -> str:
    """The one line a terminal shows for a chunk it cannot draw."""
    path = save_image(chunk)
    if path is not None:
        return f"[image: {path}]"
    return f"[{chunk.get('type')}: {chunk.get('format')}]"
