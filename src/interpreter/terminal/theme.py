"""Colours for the terminal's own rendering: rich style names as SGR sequences, and the
code theme's colour for each pygments token (lexers cached by language)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["CODE_THEME", "CodeColours", "Style", "Theme"]

Style = tuple[str, ...]  # names of rich styles (or "#rrggbb", "on #rrggbb"), combined in order
CODE_THEME = "monokai"


class Theme:
    """SGR sequences for rich style names, as the console would write them (colours
    downgraded to its colour system, or none at all when it has none)."""

    def __init__(self, console: Console | None) -> None:
        self.console = console
        system = console.color_system if console is not None else None
        self.enabled = system is not None
        self.no_color = bool(console is not None and console.no_color)
        self._system: Any = _color_system(system)
        self._cache: dict[Style, str] = {}
        self.reset = "\x1b[0m" if self.enabled else ""
        self._code: CodeColours | None = None

    def sgr(self, style: Style) -> str:
        """The sequence that switches to ``style`` (empty when styles are off)."""
        if not style or not self.enabled:
            return ""
        cached = self._cache.get(style)
        if cached is None:
            cached = self._cache[style] = self._make(style)
        return cached

    def _make(self, names: Style) -> str:
        from rich.style import Style as RichStyle

        assert self.console is not None
        combined = RichStyle()
        for name in names:
            combined += self._lookup(name)
        if self.no_color:
            combined = combined.without_color
        # a fresh Style: rich's cached ones keep the codes of the first colour system used
        attributes = ("bold", "dim", "italic", "underline", "strike", "reverse", "blink")
        fresh = RichStyle(
            color=combined.color,
            bgcolor=combined.bgcolor,
            **{name: getattr(combined, name) for name in attributes},
        )
        marker = fresh.render("\x00", color_system=self._system)
        return marker.split("\x00")[0]

    def _lookup(self, name: str) -> Any:
        from rich.style import Style as RichStyle

        assert self.console is not None
        if name.startswith("#") or name.startswith("on "):
            return RichStyle.parse(name)
        return self.console.get_style(name, default="none")

    def code(self) -> CodeColours:
        if self._code is None:
            self._code = CodeColours(self)
        return self._code


def _color_system(name: str | None) -> Any:
    """rich's ColorSystem for the name ``Console.color_system`` gives."""
    if name is None:
        return None
    from rich.color import ColorSystem

    names = {"256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR}
    return names.get(name, ColorSystem.WINDOWS if name == "windows" else ColorSystem.STANDARD)


class CodeColours:
    """The code theme's colour for each pygments token type, over its background."""

    def __init__(self, theme: Theme) -> None:
        from pygments.styles import get_style_by_name

        self.theme = theme
        self.style = get_style_by_name(CODE_THEME)
        background = self.style.background_color or "#272822"
        self.background: Style = (f"on {background}",)
        self._by_token: dict[Any, str] = {}
        self._lexers: dict[str, Any] = {}

    def token(self, ttype: Any) -> str:
        found = self._by_token.get(ttype)
        if found is None:
            spec = self.style.style_for_token(ttype)
            names: list[str] = list(self.background)
            if spec.get("color"):
                names.append("#" + spec["color"])
            found = self.theme.sgr(tuple(names)) + _attributes(spec, self.theme.enabled)
            self._by_token[ttype] = found
        return found

    def lexer(self, language: str) -> Any:
        lexer = self._lexers.get(language)
        if lexer is None:
            from pygments.lexers import get_lexer_by_name
            from pygments.util import ClassNotFound

            try:
                lexer = get_lexer_by_name(language or "text", stripnl=False, ensurenl=False)
            except ClassNotFound:
                lexer = get_lexer_by_name("text", stripnl=False, ensurenl=False)
            self._lexers[language] = lexer
        return lexer


def _attributes(spec: dict[str, Any], enabled: bool) -> str:
    if not enabled:
        return ""
    codes = [
        code for key, code in (("bold", "1"), ("italic", "3"), ("underline", "4")) if spec[key]
    ]
    return f"\x1b[{';'.join(codes)}m" if codes else ""
