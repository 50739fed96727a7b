"""Run state as a small value type, and the state sets that classify it.

It travels inside ``TriggerEvent`` payloads, so it converts to and from plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

TERMINAL_LIFE_CYCLE_STATES = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
#: Result states that count as success for the Airflow task (SUCCESS_WITH_FAILURES is a success of
#: the run where only tasks marked "allowed to fail" failed, as Databricks itself reports it).
SUCCESS_RESULT_STATES = frozenset({"SUCCESS", "SUCCESS_WITH_FAILURES"})
#: Task result states that produced no output of their own (nothing to fetch with get-output).
NO_OUTPUT_RESULT_STATES = frozenset(
    {"UPSTREAM_FAILED", "UPSTREAM_CANCELED", "EXCLUDED", "DISABLED", "SKIPPED"}
)


@dataclass(frozen=True)
class RunState:
    """``state`` of a run or task run: ``life_cycle_state``, ``result_state`` (terminal only), message."""

    life_cycle_state: str
    result_state: str | None = None
    state_message: str = ""

    @classmethod
    def from_api(cls, state: Mapping[str, Any] | None) -> RunState:
        state = state or {}
        return cls(
            life_cycle_state=str(state.get("life_cycle_state") or "PENDING"),
            result_state=state.get("result_state") or None,
            state_message=str(state.get("state_message") or ""),
        )

    @classmethod
    def of_run(cls, run: Mapping[str, Any]) -> RunState:
        return cls.from_api(run.get("state"))

    @property
    def is_terminal(self) -> bool:
        return self.life_cycle_state in TERMINAL_LIFE_CYCLE_STATES

    @property
    def is_successful(self) -> bool:
        return self.life_cycle_state == "TERMINATED" and self.result_state in SUCCESS_RESULT_STATES

    @property
    def outcome(self) -> str:
        """One word that tells the terminal outcomes apart (SUCCESS, FAILED, TIMEDOUT, CANCELED, ...)."""
        if self.life_cycle_state in ("SKIPPED", "INTERNAL_ERROR"):
            return self.life_cycle_state
        return self.result_state or self.life_cycle_state

    def describe(self) -> str:
        """Human phrase for log lines and error messages."""
        phrase = {
            "SUCCESS": "succeeded",
            "SUCCESS_WITH_FAILURES": "succeeded with failures",
            "FAILED": "failed",
            "TIMEDOUT": "timed out (its timeout_seconds was reached)",
            "CANCELED": "was canceled",
            "SKIPPED": "was skipped",
            "INTERNAL_ERROR": "ended with a Databricks internal error",
            "MAXIMUM_CONCURRENT_RUNS_REACHED": "was not started: maximum concurrent runs reached",
            "UPSTREAM_FAILED": "did not run: an upstream task failed",
            "UPSTREAM_CANCELED": "did not run: an upstream task was canceled",
            "EXCLUDED": "was excluded",
            "DISABLED": "is disabled",
        }.get(self.outcome, self.outcome.lower())
        message = self.state_message.strip().rstrip(".")  # the caller ends the sentence
        return f"{phrase}: {message}" if message else phrase

    def describe_briefly(self) -> str:
        """:meth:`describe` without Databricks' state message (when the details follow anyway)."""
        return RunState(self.life_cycle_state, self.result_state).describe()

    def __str__(self) -> str:
        if self.result_state:
            return f"{self.life_cycle_state}/{self.result_state}"
        return self.life_cycle_state

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        return cls(
            life_cycle_state=str(data["life_cycle_state"]),
            result_state=data.get("result_state"),
            state_message=str(data.get("state_message") or ""),
        )
