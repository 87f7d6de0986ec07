"""The fake model server's command line.

``python -m interpreter.testing.fake_server --port N --script FILE.json --log FILE.jsonl``
(or ``python -m interpreter.testing ...``): FILE.json is a JSON list of reply objects
(see ``Reply.from_dict``); prints ``listening on URL`` and serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from .fake_server import FakeModelServer, Reply


def main(argv: Sequence[str] | None = None) -> int:
    """Run a fake server from the command line until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m interpreter.testing.fake_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON list of reply objects")
    parser.add_argument("--log", type=Path, help="append each request as a JSON line")
    args = parser.parse_args(argv)
    server = FakeModelServer(port=args.port, log_path=args.log)
    if args.script is not None:
        items = json.loads(args.script.read_text(encoding="utf-8"))
        server.script(*(Reply.from_dict(item) for item in items))
    server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
