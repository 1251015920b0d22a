"""``python -m demo [--port N]``: serve the demo site until Ctrl-C."""
from __future__ import annotations

import argparse
import threading

from . import serve_demo


def main(argv: list[str] | None = None) -> None:
    """Serve in the foreground so a human can browse the demo site."""
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = parser.parse_args(argv)
    with serve_demo(args.host, args.port) as server:
        print(f"Demo site at {server.url}  (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
