"""Fitting a long conversation to the context window, per turn, ours against the trimming
Open Interpreter 0.4.3 does (``tokentrim.trim``, its dependency, called as 0.4.3 calls it).

A 200-turn session grows one turn at a time (every fourth turn runs code whose output the
model sees, 2,800 characters of it); before each turn's request both sides fit the same
OpenAI-format messages to a 16k-token window (12k tokens of room after the reply's share),
with the same tokenizer (cl100k_base). Ours keeps its state across turns as a session does
(``llm/context.py``: the cut and the token counts per message); tokentrim starts afresh
each time, as in 0.4.3. Reported: the mean time per turn over the session and the time of
the 200th turn, and for ours also the LMC -> wire conversion plus fitting.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from common import OURS, PEER, Measure, Options, Row, pick

WINDOW = 16_000
ROOM = WINDOW - WINDOW // 4 - 3  # what our fitting leaves for messages; given to tokentrim too
MODEL = "gpt-4-turbo"  # counted with cl100k_base on both sides
SYSTEM = "You are Open Interpreter, a world-class programmer. " * 20
ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
NONE = Measure.failed("-")


def listing(n: int, size: int = 2800) -> str:
    line = "line {i:05d} of a long listing printed by turn {n}\n"
    text = "".join(line.format(i=i, n=n) for i in range(size // 40 + 1))
    return text[:size]


def session(turns: int) -> tuple[list[dict[str, Any]], list[int]]:
    """The wire messages of the whole session, and where each turn's request ends."""
    wire: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    ends: list[int] = []
    for n in range(1, turns + 1):
        wire.append({"role": "user", "content": f"This is turn {n}. " + "please " * 20})
        ends.append(len(wire))
        if n % 4 == 0:
            call = {"id": f"call_{n}", "type": "function"}
            call["function"] = {
                "name": "execute",
                "arguments": '{"language": "python", "code": "ls()"}',
            }
            wire.append({"role": "assistant", "content": None, "tool_calls": [call]})
            wire.append({"role": "tool", "tool_call_id": f"call_{n}", "content": listing(n)})
        wire.append({"role": "assistant", "content": f"Done with turn {n}. " + "word " * 40})
    return wire, ends


def lmc_session(turns: int) -> tuple[list[dict[str, Any]], list[int]]:
    """The same session as LMC messages (ours only: conversion + fitting)."""
    messages: list[dict[str, Any]] = []
    ends: list[int] = []
    for n in range(1, turns + 1):
        messages.append(
            {"role": "user", "type": "message", "content": f"This is turn {n}. " + "please " * 20}
        )
        ends.append(len(messages))
        if n % 4 == 0:
            messages.append(
                {"role": "assistant", "type": "code", "format": "python", "content": "ls()"}
            )
            messages.append(
                {"role": "computer", "type": "console", "format": "output", "content": listing(n)}
            )
        messages.append(
            {
                "role": "assistant",
                "type": "message",
                "content": f"Done with turn {n}. " + "word " * 40,
            }
        )
    return messages, ends


def time_turns(fit: Any, requests: list[list[dict[str, Any]]]) -> tuple[list[float], int]:
    times, kept = [], 0
    for request in requests:
        started = time.perf_counter()
        kept = len(fit(request))
        times.append(time.perf_counter() - started)
    return times, kept


def ours_worker(turns: int) -> dict[str, Any]:
    from interpreter.llm.context import ContextState, TokenCounts, fit_stable
    from interpreter.llm.tokens import get_encoding
    from interpreter.llm.wire import to_openai

    get_encoding(MODEL)  # loaded before timing, as on the peer's side
    wire, ends = session(turns)
    state, counts = ContextState(), TokenCounts()

    def fit(request: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kwargs = {"model": MODEL, "context_window": WINDOW, "max_tokens": None}
        return fit_stable(request, state=state, counts=counts, **kwargs)

    times, kept = time_turns(fit, [wire[:end] for end in ends])
    lmc, lmc_ends = lmc_session(turns)
    state2, counts2 = ContextState(), TokenCounts()

    def convert_and_fit(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        request = to_openai(messages, SYSTEM)  # type: ignore[arg-type]
        kwargs = {"model": MODEL, "context_window": WINDOW, "max_tokens": None}
        return fit_stable(request, state=state2, counts=counts2, **kwargs)

    both, _ = time_turns(convert_and_fit, [lmc[:end] for end in lmc_ends])
    return {
        "mean": statistics.fmean(times),
        "last": times[-1],
        "kept": kept,
        "moves": state.moves,
        "convert_mean": statistics.fmean(both),
        "convert_last": both[-1],
    }


def peer_worker(turns: int) -> dict[str, Any]:
    import tokentrim

    tokentrim.trim([{"role": "user", "content": "warm up"}], max_tokens=100)
    wire, ends = session(turns)

    def fit(request: list[dict[str, Any]]) -> list[dict[str, Any]]:
        system, messages = request[0]["content"], [dict(m) for m in request[1:]]
        trimmed: list[dict[str, Any]] = tokentrim.trim(
            messages, system_message=system, max_tokens=ROOM
        )
        return trimmed

    times, kept = time_turns(fit, [wire[:end] for end in ends])
    return {"mean": statistics.fmean(times), "last": times[-1], "kept": kept}


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    turns = int(rest[0])
    return ours_worker(turns) if side == OURS else peer_worker(turns)


def peer_encodings() -> str:
    """A tiktoken cache holding cl100k_base (from our shipped copy): the peer's tiktoken
    would download it otherwise, and these benchmarks run offline."""
    folder = Path(tempfile.mkdtemp(prefix="bench-tiktoken-"))
    data = gzip.decompress(
        (common.SRC / "interpreter/llm/data/cl100k_base.tiktoken.gz").read_bytes()
    )
    (folder / hashlib.sha1(ENCODING_URL.encode()).hexdigest()).write_bytes(data)
    return str(folder)


def collect(opts: Options) -> list[Row]:
    turns = 40 if opts.quick else 200
    os.environ["TIKTOKEN_CACHE_DIR"] = peer_encodings()  # inherited by the workers
    results = {
        side: common.run_worker(side, opts, "bench_context.py", [str(turns)], opts.timeout)
        for side in (OURS, PEER)
    }
    label = f"fit to a 16k window, {turns} turns"
    ours, peer = results[OURS], results[PEER]
    target = {"target": "< 5 ms", "limit": 0.005}
    return [
        Row(f"{label}: mean per turn", "ms", pick(ours, "mean"), pick(peer, "mean"), **target),
        Row(f"{label}: turn {turns}", "ms", pick(ours, "last"), pick(peer, "last"), **target),
        Row("  ours with LMC -> wire conversion, mean", "ms", pick(ours, "convert_mean"), NONE),
        Row(f"  ours with conversion, turn {turns}", "ms", pick(ours, "convert_last"), NONE),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
