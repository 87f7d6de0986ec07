"""An arrow-key list picker (prompt_toolkit), and opening folders for the user.

``pick(titles)`` shows the titles under a question; up/down (or k/j) move, Enter picks,
Esc / q / Ctrl-C cancel. Without a terminal the list is numbered and a number is read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["pick", "open_folder"]


def pick(question: str, titles: Sequence[str]) -> int | None:
    """The index the user picked, or None when cancelled (or nothing to pick)."""
    if not titles:
        return None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return _pick_by_number(question, titles)
    return _pick_with_keys(question, titles)


def _pick_by_number(question: str, titles: Sequence[str]) -> int | None:
    print(question)
    for number, title in enumerate(titles, 1):
        print(f"  {number}. {title}")
    answer = sys.stdin.readline().strip()
    if answer.isdigit() and 1 <= int(answer) <= len(titles):
        return int(answer) - 1
    return None


def _pick_with_keys(question: str, titles: Sequence[str]) -> int | None:
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.layout import HSplit, Layout, Window
    from prompt_toolkit.layout.controls import FormattedTextControl

    state = {"at": 0}
    keys = KeyBindings()

    def lines() -> StyleAndTextTuples:
        out: StyleAndTextTuples = [("bold", question + "\n")]
        for number, title in enumerate(titles):
            chosen = number == state["at"]
            out.append(("reverse" if chosen else "", ("> " if chosen else "  ") + title + "\n"))
        out.append(("italic", "(up/down to move, Enter to pick, Esc to cancel)"))
        return out

    def move(step: int) -> Callable[[Any], None]:
        def handler(event: Any) -> None:
            state["at"] = (state["at"] + step) % len(titles)

        return handler

    for key in ("up", "k", "c-p"):
        keys.add(key)(move(-1))
    for key in ("down", "j", "c-n"):
        keys.add(key)(move(1))
    keys.add("enter")(lambda event: event.app.exit(result=state["at"]))
    for key in ("escape", "q", "c-c", "c-d"):
        keys.add(key)(lambda event: event.app.exit(result=None))
    body = Window(FormattedTextControl(lines, show_cursor=False), wrap_lines=True)
    app: Application[int | None] = Application(
        layout=Layout(HSplit([body])), key_bindings=keys, full_screen=False
    )
    return app.run()


def open_folder(path: Path, say: Callable[[str], None], edit: Path | None = None) -> None:
    """Create ``path`` if needed, say where it is, and open it when a file opener exists.

    Without an opener, ``edit`` (a file in it) is opened in ``$VISUAL``/``$EDITOR`` when one is
    set and we are in a terminal; otherwise the path printed is all there is to do.
    """
    from ..store.paths import ensure_dir

    ensure_dir(path)
    say(f"Folder: {path}")
    opener = shutil.which("xdg-open") or (
        shutil.which("open") if sys.platform == "darwin" else None
    )
    if opener is None:
        if hasattr(os, "startfile"):
            os.startfile(path)
        elif edit is not None:
            _edit(edit, say)
        return
    try:
        subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as err:
        say(f"Could not open it ({err}); open it yourself.")


def _edit(file: Path, say: Callable[[str], None]) -> None:
    import shlex

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor or not sys.stdin.isatty():
        return
    say(f"Opening {file} in {editor}.")
    try:
        subprocess.run([*shlex.split(editor), str(file)], check=False)
    except OSError as err:
        say(f"Could not start {editor} ({err}); edit {file} yourself.")
