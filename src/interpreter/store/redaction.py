"""Which secrets saved conversations never contain.

A secret is a configured credential (the model's API key, a kernel gateway token, the
server's token, registered here with :func:`register_secret`) or the value of a
credential-like environment variable (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``,
``*_SECRET_KEY``, ``*_ACCESS_KEY``, ``*_PASSWORD``), read when a conversation is saved.
Values shorter than :data:`MIN_SECRET_LENGTH` characters are not secrets: replacing
``abc`` everywhere would mangle the conversation and protect nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping

__all__ = ["MIN_SECRET_LENGTH", "environment_secrets", "register_secret", "secrets_to_redact"]

MIN_SECRET_LENGTH = 8
_CREDENTIAL_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|TOKEN|SECRET|SECRET_KEY|ACCESS_KEY|PASSWORD|PASSWD)$", re.IGNORECASE
)
_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Keep ``value`` out of every conversation this process saves from now on (the server
    registers its token, which lives in no interpreter's settings)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def environment_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """The values of the credential-like variables in ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    return [value.strip() for name, value in env.items() if _CREDENTIAL_NAME.search(name)]


def secrets_to_redact(configured: Iterable[str | None] = ()) -> list[str]:
    """Every secret to hide, longest first (so a key containing another is hidden whole)."""
    with _lock:
        found = set(_registered)
    found.update(s for s in configured if s)
    found.update(environment_secrets())
    return sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)
