"""Test helpers for users and for our own tests: the scripted fake model server.

``from interpreter.testing import FakeModelServer, Reply`` (see ``fake_server``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["FakeModelServer", "Reply"]

if TYPE_CHECKING:
    from .fake_server import FakeModelServer, Reply


def __getattr__(name: str) -> Any:
    # Lazy, so ``python -m interpreter.testing.fake_server`` runs the module only once.
    if name in __all__:
        from . import fake_server

        return getattr(fake_server, name)
    raise AttributeError(f"module 'interpreter.testing' has no attribute {name!r}")
