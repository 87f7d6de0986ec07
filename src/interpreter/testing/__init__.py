"""Test helpers for users and for our own tests: the scripted fake model server."""

from __future__ import annotations

__all__ = ["FakeModelServer", "Reply"]

from .fake_server import FakeModelServer, Reply
