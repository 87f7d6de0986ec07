"""Java: each run compiles and runs the snippet (``java File.java``, Java 11+); no state."""

from __future__ import annotations

import re
from typing import ClassVar

from .repl import OneShotLanguage

_TYPE = re.compile(
    r"^\s*(?:(?:public|final|abstract|sealed)\s+)*(?:class|interface|enum|record)\s", re.M
)
_IMPORT = re.compile(r"^\s*import\s+[\w.*\s]+;\s*$")


def as_program(code: str) -> str:
    """The code as a source file: bare statements go into ``Main.main``, imports first."""
    if _TYPE.search(code):
        return code
    lines = code.splitlines()
    imports = [line for line in lines if _IMPORT.match(line)]
    body = [line for line in lines if not _IMPORT.match(line)]
    return "\n".join(
        [
            *imports,
            "public class Main {",
            "    public static void main(String[] args) throws Exception {",
            *body,
            "    }",
            "}",
            "",
        ]
    )


class Java(OneShotLanguage):
    """Java via single-file source launch; bare statements are wrapped in a class."""

    name: ClassVar[str] = "Java"
    file_extension: ClassVar[str] = "java"
    file_name: ClassVar[str] = "Main.java"
    executable: ClassVar[str] = "java"
    install_hint: ClassVar[str] = (
        "Install a Java 11+ JDK (e.g. `apt install default-jdk`) and try again."
    )

    def source(self, code: str) -> str:
        return as_program(code)

    def argv(self, path: str) -> list[str]:
        return [self.executable, "-Dfile.encoding=UTF-8", "-Dstdout.encoding=UTF-8", path]
