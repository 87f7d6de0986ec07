"""Shared benchmark harness: the two Pythons, worker subprocesses, result rows, the table.

Every benchmark runs the same work twice, once with our package and once with Open
Interpreter 0.4.3 (its own venv), each in a fresh subprocess that prints one
``BENCH_RESULT {json}`` line. This module is imported by those workers too, under either
Python, so it uses only the standard library at import time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"
RESULT_MARK = "BENCH_RESULT "
PEER_VERSION = "0.4.3"
OURS, PEER = "ours", "peer"

# ---------------------------------------------------------------- measurements


@dataclass
class Measure:
    """One measured figure (seconds, bytes ...), or why there is none."""

    value: float | None = None
    note: str = ""
    at_least: bool = False  # the run was cut by a timeout: the true value is higher

    @classmethod
    def failed(cls, note: str) -> Measure:
        return cls(None, note)

    @classmethod
    def timeout(cls, seconds: float) -> Measure:
        return cls(seconds, "timeout", at_least=True)

    @property
    def ok(self) -> bool:
        return self.value is not None


@dataclass
class Row:
    """One line of the table: a metric for both sides and its target."""

    metric: str
    unit: str  # "s", "ms" (values are in seconds either way), "MB" (values in bytes)
    ours: Measure
    peer: Measure
    target: str = ""
    limit: float | None = None  # target met when ours < limit (same unit as values)
    min_ratio: float | None = None  # target met when peer / ours >= min_ratio

    def ratio(self) -> float | None:
        if self.ours.value and self.peer.value is not None and self.ours.value > 0:
            return self.peer.value / self.ours.value
        return None

    def met(self) -> bool | None:
        """Whether our figure meets the target (None: no target or no figure)."""
        if not self.ours.ok or self.ours.value is None:
            return None
        if self.limit is not None:
            return self.ours.value < self.limit
        ratio = self.ratio()
        if self.min_ratio is not None and ratio is not None:
            return ratio >= self.min_ratio
        return None


def fmt_value(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value / 1e6:.0f} MB"
    if unit == "ms" or (unit == "s" and value < 1.0):
        ms = value * 1000
        return f"{ms:.3g} ms" if ms >= 1 else f"{ms:.2f} ms"
    return f"{value:.2f} s"


def fmt_measure(m: Measure, unit: str) -> str:
    if m.value is None:
        return m.note or "-"
    text = fmt_value(m.value, unit)
    return f">= {text}" if m.at_least else text


def fmt_ratio(row: Row) -> str:
    ratio = row.ratio()
    if ratio is None:
        return "-"
    prefix = ">= " if row.peer.at_least else ""
    return f"{prefix}{ratio:.1f}x" if ratio < 100 else f"{prefix}{ratio:.0f}x"


def table(rows: Sequence[Row], markdown: bool = False) -> str:
    """The rows as an aligned text table (or a Markdown one)."""
    head = ["metric", "ours", PEER_VERSION, "ratio", "target", "met"]
    body = [
        [
            r.metric,
            fmt_measure(r.ours, r.unit),
            fmt_measure(r.peer, r.unit),
            fmt_ratio(r),
            r.target,
            {True: "yes", False: "NO", None: ""}[r.met()],
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*c) for c in body]
    )


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------- options


@dataclass
class Options:
    """Command-line options every benchmark understands."""

    quick: bool = False  # tiny sizes, for the smoke test
    no_peer: bool = False  # run our side only
    markdown: bool = False
    timeout: float = 120.0  # cap on one peer run
    profile: bool = False  # profile our workers and print where the time goes
    extra: dict[str, Any] = field(default_factory=dict)


def parse_options(argv: Sequence[str] | None = None, description: str = "") -> Options:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--no-peer", action="store_true", help=f"skip Open Interpreter {PEER_VERSION}"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--timeout", type=float, default=120.0, help="cap on one peer run (s)")
    parser.add_argument("--profile", action="store_true", help="profile our side (cProfile)")
    ns = parser.parse_args(argv)
    no_peer = ns.no_peer or os.environ.get("BENCH_NO_PEER") == "1"
    return Options(
        quick=ns.quick,
        no_peer=no_peer,
        markdown=ns.markdown,
        timeout=ns.timeout,
        profile=ns.profile,
    )


Worker = Callable[[str, list[str]], dict[str, Any]]


def main_for(
    collect: Callable[[Options], list[Row]], description: str, worker: Worker | None = None
) -> int:
    """The ``main`` of one benchmark script: collect rows and print the table, or (with
    ``--worker SIDE ARGS``) run one side's ``worker(side, args)`` and emit its result."""
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        if worker is None or len(sys.argv) < 3:
            raise SystemExit("this script has no worker mode")
        side, rest = sys.argv[2], sys.argv[3:]
        guarded(lambda: worker(side, rest))
        return 0
    opts = parse_options(sys.argv[1:], description)
    started = time.perf_counter()
    rows = collect(opts)
    print()
    print(table(rows, markdown=opts.markdown))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


