"""What the server's routes share (``ServerState``): the settings and the sessions.

Its own module so that ``app`` (which builds the routes) and the route modules (which
use the state) both import it, and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ServerSettings
from .sessions import SessionRegistry

__all__ = ["ServerState"]


@dataclass
class ServerState:
    """What the routes share: the settings and the sessions."""

    settings: ServerSettings
    registry: SessionRegistry
