"""React: the component goes into an HTML page that loads React and Babel from a CDN.

The page is saved and its path shown (see html.py); we fetch nothing ourselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from ...lmc import Chunk
from .html import HTML, page_chunks
from .output import active_line, output

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <title>React App</title>
</head>
<body>
    <div id="root"></div>
    <script crossorigin src="https://unpkg.com/react@17/umd/react.development.js"></script>
    <script crossorigin src="https://unpkg.com/react-dom@17/umd/react-dom.development.js"></script>
    <script crossorigin src="https://unpkg.com/@babel/standalone@7.12.1/babel.min.js"></script>
    <script type="text/babel">
{code}
    </script>
</body>
</html>
"""

_MODULE_LINE = re.compile(r"\s*(?:require\(|import\s|export\s)")
UNSUPPORTED = (
    "Error: React code runs in a <script> tag after React, ReactDOM and Babel (for JSX) "
    "are loaded, so `require`, `import` and `export` are not supported. Use React and "
    "ReactDOM as globals and render into document.getElementById('root').\n"
)


def page(code: str) -> str:
    """The HTML page running ``code``."""
    return TEMPLATE.replace("{code}", code)


class React(HTML):
    """React components shown through a saved page (React 17 and Babel from unpkg)."""

    name: ClassVar[str] = "React"
    aliases: ClassVar[tuple[str, ...]] = ("jsx",)
    file_extension: ClassVar[str] = "html"

    def run(self, code: str) -> Iterator[Chunk]:
        if any(_MODULE_LINE.match(line) for line in code.splitlines()[:5]):
            yield output(UNSUPPORTED)
            yield active_line(None)
            return
        yield from page_chunks(page(code), "React page")
