"""R: one persistent R process; the global environment persists between runs."""

from __future__ import annotations

from typing import ClassVar

from .repl import ReplLanguage

# Parses each request with source references, marks each top-level expression's line,
# prints visible values as the R console does, reports errors, warnings and
# interrupts as conditions, and keeps going.
DRIVER = r"""
local({
  fd <- Sys.getenv('INTERPRETER_PROTOCOL_FD')
  requests <- file(paste0('/dev/fd/', fd), open = 'r', raw = TRUE)
  say <- function(...) { cat(paste0(...)); flush(stdout()) }
  report <- function(kind, cond) {
    call <- conditionCall(cond)
    ours <- is.null(call) || identical(call[[1]], quote(eval)) || identical(call[[1]], quote(parse))
    where <- if (ours) '' else paste0(' in ', deparse(call)[1])
    say(kind, where, ': ', conditionMessage(cond), '\n')
  }
  evaluate <- function(exprs, token) {
    lines <- vapply(attr(exprs, 'srcref'), function(ref) ref[1], integer(1))
    for (i in seq_along(exprs)) {
      say('\x1e', token, ':', lines[i], '\x1f')
      result <- withVisible(eval(exprs[[i]], globalenv()))
      if (result$visible) print(result$value)
      flush(stdout())
    }
  }
  repeat {
    line <- tryCatch(readLines(requests, n = 1), interrupt = function(i) character(0))
    if (length(line) == 0) { if (isIncomplete(requests)) next else break }
    parts <- strsplit(line, ' ', fixed = TRUE)[[1]]
    token <- parts[1]
    hex <- if (length(parts) > 1) parts[2] else ''
    bytes <- as.raw(strtoi(substring(hex, seq(1, nchar(hex), 2), seq(2, nchar(hex), 2)), 16L))
    code <- rawToChar(bytes)
    Encoding(code) <- 'UTF-8'
    tryCatch(
      withCallingHandlers(
        evaluate(parse(text = code, keep.source = TRUE), token),
        warning = function(w) {
          report('Warning message', w)
          invokeRestart('muffleWarning')
        }
      ),
      error = function(e) report('Error', e),
      interrupt = function(i) say('Interrupted\n')
    )
    say('\x1e', token, ':end\x1f')
  }
  quit(save = 'no')
})
"""


class R(ReplLanguage):
    """R, one persistent process (``Rscript``) sharing the global environment."""

    name: ClassVar[str] = "R"
    aliases: ClassVar[tuple[str, ...]] = ("rlang", "rscript")
    file_extension: ClassVar[str] = "r"
    executable: ClassVar[str] = "Rscript"
    marks_lines: ClassVar[bool] = True
    install_hint: ClassVar[str] = (
        "Install R (https://www.r-project.org, e.g. `apt install r-base-core`) and try again."
    )

    def argv(self) -> list[str]:
        return [self.executable, "--vanilla", "-e", DRIVER]