# ---------------------------------------------------------------- the two Pythons


def ours_python() -> str:
    """Our Python: BENCH_OURS_PYTHON, else /work/venv, else this interpreter."""
    explicit = os.environ.get("BENCH_OURS_PYTHON")
    if explicit:
        return explicit
    venv = Path("/work/venv/bin/python")
    return str(venv) if venv.exists() else sys.executable


def peer_dir() -> Path:
    return Path(os.environ.get("OI_VENV", "/tmp/oi"))


_peer_cache: dict[str, str | None] = {}


def ensure_peer(opts: Options) -> str | None:
    """The peer's Python, installing Open Interpreter 0.4.3 into OI_VENV when missing.

    Returns None (after printing one skip line) when the peer is off or cannot be set up.
    """
    if opts.no_peer:
        return None
    if "python" in _peer_cache:
        return _peer_cache["python"]
    directory = peer_dir()
    python = directory / "bin" / "python"
    if not _peer_installed(python):
        _install_peer(directory)
    result = str(python) if _peer_installed(python) else None
    if result is None:
        print(f"SKIP peer: Open Interpreter {PEER_VERSION} could not be set up in {directory}")
    _peer_cache["python"] = result
    return result


def _peer_installed(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "import importlib.metadata as m; print(m.version('open-interpreter'))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    return done.returncode == 0 and done.stdout.strip() == PEER_VERSION


def _install_peer(directory: Path) -> None:
    print(f"setting up Open Interpreter {PEER_VERSION} in {directory} (one time) ...", flush=True)
    try:
        if not (directory / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True, timeout=300)
        pip = [str(directory / "bin" / "pip"), "install", "-q", f"open-interpreter=={PEER_VERSION}"]
        subprocess.run(pip, check=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as err:
        print(f"  install failed: {err}")


def side_python(side: str, opts: Options) -> str | None:
    return ours_python() if side == OURS else ensure_peer(opts)


# ---------------------------------------------------------------- workers


_home: dict[str, str] = {}


def worker_env(side: str) -> dict[str, str]:
    """A clean, offline environment: its own HOME/config dir, no telemetry, no API keys."""
    if side not in _home:
        _home[side] = tempfile.mkdtemp(prefix=f"bench-{side}-")
    home = _home[side]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("PYTHONPATH", None)
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=f"{home}/.config",
        IPYTHONDIR=f"{home}/.ipython",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        DISABLE_TELEMETRY="true",
        INTERPRETER_NO_DEFAULT_PROFILE="1",
        PYTHONUNBUFFERED="1",
        TERM="xterm-256color",
    )
    if side == OURS:
        env["PYTHONPATH"] = str(SRC)  # this checkout, whichever Python runs it
        compile_ours()
    return env


_compiled: list[bool] = []


def compile_ours() -> None:
    """Compile our checkout's bytecode (``src/**/__pycache__``, ignored by git) once per
    run: an installed package has its .pyc files (pip compiles them, as it did for
    0.4.3), while a checkout under PYTHONDONTWRITEBYTECODE would compile every module on
    every start."""
    if not _compiled:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        command = [ours_python(), "-m", "compileall", "-q", str(SRC)]
        subprocess.run(command, env=env, capture_output=True, check=False)
        _compiled.append(True)


def run_worker(
    side: str, opts: Options, script: str, args: Sequence[str], timeout: float
) -> dict[str, Any] | Measure:
    """Run ``script --worker SIDE args`` under that side's Python; its result dict, or why not.

    A Measure comes back instead of a dict when the run failed, timed out or was skipped.
    """
    python = side_python(side, opts)
    if python is None:
        return Measure.failed("skipped")
    cmd = [python, str(HERE / script), "--worker", side, *args]
    env = worker_env(side)
    profile = tempfile.mktemp(suffix=".prof") if opts.profile and side == OURS else None
    if profile:
        env["BENCH_PROFILE"] = profile
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Measure.timeout(time.perf_counter() - started)
    if profile and os.path.exists(profile):
        print_profile(profile, script)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK) :])
            return result
    return Measure.failed(_failure_note(done))


