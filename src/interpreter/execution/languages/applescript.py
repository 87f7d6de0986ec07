"""AppleScript: each run is one ``osascript`` process (macOS only); no state."""

from __future__ import annotations

from typing import ClassVar

from .repl import OneShotLanguage


class AppleScript(OneShotLanguage):
    """AppleScript through ``osascript``."""

    name: ClassVar[str] = "AppleScript"
    aliases: ClassVar[tuple[str, ...]] = ("osascript",)
    file_extension: ClassVar[str] = "applescript"
    file_name: ClassVar[str] = "code.applescript"
    executable: ClassVar[str] = "osascript"
    install_hint: ClassVar[str] = "AppleScript runs on macOS only."

    def argv(self, path: str) -> list[str]:
        return [self.executable, path]
