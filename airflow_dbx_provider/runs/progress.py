"""One progress logger for both ways of waiting on a run: the operator's ``runs/get`` loop and the trigger.

Each change of the run's state and of each task attempt's state becomes one log line with the time
elapsed since the run started (or since the logger was created, when the run carries no
``start_time``); the run page URL is logged once, on the first line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_dbx_provider.runs.state import RunState


class RunProgressLogger:
    """Logs each change of a run's state and of each of its tasks, with elapsed time and run page.

    :param log: any logger with ``info`` (the operator's or the trigger's, so lines reach the task log).
    :param clock: seconds since the epoch (tests pass a fake).
    """

    def __init__(self, log: Any, run_id: int, *, clock: Callable[[], float] = time.time) -> None:
        self.log = log
        self.run_id = run_id
        self._clock = clock
        self.started = clock()
        self._url_logged = False
        self._run_state: str | None = None
        self._task_states: dict[tuple[str, int], str] = {}

    def _elapsed(self, run: Mapping[str, Any]) -> float:
        start_ms = run.get("start_time")
        started = start_ms / 1000.0 if isinstance(start_ms, (int, float)) and start_ms > 0 else self.started
        return max(0.0, self._clock() - started)

    def observe(self, run: Mapping[str, Any]) -> None:
        """Log what changed since the last observed view of the run (a ``runs/get`` or list item)."""
        elapsed = self._elapsed(run)
        state = RunState.of_run(run)
        if str(state) != self._run_state:
            url = run.get("run_page_url")
            self.log.info(
                "Run %s is %s after %.1fs%s%s",
                self.run_id,
                state,
                elapsed,
                f": {state.state_message}" if state.state_message else "",
                f" ({url})" if url and not self._url_logged else "",
            )
            self._url_logged = self._url_logged or bool(url)
            self._run_state = str(state)
        for task in run.get("tasks") or []:
            key = (str(task.get("task_key")), int(task.get("attempt_number") or 0))
            task_state = str(RunState.from_api(task.get("state")))
            if self._task_states.get(key) != task_state:
                self.log.info(
                    "  task %s%s is %s after %.1fs",
                    key[0],
                    f" (attempt {key[1]})" if key[1] else "",
                    task_state,
                    elapsed,
                )
                self._task_states[key] = task_state