def _failure_note(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    last = lines[-1].strip() if lines else f"exit {done.returncode}"
    print(f"  worker failed (exit {done.returncode}): {last}", file=sys.stderr)
    return "error: " + last[:60]


def emit(result: dict[str, Any]) -> None:
    """Hand a worker's result back to the driver (the last line of stdout)."""
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result), flush=True)


def pick(result: dict[str, Any] | Measure, key: str) -> Measure:
    """One figure of a worker's result (or the failure, repeated for each figure)."""
    if isinstance(result, Measure):
        return result
    if "error" in result:
        return Measure.failed("error: " + str(result["error"])[:60])
    value = result.get(key)
    if value is None:
        return Measure.failed(str(result.get(key + "_note", "n/a")))
    return Measure(float(value))


# ---------------------------------------------------------------- in the workers


def make_interpreter(side: str, url: str) -> Any:
    """An interpreter of this side pointed at the fake server, auto-running, offline."""
    from interpreter import OpenInterpreter

    if side == OURS:
        ours = OpenInterpreter(load_profile=False)
        ours.llm.api_base, ours.llm.model, ours.llm.api_key = url, "gpt-4o", "x"
        ours.auto_run = True
        return ours
    peer = OpenInterpreter()
    peer.llm.api_base, peer.llm.model, peer.llm.api_key = url, "openai/gpt-4o", "x"
    peer.llm.supports_functions = True
    peer.llm.context_window, peer.llm.max_tokens = 128000, 4096
    peer.auto_run, peer.disable_telemetry, peer.offline = True, True, True
    return peer


def print_profile(path: str, title: str, top: int = 25) -> None:
    """The functions with the most cumulative time in a worker's profile."""
    import pstats

    print(f"\n--- profile of our side: {title} (cumulative, top {top}) ---")
    pstats.Stats(path, stream=sys.stdout).sort_stats("cumulative").print_stats(top)
    os.unlink(path)


def guarded(work: Callable[[], dict[str, Any]]) -> None:
    """Run a worker body and emit its result, or the error it raised.

    With BENCH_PROFILE set, the body runs under cProfile and its stats go to that file.
    """
    profile_path = os.environ.get("BENCH_PROFILE")
    try:
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(work)
            profiler.dump_stats(profile_path)
        else:
            result = work()
    except Exception as err:  # reported to the driver as the figure's note
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(err).__name__}: {err}"}
    emit(result)


# ---------------------------------------------------------------- the fake model server


def fake_server_module() -> Any:
    """``interpreter.testing.fake_server`` of this checkout (in the driver process)."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import interpreter.testing.fake_server as module

    return module
