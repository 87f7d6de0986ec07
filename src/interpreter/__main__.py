"""``python -m interpreter``: the ``interpreter`` command."""

from __future__ import annotations

from .terminal.cli import main

if __name__ == "__main__":
    main()
