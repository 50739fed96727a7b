"""Hostile HTTP inputs for the emulator: each with the exact status and error_code Databricks
answers (issue 11). Shared with tests/bad_input/test_emulator_hostile.py, which sends each one
to a live emulator and also checks the body is `{"error_code", "message"}`.

Placeholders in paths, params and bodies are filled at run time: `{job}` (a job of the admin),
`{cluster}` (a cluster of the admin), `{notebook_id}` / `{folder_id}` (the admin's notebook and
home folder), `{run}` (a finished run of the admin). Tokens: "admin", "bob" (a plain user),
"none" (no Authorization header), "bad" (an unknown token).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

BAD = "INVALID_PARAMETER_VALUE"
MALFORMED = "MALFORMED_REQUEST"
DENIED = "PERMISSION_DENIED"
MISSING = "RESOURCE_DOES_NOT_EXIST"
TOO_LARGE = "REQUEST_ENTITY_TOO_LARGE"
HUGE = 10**30
HUGER = 10**400  # the timeout that froze the engine across restarts
B64 = base64.b64encode(b"print(1)").decode()
SIM = {"task_key": "t", "spark_jar_task": {"main_class_name": "M"}, "existing_cluster_id": "c"}
COMPUTE = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


@dataclass(frozen=True)
class Hostile:
    id: str
    method: str
    path: str  # under the workspace URL, e.g. /api/2.2/jobs/create
    body: Any = None  # JSON-serialised as is
    params: dict[str, Any] = field(default_factory=dict)
    status: int = 400
    error_code: str | int = BAD
    token: str = "admin"
    raw: bytes | None = None  # sent instead of `body`, as application/json


def _chain(n: int) -> list[dict[str, Any]]:
    """n tasks, each depending on the next one, declared in reverse order (the recursion trap)."""
    return [
        {**SIM, "task_key": f"t{i}", "depends_on": [{"task_key": f"t{i + 1}"}] if i + 1 < n else []}
        for i in range(n)
    ]


def _deep(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


def _job(**settings: Any) -> dict[str, Any]:
    return {"name": "hostile", "tasks": [SIM], **settings}


def _submit(**body: Any) -> dict[str, Any]:
    return {"run_name": "hostile", "tasks": [SIM], **body}


def _task(**fields: Any) -> dict[str, Any]:
    return _job(tasks=[{**SIM, **fields}])


CREATE, SUBMIT = "/api/2.2/jobs/create", "/api/2.2/jobs/runs/submit"
CASES: list[Hostile] = [
    # -- request bodies ------------------------------------------------------------------------------
    Hostile("body-not-json", "POST", CREATE, raw=b"{not json", error_code=MALFORMED),
    Hostile("body-a-list", "POST", CREATE, raw=b"[1, 2]", error_code=MALFORMED),
    Hostile("body-a-string", "POST", CREATE, raw=b'"x"', error_code=MALFORMED),
    Hostile("body-invalid-utf8", "POST", CREATE, raw=b'{"name": "\xff\xfe"}', error_code=MALFORMED),
    Hostile("body-lone-surrogate", "POST", CREATE, raw=b'{"name": "\\ud800"}', error_code=MALFORMED),
    Hostile("body-lone-surrogate-key", "POST", CREATE, raw=b'{"\\udfff": 1}', error_code=MALFORMED),
    Hostile("body-deep-json-100", "POST", CREATE, raw=_deep(100), error_code=MALFORMED),
    Hostile("body-deep-json-100000", "POST", CREATE, raw=_deep(100_000), error_code=MALFORMED),
    Hostile(
        "body-number-5000-digits",
        "POST",
        CREATE,
        raw=b'{"timeout_seconds": ' + b"9" * 5000 + b"}",
        error_code=MALFORMED,
    ),  # fmt: skip
    Hostile(
        "body-11mb-jobs",
        "POST",
        CREATE,
        body=_job(description="x" * (11 * 1024 * 1024)),
        status=413,
        error_code=TOO_LARGE,
    ),  # fmt: skip
    Hostile(
        "body-17mb-dbfs",
        "POST",
        "/api/2.0/dbfs/put",
        raw=b'{"path": "/x", "contents": "' + b"A" * (17 << 20) + b'"}',
        status=413,
        error_code=TOO_LARGE,
    ),  # fmt: skip
    Hostile("body-deep-json-runs-submit", "POST", SUBMIT, raw=_deep(5000), error_code=MALFORMED),
    # A percent-encoded lone surrogate (invalid UTF-8) in the query decodes to U+FFFD: just a missing path.
    Hostile(
        "query-lone-surrogate",
        "GET",
        "/api/2.0/dbfs/get-status?path=%2F%ED%A0%80",
        status=404,
        error_code=MISSING,
    ),
    Hostile("path-param-percent-nul", "GET", "/api/2.0/permissions/directories/1%002"),
    Hostile(
        "path-param-invalid-utf8",
        "GET",
        "/api/2.0/permissions/notebooks/%FF%FE",
        status=404,
        error_code=MISSING,
    ),
    # -- authentication ------------------------------------------------------------------------------
    Hostile("auth-none", "GET", "/api/2.2/jobs/list", token="none", status=401, error_code=401),
    Hostile("auth-unknown-token", "GET", "/api/2.2/jobs/list", token="bad", status=403, error_code=403),
    Hostile("auth-none-on-create", "POST", CREATE, body=_job(), token="none", status=401, error_code=401),
    Hostile("auth-none-admin-reset", "POST", "/_emulator/reset", token="none", status=401, error_code=401),
    Hostile("auth-bob-admin-reset", "POST", "/_emulator/reset", token="bob", status=403, error_code=DENIED),
    Hostile(
        "auth-bob-admin-faults",
        "POST",
        "/_emulator/faults",
        body={"target": "*", "kind": "500"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- jobs/create ---------------------------------------------------------------------------------
    Hostile("job-name-a-list", "POST", CREATE, body=_job(name=["x"])),
    Hostile("job-name-5000-bytes", "POST", CREATE, body=_job(name="n" * 5000)),
    Hostile("job-description-30000", "POST", CREATE, body=_job(description="d" * 30000)),
    Hostile("job-tasks-a-string", "POST", CREATE, body=_job(tasks="x")),
    Hostile("job-tasks-of-numbers", "POST", CREATE, body=_job(tasks=[1, 2])),
    Hostile(
        "job-1001-tasks", "POST", CREATE, body=_job(tasks=[{**SIM, "task_key": f"t{i}"} for i in range(1001)])
    ),
    Hostile("job-1500-chain-reversed", "POST", CREATE, body=_job(tasks=_chain(1500))),
    Hostile("job-task-key-missing", "POST", CREATE, body=_job(tasks=[{"spark_jar_task": {}}])),
    Hostile("job-task-key-101", "POST", CREATE, body=_task(task_key="k" * 101)),
    Hostile("job-task-key-nul", "POST", CREATE, body=_task(task_key="a\x00b")),
    Hostile("job-task-key-a-number", "POST", CREATE, body=_task(task_key=7)),
    Hostile("job-task-key-an-object", "POST", CREATE, body=_task(task_key={"a": 1})),
    Hostile("job-task-duplicate-keys", "POST", CREATE, body=_job(tasks=[SIM, SIM])),
    Hostile("job-task-no-kind", "POST", CREATE, body=_job(tasks=[{"task_key": "t"}])),
    Hostile("job-task-two-kinds", "POST", CREATE, body=_task(notebook_task={"notebook_path": "/x"})),
    Hostile(
        "job-task-kind-a-string", "POST", CREATE, body=_job(tasks=[{"task_key": "t", "notebook_task": "x"}])
    ),
    Hostile("job-depends-on-a-string", "POST", CREATE, body=_task(depends_on="t")),
    Hostile("job-depends-on-unknown", "POST", CREATE, body=_task(depends_on=[{"task_key": "nope"}])),
    Hostile("job-depends-on-itself", "POST", CREATE, body=_task(depends_on=[{"task_key": "t"}])),
    Hostile(
        "job-cycle",
        "POST",
        CREATE,
        body=_job(
            tasks=[
                {**SIM, "task_key": "a", "depends_on": [{"task_key": "b"}]},
                {**SIM, "task_key": "b", "depends_on": [{"task_key": "a"}]},
            ]
        ),
    ),  # fmt: skip
    Hostile("job-run-if-bogus", "POST", CREATE, body=_task(run_if="SOMETIMES")),
    Hostile("job-timeout-1e400", "POST", CREATE, body=_job(timeout_seconds=HUGER)),
    Hostile("job-timeout-1e30", "POST", CREATE, body=_job(timeout_seconds=HUGE)),
    Hostile("job-timeout-negative", "POST", CREATE, body=_job(timeout_seconds=-1)),
    Hostile("job-timeout-2e31", "POST", CREATE, body=_job(timeout_seconds=2**31)),
    Hostile("job-timeout-a-word", "POST", CREATE, body=_job(timeout_seconds="soon")),
    Hostile("job-timeout-fraction", "POST", CREATE, body=_job(timeout_seconds=1.5)),
    Hostile("job-timeout-boolean", "POST", CREATE, body=_job(timeout_seconds=True)),
    Hostile("job-timeout-an-object", "POST", CREATE, body=_job(timeout_seconds={"s": 1})),
    Hostile("job-timeout-float-inf", "POST", CREATE, raw=b'{"name": "j", "timeout_seconds": 1e999}'),
    Hostile("job-task-timeout-1e400", "POST", CREATE, body=_task(timeout_seconds=HUGER)),
    Hostile("job-task-timeout-negative", "POST", CREATE, body=_task(timeout_seconds=-5)),
    Hostile("job-task-max-retries-minus-2", "POST", CREATE, body=_task(max_retries=-2)),
    Hostile("job-task-max-retries-1e20", "POST", CREATE, body=_task(max_retries=10**20)),
    Hostile("job-task-retry-interval-negative", "POST", CREATE, body=_task(min_retry_interval_millis=-1)),
    Hostile("job-task-retry-interval-1e30", "POST", CREATE, body=_task(min_retry_interval_millis=HUGE)),
    Hostile("job-task-description-2000", "POST", CREATE, body=_task(description="d" * 2000)),
    Hostile("job-max-concurrent-1001", "POST", CREATE, body=_job(max_concurrent_runs=1001)),
    Hostile("job-max-concurrent-negative", "POST", CREATE, body=_job(max_concurrent_runs=-1)),
    Hostile("job-max-concurrent-1e30", "POST", CREATE, body=_job(max_concurrent_runs=HUGE)),
    Hostile("job-clusters-a-string", "POST", CREATE, body=_job(job_clusters="x")),
    Hostile("job-clusters-of-numbers", "POST", CREATE, body=_job(job_clusters=[1])),
    Hostile(
        "job-clusters-no-new-cluster", "POST", CREATE, body=_job(job_clusters=[{"job_cluster_key": "a"}])
    ),
    Hostile("job-clusters-no-key", "POST", CREATE, body=_job(job_clusters=[{"new_cluster": COMPUTE}])),
    Hostile(
        "job-clusters-duplicate-key",
        "POST",
        CREATE,
        body=_job(job_clusters=[{"job_cluster_key": "a", "new_cluster": COMPUTE}] * 2),
    ),  # fmt: skip
    Hostile(
        "job-clusters-1e12-workers",
        "POST",
        CREATE,
        body=_job(job_clusters=[{"job_cluster_key": "a", "new_cluster": {**COMPUTE, "num_workers": 10**12}}]),
    ),  # fmt: skip
    Hostile(
        "job-task-new-cluster-1e12-workers",
        "POST",
        CREATE,
        body=_job(
            tasks=[{"task_key": "t", "spark_jar_task": {}, "new_cluster": {**COMPUTE, "num_workers": 10**12}}]
        ),
    ),  # fmt: skip
    Hostile(
        "job-task-undefined-job-cluster",
        "POST",
        CREATE,
        body=_job(tasks=[{"task_key": "t", "spark_jar_task": {}, "job_cluster_key": "nope"}]),
    ),  # fmt: skip
    Hostile("job-tags-a-string", "POST", CREATE, body=_job(tags="x")),
    Hostile("job-parameters-a-string", "POST", CREATE, body=_job(parameters="x")),
    Hostile("job-queue-a-string", "POST", CREATE, body=_job(queue="x")),
    Hostile("job-schedule-a-list", "POST", CREATE, body=_job(schedule=[1])),
    Hostile("job-email-a-string", "POST", CREATE, body=_job(email_notifications="x")),
    Hostile("job-git-source-a-string", "POST", CREATE, body=_job(git_source="x")),
    Hostile("job-acl-a-string", "POST", CREATE, body=_job(access_control_list="x")),
    Hostile("job-acl-of-numbers", "POST", CREATE, body=_job(access_control_list=[1])),
    Hostile(
        "job-acl-bad-level",
        "POST",
        CREATE,
        body=_job(access_control_list=[{"user_name": "bob@example.com", "permission_level": "CAN_FLY"}]),
    ),  # fmt: skip
    Hostile(
        "job-acl-two-principals",
        "POST",
        CREATE,
        body=_job(
            access_control_list=[{"user_name": "a", "group_name": "b", "permission_level": "CAN_VIEW"}]
        ),
    ),  # fmt: skip
    Hostile("job-run-as-a-string", "POST", CREATE, body=_job(run_as="admin@example.com")),
    Hostile("job-run-as-a-number", "POST", CREATE, body=_job(run_as={"user_name": 7})),
    Hostile(
        "job-run-as-two-principals",
        "POST",
        CREATE,
        body=_job(run_as={"user_name": "a", "service_principal_name": "b"}),
    ),
    Hostile(
        "job-run-as-someone-else",
        "POST",
        CREATE,
        body=_job(run_as={"user_name": "admin@example.com"}),
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "job-create-2-1-1001-tasks",
        "POST",
        "/api/2.1/jobs/create",
        body=_job(tasks=[{**SIM, "task_key": f"t{i}"} for i in range(1001)]),
    ),  # fmt: skip
    # -- jobs reads and writes -----------------------------------------------------------------------
    Hostile("jobs-get-no-id", "GET", "/api/2.2/jobs/get"),
    Hostile("jobs-get-id-a-word", "GET", "/api/2.2/jobs/get", params={"job_id": "abc"}),
    Hostile("jobs-get-id-1e30", "GET", "/api/2.2/jobs/get", params={"job_id": str(HUGE)}),
    Hostile("jobs-get-id-negative", "GET", "/api/2.2/jobs/get", params={"job_id": "-1"}),
    Hostile("jobs-get-id-nul", "GET", "/api/2.2/jobs/get", params={"job_id": "1\x00"}),
    Hostile(
        "jobs-get-forged-token", "GET", "/api/2.2/jobs/get", params={"job_id": "{job}", "page_token": "!!!"}
    ),
    Hostile(
        "jobs-get-token-a-list",
        "GET",
        "/api/2.2/jobs/get",
        params={"job_id": "{job}", "page_token": base64.urlsafe_b64encode(b"[1]").decode()},
    ),  # fmt: skip
    Hostile(
        "jobs-get-token-negative",
        "GET",
        "/api/2.2/jobs/get",
        params={"job_id": "{job}", "page_token": base64.urlsafe_b64encode(b'{"o":-5}').decode()},
    ),  # fmt: skip
    Hostile(
        "jobs-get-token-huge",
        "GET",
        "/api/2.2/jobs/get",
        params={
            "job_id": "{job}",
            "page_token": base64.urlsafe_b64encode(b'{"o":' + b"9" * 30 + b"}").decode(),
        },
    ),  # fmt: skip
    Hostile(
        "jobs-get-token-long",
        "GET",
        "/api/2.2/jobs/get",
        params={"job_id": "{job}", "page_token": "A" * 5000},
    ),
    Hostile(
        "jobs-get-bob-denied",
        "GET",
        "/api/2.2/jobs/get",
        params={"job_id": "{job}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("jobs-list-offset-negative", "GET", "/api/2.2/jobs/list", params={"offset": "-1"}),
    Hostile("jobs-list-offset-1001", "GET", "/api/2.2/jobs/list", params={"offset": "1001"}),
    Hostile("jobs-list-offset-1e30", "GET", "/api/2.2/jobs/list", params={"offset": str(HUGE)}),
    Hostile("jobs-list-limit-101", "GET", "/api/2.2/jobs/list", params={"limit": "101"}),
    Hostile("jobs-list-limit-negative", "GET", "/api/2.2/jobs/list", params={"limit": "-3"}),
    Hostile("jobs-list-limit-a-word", "GET", "/api/2.2/jobs/list", params={"limit": "many"}),
    Hostile("jobs-list-forged-token", "GET", "/api/2.2/jobs/list", params={"page_token": "%%%"}),
    Hostile(
        "jobs-update-settings-a-string",
        "POST",
        "/api/2.2/jobs/update",
        body={"job_id": "{job}", "new_settings": "x"},
    ),
    Hostile(
        "jobs-update-remove-a-string",
        "POST",
        "/api/2.2/jobs/update",
        body={"job_id": "{job}", "new_settings": {}, "fields_to_remove": "x"},
    ),  # fmt: skip
    Hostile(
        "jobs-update-timeout-1e400",
        "POST",
        "/api/2.2/jobs/update",
        body={"job_id": "{job}", "new_settings": {"timeout_seconds": HUGER}},
    ),  # fmt: skip
    Hostile(
        "jobs-update-bob-denied",
        "POST",
        "/api/2.2/jobs/update",
        body={"job_id": "{job}", "new_settings": {"name": "mine"}},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "jobs-update-run-as-by-bob",
        "POST",
        "/api/2.2/jobs/update",
        body={"job_id": "{job}", "new_settings": {"run_as": {"user_name": "bob@example.com"}}},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("jobs-reset-no-settings", "POST", "/api/2.2/jobs/reset", body={"job_id": "{job}"}),
    Hostile(
        "jobs-reset-settings-a-list",
        "POST",
        "/api/2.2/jobs/reset",
        body={"job_id": "{job}", "new_settings": [1]},
    ),
    Hostile(
        "jobs-reset-2000-tasks",
        "POST",
        "/api/2.2/jobs/reset",
        body={"job_id": "{job}", "new_settings": _job(tasks=_chain(2000))},
    ),  # fmt: skip
    Hostile("jobs-delete-id-1e30", "POST", "/api/2.2/jobs/delete", body={"job_id": HUGE}),
    Hostile("jobs-delete-id-an-object", "POST", "/api/2.2/jobs/delete", body={"job_id": {"id": 1}}),
    Hostile(
        "jobs-delete-bob-denied",
        "POST",
        "/api/2.2/jobs/delete",
        body={"job_id": "{job}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- run-now, submit, repair -----------------------------------------------------------------------
    Hostile("run-now-id-1e30", "POST", "/api/2.2/jobs/run-now", body={"job_id": HUGE}),
    Hostile(
        "run-now-token-a-dict",
        "POST",
        "/api/2.2/jobs/run-now",
        body={"job_id": "{job}", "idempotency_token": {"a": 1}},
    ),
    Hostile(
        "run-now-token-a-list",
        "POST",
        "/api/2.2/jobs/run-now",
        body={"job_id": "{job}", "idempotency_token": [1]},
    ),
    Hostile(
        "run-now-token-65",
        "POST",
        "/api/2.2/jobs/run-now",
        body={"job_id": "{job}", "idempotency_token": "t" * 65},
    ),
    Hostile(
        "run-now-job-parameters-a-list",
        "POST",
        "/api/2.2/jobs/run-now",
        body={"job_id": "{job}", "job_parameters": [1]},
    ),
    Hostile("run-now-only-a-string", "POST", "/api/2.2/jobs/run-now", body={"job_id": "{job}", "only": "t"}),
    Hostile(
        "run-now-bob-denied",
        "POST",
        "/api/2.2/jobs/run-now",
        body={"job_id": "{job}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("submit-no-tasks", "POST", SUBMIT, body={"run_name": "x"}),
    Hostile("submit-tasks-empty", "POST", SUBMIT, body=_submit(tasks=[])),
    Hostile("submit-tasks-a-string", "POST", SUBMIT, body=_submit(tasks="x")),
    Hostile("submit-job-clusters-a-string", "POST", SUBMIT, body=_submit(job_clusters="x")),
    Hostile("submit-job-clusters-of-strings", "POST", SUBMIT, body=_submit(job_clusters=["x"])),
    Hostile("submit-timeout-1e400", "POST", SUBMIT, body=_submit(timeout_seconds=HUGER)),
    Hostile("submit-timeout-negative", "POST", SUBMIT, body=_submit(timeout_seconds=-1)),
    Hostile(
        "submit-task-timeout-1e400", "POST", SUBMIT, body=_submit(tasks=[{**SIM, "timeout_seconds": HUGER}])
    ),
    Hostile("submit-run-name-5000", "POST", SUBMIT, body=_submit(run_name="r" * 5000)),
    Hostile("submit-token-a-dict", "POST", SUBMIT, body=_submit(idempotency_token={})),
    Hostile("submit-token-a-dict-nonempty", "POST", SUBMIT, body=_submit(idempotency_token={"k": "v"})),
    Hostile("submit-token-65", "POST", SUBMIT, body=_submit(idempotency_token="x" * 65)),
    Hostile("submit-1500-chain-reversed", "POST", SUBMIT, body=_submit(tasks=_chain(1500))),
    Hostile(
        "submit-new-cluster-1e12-workers",
        "POST",
        SUBMIT,
        body=_submit(
            tasks=[{"task_key": "t", "spark_jar_task": {}, "new_cluster": {**COMPUTE, "num_workers": 10**12}}]
        ),
    ),  # fmt: skip
    Hostile("submit-acl-a-string", "POST", SUBMIT, body=_submit(access_control_list="x")),
    Hostile(
        "submit-run-as-someone-else",
        "POST",
        SUBMIT,
        body=_submit(run_as={"user_name": "admin@example.com"}),
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "repair-run-1e30", "POST", "/api/2.2/jobs/runs/repair", body={"run_id": HUGE, "rerun_tasks": ["t"]}
    ),
    Hostile(
        "repair-rerun-a-string",
        "POST",
        "/api/2.2/jobs/runs/repair",
        body={"run_id": "{run}", "rerun_tasks": "t"},
    ),
    Hostile(
        "repair-latest-id-a-word",
        "POST",
        "/api/2.2/jobs/runs/repair",
        body={"run_id": "{run}", "rerun_tasks": ["t"], "latest_repair_id": "x"},
    ),  # fmt: skip
    Hostile(
        "repair-unknown-task",
        "POST",
        "/api/2.2/jobs/runs/repair",
        body={"run_id": "{run}", "rerun_tasks": ["zz"]},
    ),
    Hostile(
        "repair-bob-denied",
        "POST",
        "/api/2.2/jobs/runs/repair",
        body={"run_id": "{run}", "rerun_tasks": ["t"]},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- run reads and control ---------------------------------------------------------------------------
    Hostile("runs-get-no-id", "GET", "/api/2.2/jobs/runs/get"),
    Hostile("runs-get-id-1e30", "GET", "/api/2.2/jobs/runs/get", params={"run_id": str(HUGE)}),
    Hostile("runs-get-id-a-word", "GET", "/api/2.2/jobs/runs/get", params={"run_id": "x"}),
    Hostile(
        "runs-get-forged-token",
        "GET",
        "/api/2.2/jobs/runs/get",
        params={"run_id": "{run}", "page_token": "@@"},
    ),
    Hostile(
        "runs-get-bob-denied",
        "GET",
        "/api/2.2/jobs/runs/get",
        params={"run_id": "{run}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("runs-get-output-id-1e30", "GET", "/api/2.2/jobs/runs/get-output", params={"run_id": str(HUGE)}),
    Hostile("runs-get-output-parent", "GET", "/api/2.2/jobs/runs/get-output", params={"run_id": "{run}"}),
    Hostile("runs-list-offset-negative", "GET", "/api/2.2/jobs/runs/list", params={"offset": "-1"}),
    Hostile("runs-list-limit-26", "GET", "/api/2.2/jobs/runs/list", params={"limit": "26"}),
    Hostile("runs-list-limit-negative", "GET", "/api/2.2/jobs/runs/list", params={"limit": "-1"}),
    Hostile("runs-list-job-id-a-word", "GET", "/api/2.2/jobs/runs/list", params={"job_id": "x"}),
    Hostile(
        "runs-list-start-time-1e30", "GET", "/api/2.2/jobs/runs/list", params={"start_time_from": str(HUGE)}
    ),
    Hostile("runs-list-forged-token", "GET", "/api/2.2/jobs/runs/list", params={"page_token": "not-a-token"}),
    Hostile(
        "runs-list-token-huge",
        "GET",
        "/api/2.2/jobs/runs/list",
        params={"page_token": base64.urlsafe_b64encode(b'{"before":' + b"9" * 40 + b"}").decode()},
    ),  # fmt: skip
    Hostile(
        "runs-list-active-and-completed",
        "GET",
        "/api/2.2/jobs/runs/list",
        params={"active_only": "true", "completed_only": "true"},
    ),  # fmt: skip
    Hostile("runs-cancel-id-1e30", "POST", "/api/2.2/jobs/runs/cancel", body={"run_id": HUGE}),
    Hostile("runs-cancel-id-a-list", "POST", "/api/2.2/jobs/runs/cancel", body={"run_id": [1]}),
    Hostile("runs-cancel-all-job-a-word", "POST", "/api/2.2/jobs/runs/cancel-all", body={"job_id": "x"}),
    Hostile("runs-delete-id-1e30", "POST", "/api/2.2/jobs/runs/delete", body={"run_id": HUGE}),
    Hostile(
        "runs-delete-bob-denied",
        "POST",
        "/api/2.2/jobs/runs/delete",
        body={"run_id": "{run}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- clusters ------------------------------------------------------------------------------------------
    Hostile(
        "clusters-create-no-version",
        "POST",
        "/api/2.1/clusters/create",
        body={"node_type_id": "x", "num_workers": 1},
    ),
    Hostile(
        "clusters-create-1e12-workers",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": 10**12},
    ),
    Hostile(
        "clusters-create-1e400-workers",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": HUGER},
    ),
    Hostile(
        "clusters-create-negative-workers",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": -1},
    ),
    Hostile(
        "clusters-create-workers-a-word",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": "many"},
    ),
    Hostile(
        "clusters-create-autoscale-a-string",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": None, "autoscale": "x"},
    ),  # fmt: skip
    Hostile(
        "clusters-create-autoscale-1e12",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "num_workers": None, "autoscale": {"min_workers": 1, "max_workers": 10**12}},
    ),  # fmt: skip
    Hostile(
        "clusters-create-autoterminate-5",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "autotermination_minutes": 5},
    ),
    Hostile(
        "clusters-create-autoterminate-1e30",
        "POST",
        "/api/2.1/clusters/create",
        body={**COMPUTE, "autotermination_minutes": HUGE},
    ),  # fmt: skip
    Hostile(
        "clusters-get-missing", "GET", "/api/2.1/clusters/get", params={"cluster_id": "0000-000000-nope"}
    ),
    Hostile("clusters-get-no-id", "GET", "/api/2.1/clusters/get"),
    Hostile("clusters-get-id-nul", "GET", "/api/2.1/clusters/get", params={"cluster_id": "a\x00b"}),
    Hostile("clusters-get-id-10000", "GET", "/api/2.1/clusters/get", params={"cluster_id": "c" * 10000}),
    Hostile("clusters-start-missing", "POST", "/api/2.1/clusters/start", body={"cluster_id": "nope"}),
    Hostile(
        "clusters-resize-1e12",
        "POST",
        "/api/2.1/clusters/resize",
        body={"cluster_id": "{cluster}", "num_workers": 10**12},
    ),
    Hostile(
        "clusters-events-limit-1e30",
        "POST",
        "/api/2.1/clusters/events",
        body={"cluster_id": "{cluster}", "limit": HUGE},
    ),
    Hostile(
        "clusters-events-offset-negative",
        "POST",
        "/api/2.1/clusters/events",
        body={"cluster_id": "{cluster}", "offset": -1},
    ),
    Hostile("clusters-list-forged-token", "GET", "/api/2.1/clusters/list", params={"page_token": "zzz"}),
    Hostile(
        "clusters-list-token-huge-offset",
        "GET",
        "/api/2.1/clusters/list",
        params={"page_token": base64.urlsafe_b64encode(b"offset:" + b"9" * 30).decode()},
    ),  # fmt: skip
    Hostile(
        "clusters-permanent-delete-by-bob",
        "POST",
        "/api/2.1/clusters/permanent-delete",
        body={"cluster_id": "{cluster}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "clusters-delete-by-bob",
        "POST",
        "/api/2.1/clusters/delete",
        body={"cluster_id": "{cluster}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "clusters-edit-by-bob",
        "POST",
        "/api/2.1/clusters/edit",
        body={"cluster_id": "{cluster}", **COMPUTE},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "clusters-restart-by-bob",
        "POST",
        "/api/2.1/clusters/restart",
        body={"cluster_id": "{cluster}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "clusters-pin-by-bob",
        "POST",
        "/api/2.1/clusters/pin",
        body={"cluster_id": "{cluster}"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- DBFS ----------------------------------------------------------------------------------------------
    Hostile("dbfs-put-no-path", "POST", "/api/2.0/dbfs/put", body={"contents": B64}),
    Hostile("dbfs-put-relative", "POST", "/api/2.0/dbfs/put", body={"path": "x", "contents": B64}),
    Hostile("dbfs-put-dotdot", "POST", "/api/2.0/dbfs/put", body={"path": "dbfs:/../../x", "contents": B64}),
    Hostile("dbfs-put-nul", "POST", "/api/2.0/dbfs/put", body={"path": "/a\x00b", "contents": B64}),
    Hostile(
        "dbfs-put-surrogate",
        "POST",
        "/api/2.0/dbfs/put",
        raw=b'{"path": "/a\\ud800", "contents": "eA=="}',
        error_code=MALFORMED,
    ),  # fmt: skip
    Hostile(
        "dbfs-put-path-5000", "POST", "/api/2.0/dbfs/put", body={"path": "/" + "p" * 5000, "contents": B64}
    ),
    Hostile(
        "dbfs-put-name-300", "POST", "/api/2.0/dbfs/put", body={"path": "/" + "n" * 300, "contents": B64}
    ),
    Hostile("dbfs-put-depth-200", "POST", "/api/2.0/dbfs/put", body={"path": "/d" * 200, "contents": B64}),
    Hostile("dbfs-put-path-a-list", "POST", "/api/2.0/dbfs/put", body={"path": ["/x"], "contents": B64}),
    Hostile("dbfs-put-not-base64", "POST", "/api/2.0/dbfs/put", body={"path": "/x", "contents": "!!!"}),
    Hostile("dbfs-put-contents-a-number", "POST", "/api/2.0/dbfs/put", body={"path": "/x", "contents": 5}),
    Hostile(
        "dbfs-put-2mb",
        "POST",
        "/api/2.0/dbfs/put",
        body={"path": "/x", "contents": base64.b64encode(b"x" * (2 << 20)).decode()},
        error_code="MAX_BLOCK_SIZE_EXCEEDED",
    ),  # fmt: skip
    Hostile("dbfs-read-offset-negative", "GET", "/api/2.0/dbfs/read", params={"path": "/f", "offset": "-1"}),
    Hostile("dbfs-read-offset-1e30", "GET", "/api/2.0/dbfs/read", params={"path": "/f", "offset": str(HUGE)}),
    Hostile("dbfs-read-length-negative", "GET", "/api/2.0/dbfs/read", params={"path": "/f", "length": "-1"}),
    Hostile(
        "dbfs-read-length-2mb",
        "GET",
        "/api/2.0/dbfs/read",
        params={"path": "/f", "length": str(2 << 20)},
        error_code="MAX_READ_SIZE_EXCEEDED",
    ),  # fmt: skip
    Hostile("dbfs-read-length-1e30", "GET", "/api/2.0/dbfs/read", params={"path": "/f", "length": str(HUGE)}),
    Hostile(
        "dbfs-read-missing",
        "GET",
        "/api/2.0/dbfs/read",
        params={"path": "/nope"},
        status=404,
        error_code=MISSING,
    ),
    Hostile("dbfs-read-directory", "GET", "/api/2.0/dbfs/read", params={"path": "/"}),
    Hostile("dbfs-read-nul", "GET", "/api/2.0/dbfs/read", params={"path": "/f\x00"}),
    Hostile("dbfs-get-status-dotdot", "GET", "/api/2.0/dbfs/get-status", params={"path": "/../etc/passwd"}),
    Hostile(
        "dbfs-list-missing",
        "GET",
        "/api/2.0/dbfs/list",
        params={"path": "/nope"},
        status=404,
        error_code=MISSING,
    ),
    Hostile("dbfs-list-dotdot", "GET", "/api/2.0/dbfs/list", params={"path": "/a/../.."}),
    Hostile("dbfs-mkdirs-nul", "POST", "/api/2.0/dbfs/mkdirs", body={"path": "/d\x00"}),
    Hostile("dbfs-mkdirs-depth-200", "POST", "/api/2.0/dbfs/mkdirs", body={"path": "/d" * 200}),
    Hostile(
        "dbfs-mkdirs-over-file",
        "POST",
        "/api/2.0/dbfs/mkdirs",
        body={"path": "/f/sub"},
        error_code="RESOURCE_ALREADY_EXISTS",
    ),
    Hostile("dbfs-delete-dotdot", "POST", "/api/2.0/dbfs/delete", body={"path": "/..", "recursive": True}),
    Hostile("dbfs-delete-nul", "POST", "/api/2.0/dbfs/delete", body={"path": "/\x00"}),
    Hostile(
        "dbfs-move-missing",
        "POST",
        "/api/2.0/dbfs/move",
        body={"source_path": "/nope", "destination_path": "/y"},
        status=404,
        error_code=MISSING,
    ),  # fmt: skip
    Hostile(
        "dbfs-move-dotdot",
        "POST",
        "/api/2.0/dbfs/move",
        body={"source_path": "/f", "destination_path": "/../../y"},
    ),
    Hostile("dbfs-create-nul", "POST", "/api/2.0/dbfs/create", body={"path": "/x\x00"}),
    Hostile(
        "dbfs-add-block-handle-1e30", "POST", "/api/2.0/dbfs/add-block", body={"handle": HUGE, "data": B64}
    ),
    Hostile(
        "dbfs-add-block-handle-a-word", "POST", "/api/2.0/dbfs/add-block", body={"handle": "h", "data": B64}
    ),
    Hostile(
        "dbfs-add-block-forged-handle",
        "POST",
        "/api/2.0/dbfs/add-block",
        body={"handle": 42, "data": B64},
        status=404,
        error_code=MISSING,
    ),  # fmt: skip
    Hostile(
        "dbfs-close-forged-handle",
        "POST",
        "/api/2.0/dbfs/close",
        body={"handle": 42},
        status=404,
        error_code=MISSING,
    ),
    # -- secrets -------------------------------------------------------------------------------------------
    Hostile("secrets-scope-empty", "POST", "/api/2.0/secrets/scopes/create", body={"scope": ""}),
    Hostile(
        "secrets-scope-bad-chars", "POST", "/api/2.0/secrets/scopes/create", body={"scope": "no spaces!"}
    ),
    Hostile("secrets-scope-nul", "POST", "/api/2.0/secrets/scopes/create", body={"scope": "a\x00b"}),
    Hostile("secrets-scope-200", "POST", "/api/2.0/secrets/scopes/create", body={"scope": "s" * 200}),
    Hostile("secrets-scope-a-list", "POST", "/api/2.0/secrets/scopes/create", body={"scope": ["s"]}),
    Hostile(
        "secrets-put-missing-scope",
        "POST",
        "/api/2.0/secrets/put",
        body={"scope": "nope", "key": "k", "string_value": "v"},
        status=404,
        error_code=MISSING,
    ),  # fmt: skip
    Hostile(
        "secrets-put-both-values",
        "POST",
        "/api/2.0/secrets/put",
        body={"scope": "s", "key": "k", "string_value": "v", "bytes_value": B64},
    ),  # fmt: skip
    Hostile(
        "secrets-put-key-bad-chars",
        "POST",
        "/api/2.0/secrets/put",
        body={"scope": "s", "key": "k k", "string_value": "v"},
    ),
    Hostile(
        "secrets-put-key-nul",
        "POST",
        "/api/2.0/secrets/put",
        body={"scope": "s", "key": "k\x00", "string_value": "v"},
    ),
    Hostile(
        "secrets-put-129kb",
        "POST",
        "/api/2.0/secrets/put",
        body={"scope": "s", "key": "k", "string_value": "v" * (129 * 1024)},
    ),
    Hostile(
        "secrets-get-missing-scope",
        "GET",
        "/api/2.0/secrets/get",
        params={"scope": "nope", "key": "k"},
        status=404,
        error_code=MISSING,
    ),  # fmt: skip
    Hostile(
        "secrets-acl-bad-permission",
        "POST",
        "/api/2.0/secrets/acls/put",
        body={"scope": "s", "principal": "bob@example.com", "permission": "OWN"},
    ),  # fmt: skip
    Hostile(
        "secrets-list-missing-scope",
        "GET",
        "/api/2.0/secrets/list",
        params={"scope": "nope"},
        status=404,
        error_code=MISSING,
    ),
    Hostile(
        "secrets-get-bob-denied",
        "GET",
        "/api/2.0/secrets/get",
        params={"scope": "s", "key": "k"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    # -- workspace -----------------------------------------------------------------------------------------
    Hostile(
        "workspace-import-relative",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "x", "format": "SOURCE", "language": "PYTHON", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-nul",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/a\x00b", "format": "SOURCE", "language": "PYTHON", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-surrogate",
        "POST",
        "/api/2.0/workspace/import",
        raw=b'{"path": "/Shared/\\ud83d", "format": "SOURCE", "language": "PYTHON", "content": "eA=="}',
        error_code=MALFORMED,
    ),  # fmt: skip
    Hostile(
        "workspace-import-dotdot",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/../../x", "format": "SOURCE", "language": "PYTHON", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-path-5000",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/" + "p" * 5000, "format": "SOURCE", "language": "PYTHON", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-not-base64",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/x", "format": "SOURCE", "language": "PYTHON", "content": "%%%"},
    ),  # fmt: skip
    Hostile(
        "workspace-import-bogus-format",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/x", "format": "EXE", "language": "PYTHON", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-bogus-language",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/x", "format": "SOURCE", "language": "COBOL", "content": B64},
    ),  # fmt: skip
    Hostile(
        "workspace-import-no-content",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/x", "format": "SOURCE", "language": "PYTHON"},
    ),  # fmt: skip
    Hostile(
        "workspace-import-too-big",
        "POST",
        "/api/2.0/workspace/import",
        body={
            "path": "/Shared/x",
            "format": "SOURCE",
            "language": "PYTHON",
            "content": base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode(),
        },
        error_code="MAX_NOTEBOOK_SIZE_EXCEEDED",
    ),  # fmt: skip
    Hostile(
        "workspace-import-no-parent",
        "POST",
        "/api/2.0/workspace/import",
        body={"path": "/Shared/no/such/x", "format": "SOURCE", "language": "PYTHON", "content": B64},
        status=404,
        error_code=MISSING,
    ),  # fmt: skip
    Hostile(
        "workspace-import-overwrite-by-bob",
        "POST",
        "/api/2.0/workspace/import",
        body={
            "path": "/Users/admin@example.com/nb",
            "format": "SOURCE",
            "language": "PYTHON",
            "content": B64,
            "overwrite": True,
        },
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "workspace-export-missing",
        "GET",
        "/api/2.0/workspace/export",
        params={"path": "/nope"},
        status=404,
        error_code=MISSING,
    ),
    Hostile(
        "workspace-export-by-bob",
        "GET",
        "/api/2.0/workspace/export",
        params={"path": "/Users/admin@example.com/nb"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("workspace-status-nul", "GET", "/api/2.0/workspace/get-status", params={"path": "/\x00"}),
    Hostile("workspace-list-depth-200", "GET", "/api/2.0/workspace/list", params={"path": "/d" * 200}),
    Hostile("workspace-mkdirs-nul", "POST", "/api/2.0/workspace/mkdirs", body={"path": "/Shared/\x00"}),
    Hostile(
        "workspace-mkdirs-depth-200",
        "POST",
        "/api/2.0/workspace/mkdirs",
        body={"path": "/Shared" + "/d" * 200},
    ),
    Hostile("workspace-mkdirs-path-a-number", "POST", "/api/2.0/workspace/mkdirs", body={"path": 7}),
    Hostile(
        "workspace-mkdirs-at-root-by-bob",
        "POST",
        "/api/2.0/workspace/mkdirs",
        body={"path": "/mine"},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "workspace-delete-root", "POST", "/api/2.0/workspace/delete", body={"path": "/", "recursive": True}
    ),
    Hostile(
        "workspace-delete-missing",
        "POST",
        "/api/2.0/workspace/delete",
        body={"path": "/nope"},
        status=404,
        error_code=MISSING,
    ),
    Hostile(
        "workspace-delete-admin-home-by-bob",
        "POST",
        "/api/2.0/workspace/delete",
        body={"path": "/Users/admin@example.com", "recursive": True},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "workspace-delete-not-empty",
        "POST",
        "/api/2.0/workspace/delete",
        body={"path": "/Users/admin@example.com"},
        error_code="DIRECTORY_NOT_EMPTY",
    ),  # fmt: skip
    # -- permissions ---------------------------------------------------------------------------------------
    Hostile("permissions-job-id-a-word", "GET", "/api/2.0/permissions/jobs/abc"),
    Hostile("permissions-job-id-1e30", "GET", "/api/2.0/permissions/jobs/" + str(HUGE)),
    Hostile(
        "permissions-job-acl-a-string",
        "PUT",
        "/api/2.0/permissions/jobs/{job}",
        body={"access_control_list": "x"},
    ),
    Hostile(
        "permissions-job-bad-level",
        "PATCH",
        "/api/2.0/permissions/jobs/{job}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "GOD"}]},
    ),  # fmt: skip
    Hostile(
        "permissions-job-by-bob",
        "PATCH",
        "/api/2.0/permissions/jobs/{job}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "permissions-notebook-missing",
        "GET",
        "/api/2.0/permissions/notebooks/424242",
        status=404,
        error_code=MISSING,
    ),
    Hostile(
        "permissions-notebook-cluster-level",
        "PUT",
        "/api/2.0/permissions/notebooks/{notebook_id}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_ATTACH_TO"}]},
    ),  # fmt: skip
    Hostile(
        "permissions-notebook-by-bob",
        "PATCH",
        "/api/2.0/permissions/notebooks/{notebook_id}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "permissions-folder-by-bob",
        "PUT",
        "/api/2.0/permissions/directories/{folder_id}",
        body={"access_control_list": []},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile(
        "permissions-folder-2000-entries",
        "PUT",
        "/api/2.0/permissions/directories/{folder_id}",
        body={
            "access_control_list": [
                {"user_name": f"u{i}", "permission_level": "CAN_READ"} for i in range(2000)
            ]
        },
    ),  # fmt: skip
    Hostile(
        "permissions-cluster-notebook-level",
        "PUT",
        "/api/2.0/permissions/clusters/{cluster}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_EDIT"}]},
    ),  # fmt: skip
    Hostile(
        "permissions-cluster-by-bob",
        "PATCH",
        "/api/2.0/permissions/clusters/{cluster}",
        body={"access_control_list": [{"user_name": "bob@example.com", "permission_level": "CAN_MANAGE"}]},
        token="bob",
        status=403,
        error_code=DENIED,
    ),  # fmt: skip
    Hostile("permissions-cluster-missing", "GET", "/api/2.0/permissions/clusters/nope"),
    # -- the control API -----------------------------------------------------------------------------------
    Hostile("admin-time-scale-a-word", "POST", "/_emulator/time-scale", body={"time_scale": "fast"}),
    Hostile("admin-time-scale-negative", "POST", "/_emulator/time-scale", body={"time_scale": -1}),
    Hostile("admin-time-scale-nan", "POST", "/_emulator/time-scale", raw=b'{"time_scale": NaN}'),
    Hostile("admin-time-scale-1e400", "POST", "/_emulator/time-scale", body={"time_scale": HUGER}),
    Hostile(
        "admin-faults-probability-a-word",
        "POST",
        "/_emulator/faults",
        body={"target": "*", "kind": "500", "probability": "x"},
    ),
    Hostile(
        "admin-faults-count-a-word",
        "POST",
        "/_emulator/faults",
        body={"target": "*", "kind": "500", "count": "x"},
    ),
    Hostile("admin-faults-rules-a-string", "POST", "/_emulator/faults", body={"rules": "x"}),
    Hostile("admin-faults-slow-a-word", "POST", "/_emulator/faults", body={"slow_seconds": "x"}),
    Hostile("admin-rate-limits-a-string", "POST", "/_emulator/rate-limits", body={"rate_limits": "x"}),
    Hostile(
        "admin-rate-limits-a-word", "POST", "/_emulator/rate-limits", body={"rate_limits": {"jobs": "x"}}
    ),
    Hostile("admin-body-not-json", "POST", "/_emulator/faults", raw=b"{"),
    Hostile("admin-body-deep-json", "POST", "/_emulator/faults", raw=_deep(100_000)),
    Hostile("admin-unknown-route", "GET", "/_emulator/nope", status=404, error_code="ENDPOINT_NOT_FOUND"),
    # -- routes --------------------------------------------------------------------------------------------
    Hostile("route-unknown", "GET", "/api/2.0/nope", status=404, error_code="ENDPOINT_NOT_FOUND"),
    Hostile(
        "route-wrong-method", "DELETE", "/api/2.2/jobs/create", status=404, error_code="ENDPOINT_NOT_FOUND"
    ),
]


def fill(value: Any, names: dict[str, str]) -> Any:
    """Replace `{job}`-style placeholders (whole strings only) in a case's params or body."""
    if isinstance(value, str):
        for name, actual in names.items():
            if value == "{" + name + "}":
                return int(actual) if actual.isdigit() and name not in ("cluster",) else actual
            value = value.replace("{" + name + "}", actual)
        return value
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def payload(case: Hostile, names: dict[str, str]) -> bytes | None:
    if case.raw is not None:
        return case.raw
    if case.body is None:
        return None
    return json.dumps(fill(case.body, names)).encode()
