"""The example pipeline's demo orders API, run next to (not inside) the workspace emulator.

``python -m orders_api`` from ``dags_examples/`` (or ``python -m dags_examples.orders_api`` from the
repository root) serves it; :class:`OrdersApiServer` runs it in a thread for tests and the demo.
"""

from __future__ import annotations

import threading
import time

import uvicorn

from .app import DEMO_API_KEY, OrdersApiSettings, create_app
from .data import orders_for_day, orders_for_window

__all__ = [
    "DEMO_API_KEY",
    "OrdersApiServer",
    "OrdersApiSettings",
    "create_app",
    "orders_for_day",
    "orders_for_window",
]


class OrdersApiServer:
    """The orders API on ``host``:``port`` (0: a free port) in a background thread."""

    def __init__(
        self, settings: OrdersApiSettings | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app = create_app(settings)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name="orders-api", daemon=True)
        self.host = host

    @property
    def settings(self) -> OrdersApiSettings:
        return self.app.state.settings

    def start(self, timeout: float = 10.0) -> OrdersApiServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the orders API did not start")
            time.sleep(0.02)
        return self

    @property
    def port(self) -> int:
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL of the API (what the ``orders_api_default`` connection's host holds)."""
        return f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
