"""The languages the Computer runs out of the box."""

from .python import Python
from .shell import Shell

__all__ = ["Python", "Shell"]
