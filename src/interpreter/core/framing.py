"""Frames a flat stream of LMC chunks with Open Interpreter's start/end flags."""

from __future__ import annotations

from typing import Literal

from ..lmc import Chunk


def _flag(block: Chunk, flag: Literal["start", "end"]) -> Chunk:
    out: Chunk = {"role": block["role"], "type": block["type"]}
    if block["type"] != "console" and "format" in block:
        out["format"] = block["format"]
    out[flag] = True
    return out


class Framer:
    """Opens and closes blocks: one start and one end flag per block.

    Consecutive chunks with the same role and type (and format, except for console)
    belong to one block. Empty content chunks are dropped.
    """

    def __init__(self) -> None:
        self.block: Chunk | None = None

    def push(self, chunk: Chunk) -> list[Chunk]:
        if chunk.get("content") in ("", None) and chunk.get("format") != "active_line":
            return []
        out = [] if self._continues(chunk) else [*self.close(), self._open(chunk)]
        out.append(chunk)
        return out

    def close(self) -> list[Chunk]:
        if self.block is None:
            return []
        block, self.block = self.block, None
        return [_flag(block, "end")]

    def _continues(self, chunk: Chunk) -> bool:
        block = self.block
        if block is None or block["role"] != chunk["role"] or block["type"] != chunk["type"]:
            return False
        return chunk["type"] == "console" or block.get("format") == chunk.get("format")

    def _open(self, chunk: Chunk) -> Chunk:
        block: Chunk = {}
        for key in ("role", "type", "format"):
            if key in chunk:
                block[key] = chunk[key]
        self.block = block
        return _flag(block, "start")
