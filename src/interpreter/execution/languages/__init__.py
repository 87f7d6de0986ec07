"""The languages the Computer runs out of the box."""

from .applescript import AppleScript
from .html import HTML
from .java import Java
from .javascript import JavaScript
from .powershell import PowerShell
from .python import Python
from .r import R
from .react import React
from .ruby import Ruby
from .shell import Shell

__all__ = [
    "HTML",
    "R",
    "AppleScript",
    "Java",
    "JavaScript",
    "PowerShell",
    "Python",
    "React",
    "Ruby",
    "Shell",
]
