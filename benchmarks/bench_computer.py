"""Code execution round trips: ``computer.run("python", "x=1")``, ``("shell", "echo hi")``
and JavaScript (when both sides offer it): the first (cold) run, then the median of
several warm runs, ours against Open Interpreter 0.4.3."""

from __future__ import annotations

import shutil
import time
from typing import Any

import common
from common import OURS, PEER, Options, Row

SNIPPETS = {  # language -> (code, text its output must contain)
    "python": ("x=1", ""),
    "shell": ("echo hi", "hi"),
    "javascript": ("var x = 1; console.log('hi')", "hi"),
}


def _output(result: Any) -> str:
    if not isinstance(result, list):
        return str(result)
    return "".join(str(c.get("content", "")) for c in result if isinstance(c, dict))


def _timed_run(interp: Any, language: str) -> float:
    code, expected = SNIPPETS[language]
    started = time.perf_counter()
    result = interp.computer.run(language, code)
    elapsed = time.perf_counter() - started
    if expected not in _output(result):
        raise RuntimeError(f"{language} run gave {_output(result)[:80]!r}")
    return elapsed


def _supports(side: str, interp: Any, language: str) -> bool:
    if language != "javascript":
        return True
    if shutil.which("node") is None:
        return False
    if side == OURS:
        return interp.computer.get_language("javascript") is not None
    return interp.computer.terminal.get_language("javascript") is not None


def measure_language(side: str, interp: Any, language: str, iters: int) -> dict[str, Any]:
    if not _supports(side, interp, language):
        return {f"{language}_cold_note": "not offered", f"{language}_warm_note": "not offered"}
    cold = _timed_run(interp, language)
    warm = [_timed_run(interp, language) for _ in range(iters)]
    return {f"{language}_cold": cold, f"{language}_warm": common.median(warm)}


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    iters = int(rest[0])
    interp = common.make_interpreter(side, "http://127.0.0.1:9/v1")
    result: dict[str, Any] = {}
    try:
        for language in SNIPPETS:
            try:
                result.update(measure_language(side, interp, language, iters))
            except Exception as err:  # one language failing leaves the others measured
                note = f"error: {type(err).__name__}: {err}"[:70]
                result[f"{language}_cold_note"] = result[f"{language}_warm_note"] = note
    finally:
        interp.computer.terminate()
    return result


def collect(opts: Options) -> list[Row]:
    iters = 2 if opts.quick else 7
    timeout = 60 if opts.quick else 300
    results = {
        side: common.run_worker(side, opts, "bench_computer.py", [str(iters)], timeout)
        for side in (OURS, PEER)
    }

    def row(key: str, label: str, target: str = "", **kw: Any) -> Row:
        ours, peer = (common.pick(results[s], key) for s in (OURS, PEER))
        return Row(label, "s", ours, peer, target, **kw)

    return [
        row("python_cold", "python: first run (cold start)"),
        row("python_warm", f"python x=1 warm (median of {iters})", ">= 100x faster", min_ratio=100),
        row("shell_cold", "shell: first run (cold start)"),
        row(
            "shell_warm", f"shell echo hi warm (median of {iters})", ">= 100x faster", min_ratio=100
        ),
        row("javascript_cold", "javascript: first run (cold start)"),
        row("javascript_warm", f"javascript warm (median of {iters})"),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
