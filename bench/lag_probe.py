"""A trigger that measures its own event loop's lag inside a triggerer (for bench_triggerer.py).

Every ``interval`` seconds it asks to wake up and records how late it woke: the time other
coroutines (and the runner's own work) held the loop. Samples go to ``path`` as
``<unix time> <lag seconds>`` lines, written once a second; it fires once ``stop_path`` exists.
Importable by the triggerer because bench/ is on its ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class LoopLagProbeTrigger(BaseTrigger):
    def __init__(self, path: str, stop_path: str, interval: float = 0.05) -> None:
        super().__init__()
        self.path = path
        self.stop_path = stop_path
        self.interval = float(interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "lag_probe.LoopLagProbeTrigger",
            {"path": self.path, "stop_path": self.stop_path, "interval": self.interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        loop = asyncio.get_running_loop()
        samples: list[str] = []
        last_flush = loop.time()
        while not os.path.exists(self.stop_path):
            asked = loop.time()
            await asyncio.sleep(self.interval)
            lag = loop.time() - asked - self.interval
            samples.append(f"{time.time():.3f} {max(lag, 0.0):.6f}\n")
            if loop.time() - last_flush >= 1.0:
                with open(self.path, "a") as out:
                    out.writelines(samples)
                samples.clear()
                last_flush = loop.time()
        with open(self.path, "a") as out:
            out.writelines(samples)
        yield TriggerEvent({"status": "success", "probe": True})
