"""``python -m interpreter.testing ...``: the fake model server's command line (``main`` in
``fake_server``, also run as ``python -m interpreter.testing.fake_server``).

``--port N --script FILE.json --log FILE.jsonl``: FILE.json is a JSON list of reply
objects (see ``Reply.from_dict``); prints ``listening on URL`` and serves until
interrupted.
"""

from __future__ import annotations

from .fake_server import main

if __name__ == "__main__":
    raise SystemExit(main())
