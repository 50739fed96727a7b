"""Serve the demo orders API: ``python -m orders_api [--host H] [--port P]``.

The key comes from ``ORDERS_API_KEY`` or ``--api-key-file`` (default: the demo key); never from
the command line, where every local user could read it. ``ORDERS_API_THROTTLE_EVERY=N`` makes
every Nth call answer 429 with ``Retry-After: ORDERS_API_RETRY_AFTER`` (default 1) seconds.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from .app import DEMO_API_KEY, OrdersApiSettings, create_app


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orders_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("ORDERS_API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ORDERS_API_PORT", "8765")))
    parser.add_argument("--api-key-file", type=Path, help="file holding the API key (first line)")
    args = parser.parse_args(argv)
    key = os.environ.get("ORDERS_API_KEY") or DEMO_API_KEY
    if args.api_key_file:
        key = args.api_key_file.read_text().strip()
    settings = OrdersApiSettings(
        api_key=key,
        throttle_every=_int_env("ORDERS_API_THROTTLE_EVERY", 0),
        retry_after_seconds=_int_env("ORDERS_API_RETRY_AFTER", 1),
    )
    print(f"orders API on http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
