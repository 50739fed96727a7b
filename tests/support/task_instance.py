"""A stand-in for the task instance an operator's ``execute`` reads and writes, for tests that call
``execute`` directly (no Airflow metadata DB). Tests that need Airflow itself use ``dag.test()``."""

from __future__ import annotations

from typing import Any


class FakeTaskInstance:
    """The ids the idempotency token is derived from, and XCom kept in a dict."""

    def __init__(
        self,
        dag_id: str = "d",
        task_id: str = "t",
        run_id: str = "manual__1",
        map_index: int = -1,
        try_number: int = 1,
    ) -> None:
        self.dag_id, self.task_id, self.run_id = dag_id, task_id, run_id
        self.map_index, self.try_number = map_index, try_number
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(key)
