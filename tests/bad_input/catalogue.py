"""The catalogue of malformed inputs and the one-line errors they give (source of docs/bad-input.md).

Each case names the field it breaks, what goes wrong, how it is fed in, and the exact message.
``before_api`` says the input is rejected before any request: the test then asserts the
emulator saw no request at all. Regenerate the doc with
``.venv/bin/python tests/bad_input/catalogue.py > docs/bad-input.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONN_ID = "bad_input"
EMULATOR = "http://127.0.0.1:1"  # replaced by the live emulator's URL when a case needs a host


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    field: str
    given: str  # how the doc shows the input
    run: Callable[[str, str], Any]  # (emulator url, admin token) -> raises
    error: str  # exception class name
    message: str  # exact str(exc); "{url}" stands for the emulator URL
    before_api: bool = True


def _conn(**fields: Any) -> Callable[[str, str], Any]:
    """Use ``fields`` as the Airflow connection ``bad_input`` (``{url}``/``{token}`` are filled in)."""

    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.hooks.databricks import DatabricksHook

        data = json.loads(
            json.dumps({"conn_type": "dbx", **fields}).replace("{url}", url).replace("{token}", token)
        )
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(data)
        try:
            return DatabricksHook(CONN_ID).list_secret_scopes()
        finally:
            os.environ.pop(f"AIRFLOW_CONN_{CONN_ID.upper()}", None)

    return run


def _hook(method: str, *args: Any, **kwargs: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.hooks.databricks import DatabricksHook

        hook = DatabricksHook.from_settings(host=url, token=token)
        return getattr(hook, method)(*args, **kwargs)

    return run


class _TI:
    dag_id, task_id, run_id, map_index, try_number = "bad_input", "t", "manual__1", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        return None


def _with_conn(url: str, token: str, call: Callable[[], Any]) -> Any:
    os.environ["AIRFLOW_CONN_DATABRICKS_DEFAULT"] = json.dumps(
        {"conn_type": "dbx", "host": url, "password": token}
    )
    return call()


def _create_job(settings: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.operators import DatabricksCreateJobOperator

        op = DatabricksCreateJobOperator(task_id="t", json=settings)
        return _with_conn(url, token, lambda: op.execute({"ti": _TI()}))  # type: ignore[arg-type]

    return run


def _submit(spec: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.operators import DatabricksSubmitRunOperator

        op = DatabricksSubmitRunOperator(task_id="t", json=spec)
        return _with_conn(url, token, lambda: op.execute({"ti": _TI()}))  # type: ignore[arg-type]

    return run


def _run_now(**kwargs: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.operators import DatabricksRunNowOperator

        op = DatabricksRunNowOperator(task_id="t", **kwargs)
        return _with_conn(url, token, lambda: op.execute({"ti": _TI()}))  # type: ignore[arg-type]

    return run


def _sensor(**kwargs: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.sensors import DatabricksRunSensor

        op = DatabricksRunSensor(task_id="t", **kwargs)
        return _with_conn(url, token, lambda: op.execute({"ti": _TI()}))  # type: ignore[arg-type]

    return run


def _cancel(**kwargs: Any) -> Callable[[str, str], Any]:
    def run(url: str, token: str) -> Any:
        from airflow_dbx_provider.operators import DatabricksCancelRunOperator

        op = DatabricksCancelRunOperator(task_id="t", **kwargs)
        return _with_conn(url, token, lambda: op.execute({"ti": _TI()}))  # type: ignore[arg-type]

    return run


NB = {"notebook_path": "/Shared/x"}
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def _task(key: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": NB, "new_cluster": CLUSTER, **extra}


def _job(*tasks: Any, **extra: Any) -> dict[str, Any]:
    return {"name": "bad", "tasks": list(tasks), **extra}


def _dep(*keys: str) -> list[dict[str, str]]:
    return [{"task_key": k} for k in keys]


CE, JS = "DatabricksConfigError", "DatabricksJobSpecError"
C = f"connection {CONN_ID!r}"

CASES: tuple[Case, ...] = (
    # ---- connection ------------------------------------------------------------------------
    Case(
        "conn-no-host",
        "connection",
        "host",
        "no Host, no DATABRICKS_HOST",
        _conn(password="{token}"),
        CE,
        f"{C}: no workspace host is set (set the connection's Host or DATABRICKS_HOST)",
    ),
    Case(
        "conn-host-with-space",
        "connection",
        "host",
        "Host `https://exa mple.com`",
        _conn(host="https://exa mple.com", password="t"),
        CE,
        f"{C}: host 'https://exa mple.com' is not a valid URL (set the connection's Host or DATABRICKS_HOST)",
    ),
    Case(
        "conn-host-ftp",
        "connection",
        "host",
        "Host `ftp://example.com`",
        _conn(host="ftp://example.com", password="t"),
        CE,
        f"{C}: host 'ftp://example.com' is not a valid URL (set the connection's Host or DATABRICKS_HOST)",
    ),
    Case(
        "conn-host-userinfo",
        "connection",
        "host",
        "Host `https://user@example.com`",
        _conn(host="https://user@example.com", password="t"),
        CE,
        f"{C}: host 'https://user@example.com' is not a valid URL (set the connection's Host or DATABRICKS_HOST)",
    ),
    Case(
        "conn-http-remote",
        "connection",
        "host",
        "Host `http://example.com` (plain http, not localhost)",
        _conn(host="http://example.com", password="t"),
        CE,
        f"{C}: host 'http://example.com' uses plain http, allowed only for localhost (use https://)",
    ),
    Case(
        "conn-no-token",
        "connection",
        "token",
        "Host set, no Password/token",
        _conn(host="{url}"),
        CE,
        f"{C}: no personal access token is set (set the connection's Password, extra 'token' or DATABRICKS_TOKEN)",
    ),
    Case(
        "conn-unknown-auth-type",
        "connection",
        "auth_type",
        "extra `auth_type: kerberos`",
        _conn(host="{url}", password="t", extra={"auth_type": "kerberos"}),
        CE,
        f"{C}: auth_type 'kerberos' is unknown (use one of pat, oauth-m2m, azure-client-secret, azure-msi, azure-default-credential, oidc-federation)",
    ),
    Case(
        "conn-oauth-no-client-id",
        "connection",
        "client_id",
        "`auth_type: oauth-m2m` without client_id",
        _conn(host="{url}", extra={"auth_type": "oauth-m2m", "client_secret": "s"}),
        CE,
        f"{C}: oauth-m2m needs a client_id (set extra 'client_id', Login or DATABRICKS_CLIENT_ID)",
    ),
    Case(
        "conn-oauth-no-secret",
        "connection",
        "client_secret",
        "`auth_type: oauth-m2m` without client_secret",
        _conn(host="{url}", login="sp", extra={"auth_type": "oauth-m2m"}),
        CE,
        f"{C}: oauth-m2m needs a client_secret (set extra 'client_secret', Password or DATABRICKS_CLIENT_SECRET)",
    ),
    Case(
        "conn-timeout-not-a-number",
        "connection",
        "read_timeout",
        "extra `read_timeout: soon`",
        _conn(host="{url}", password="t", extra={"read_timeout": "soon"}),
        CE,
        f"{C}: read_timeout 'soon' is not a number (set read_timeout to a positive number)",
    ),
    Case(
        "conn-negative-deadline",
        "connection",
        "retry_deadline_seconds",
        "extra `retry_deadline_seconds: -1`",
        _conn(host="{url}", password="t", extra={"retry_deadline_seconds": -1}),
        CE,
        f"{C}: retry_deadline_seconds -1 must be positive (set retry_deadline_seconds to a positive number)",
    ),
    Case(
        "conn-api-version",
        "connection",
        "api_version",
        "extra `api_version: 3.0`",
        _conn(host="{url}", password="t", extra={"api_version": "3.0"}),
        CE,
        f"{C}: api_version '3.0' is not supported (use '2.2' or '2.1')",
    ),
    Case(
        "conn-ca-bundle-missing",
        "connection",
        "ca_bundle",
        "extra `ca_bundle: /nonexistent/ca.pem`",
        _conn(host="{url}", password="t", extra={"ca_bundle": "/nonexistent/ca.pem"}),
        CE,
        f"{C}: ca_bundle '/nonexistent/ca.pem' is not a readable file (set ca_bundle to a PEM file path)",
    ),
    Case(
        "conn-insecure-not-bool",
        "connection",
        "insecure_skip_verify",
        "extra `insecure_skip_verify: maybe`",
        _conn(host="{url}", password="t", extra={"insecure_skip_verify": "maybe"}),
        CE,
        f"{C}: insecure_skip_verify 'maybe' is not a boolean (set insecure_skip_verify to true or false)",
    ),
    # ---- job JSON ----------------------------------------------------------------------------
    Case(
        "job-missing-task-key",
        "job JSON",
        "task_key",
        "a task without `task_key`",
        _create_job(_job({"notebook_task": NB, "new_cluster": CLUSTER})),
        JS,
        "tasks[0].task_key is missing (every task needs a non-empty task_key)",
    ),
    Case(
        "job-duplicate-task-key",
        "job JSON",
        "task_key",
        "two tasks with `task_key: a`",
        _create_job(_job(_task("a"), _task("a"))),
        JS,
        "tasks[1].task_key 'a' is already used by tasks[0]",
    ),
    Case(
        "job-unknown-dependency",
        "job JSON",
        "depends_on",
        "`depends_on: [{task_key: c}]`, no task c",
        _create_job(_job(_task("a"), _task("b", depends_on=_dep("c")))),
        JS,
        "tasks[1].depends_on[0].task_key 'c' is not a task of this job",
    ),
    Case(
        "job-self-dependency",
        "job JSON",
        "depends_on",
        "task a depends on a",
        _create_job(_job(_task("a", depends_on=_dep("a")))),
        JS,
        "tasks[0].depends_on[0].task_key 'a' is the task itself",
    ),
    Case(
        "job-cycle",
        "job JSON",
        "depends_on",
        "a → b → c → a",
        _create_job(
            _job(
                _task("a", depends_on=_dep("c")),
                _task("b", depends_on=_dep("a")),
                _task("c", depends_on=_dep("b")),
            )
        ),
        JS,
        "tasks depends_on has a cycle: a -> c -> b -> a",
    ),
    Case(
        "job-dependency-not-object",
        "job JSON",
        "depends_on",
        '`depends_on: ["a"]`',
        _create_job(_job(_task("a"), _task("b", depends_on=["a"]))),
        JS,
        "tasks[1].depends_on[0] must be an object like {'task_key': ...}, got str",
    ),
    Case(
        "job-two-compute-specs",
        "job JSON",
        "new_cluster",
        "`existing_cluster_id` and `new_cluster` on one task",
        _create_job(_job(_task("a", existing_cluster_id="c-1"))),
        JS,
        "tasks[0] has 2 compute specs (existing_cluster_id, new_cluster); give at most one",
    ),
    Case(
        "job-two-task-types",
        "job JSON",
        "notebook_task",
        "`notebook_task` and `spark_jar_task` on one task",
        _create_job(_job(_task("a", spark_jar_task={"main_class_name": "M"}))),
        JS,
        "tasks[0] has 2 task types (notebook_task, spark_jar_task); give exactly one",
    ),
    Case(
        "job-unknown-job-cluster",
        "job JSON",
        "job_cluster_key",
        "`job_cluster_key: big`, no such job cluster",
        _create_job(_job({"task_key": "a", "notebook_task": NB, "job_cluster_key": "big"})),
        JS,
        "tasks[0].job_cluster_key 'big' is not in job_clusters",
    ),
    Case(
        "job-duplicate-job-cluster",
        "job JSON",
        "job_cluster_key",
        "two `job_clusters` named c",
        _create_job(_job(_task("a"), job_clusters=[{"job_cluster_key": "c", "new_cluster": CLUSTER}] * 2)),
        JS,
        "job_clusters[1].job_cluster_key 'c' is used by another job cluster",
    ),
    Case(
        "job-tasks-not-a-list",
        "job JSON",
        "tasks",
        "`tasks: {...}` (an object)",
        _create_job({"name": "bad", "tasks": {"a": 1}}),
        JS,
        "tasks must be a list, got dict",
    ),
    Case(
        "job-task-key-not-string",
        "job JSON",
        "task_key",
        "`task_key: 7`",
        _create_job(_job({"task_key": 7, "notebook_task": NB, "new_cluster": CLUSTER})),
        JS,
        "tasks[0].task_key must be a string, got int",
    ),
    Case(
        "job-timeout-not-int",
        "job JSON",
        "timeout_seconds",
        "`timeout_seconds: ten`",
        _create_job(_job(_task("a"), timeout_seconds="ten")),
        JS,
        "timeout_seconds must be an integer, got 'ten'",
    ),
    Case(
        "job-notebook-path-not-string",
        "job JSON",
        "notebook_path",
        "`notebook_task: {notebook_path: 3}`",
        _create_job(_job({"task_key": "a", "notebook_task": {"notebook_path": 3}, "new_cluster": CLUSTER})),
        JS,
        "tasks[0].notebook_task.notebook_path must be a string",
    ),
    Case(
        "job-task-key-too-long",
        "job JSON",
        "task_key",
        "a 101-character `task_key`",
        _create_job(_job(_task("k" * 101))),
        JS,
        "tasks[0].task_key is 101 characters, over the limit of 100",
    ),
    Case(
        "job-task-without-type",
        "job JSON",
        "notebook_task",
        "a task with a cluster but no task type",
        _create_job(_job({"task_key": "a", "new_cluster": CLUSTER})),
        JS,
        "tasks[0] has no task type (give exactly one, e.g. notebook_task) for task 'a'",
    ),
    Case(
        "job-concurrency-out-of-range",
        "job JSON",
        "max_concurrent_runs",
        "`max_concurrent_runs: -1`",
        _create_job(_job(_task("a"), max_concurrent_runs=-1)),
        JS,
        "max_concurrent_runs is -1, outside 0..1000",
    ),
    Case(
        "job-no-name",
        "job JSON",
        "name",
        "job settings without `name`",
        _create_job({"tasks": [_task("a")]}),
        JS,
        "name is missing (the job name is the upsert key)",
    ),
    Case(
        "job-oversized",
        "job JSON",
        "json",
        "an 11 MB job description",
        _create_job(_job(_task("a"), description="x" * (11 * 1024 * 1024))),
        JS,
        "json is 11534534 bytes, over the 10485760-byte request limit",
    ),
    Case(
        "job-not-serialisable",
        "job JSON",
        "json",
        "a Python `set` in the tags",
        _create_job(_job(_task("a"), tags={"k": {1}})),
        JS,
        "json is not JSON-serialisable: Object of type set is not JSON serializable",
    ),
    Case(
        "submit-empty-tasks",
        "job JSON",
        "tasks",
        "runs/submit with `tasks: []`",
        _submit({"run_name": "r", "tasks": []}),
        JS,
        "tasks is empty (a run needs at least one task)",
    ),
    Case(
        "submit-token-too-long",
        "job JSON",
        "idempotency_token",
        "a 65-character `idempotency_token`",
        _submit({"tasks": [_task("a")], "idempotency_token": "t" * 65}),
        JS,
        "idempotency_token is 65 characters, over 64",
    ),
    Case(
        "submit-token-not-string",
        "job JSON",
        "idempotency_token",
        "`idempotency_token: {a: 1}` (an object)",
        _submit({"tasks": [_task("a")], "idempotency_token": {"a": 1}}),
        JS,
        "idempotency_token must be a string, got dict",
    ),
    Case(
        "job-clusters-not-a-list",
        "job JSON",
        "job_clusters",
        '`job_clusters: "x"`',
        _create_job(_job(_task("a"), job_clusters="x")),
        JS,
        "job_clusters must be a list, got str",
    ),
    Case(
        "job-num-workers-huge",
        "job JSON",
        "num_workers",
        "`new_cluster.num_workers: 10**12`",
        _create_job(_job(_task("a", new_cluster={**CLUSTER, "num_workers": 10**12}))),
        JS,
        "tasks[0].new_cluster.num_workers is 1000000000000, outside 0..100000",
    ),
    Case(
        "job-cluster-num-workers-negative",
        "job JSON",
        "num_workers",
        "`job_clusters[0].new_cluster.num_workers: -1`",
        _create_job(
            _job(
                {"task_key": "a", "notebook_task": NB, "job_cluster_key": "c"},
                job_clusters=[{"job_cluster_key": "c", "new_cluster": {**CLUSTER, "num_workers": -1}}],
            )
        ),
        JS,
        "job_clusters[0].new_cluster.num_workers is -1, outside 0..100000",
    ),
    Case(
        "job-autoscale-max-huge",
        "job JSON",
        "max_workers",
        "`autoscale: {min_workers: 1, max_workers: 10**9}`",
        _create_job(
            _job(
                _task(
                    "a",
                    new_cluster={
                        "spark_version": "15.4.x-scala2.12",
                        "node_type_id": "i3.xlarge",
                        "autoscale": {"min_workers": 1, "max_workers": 10**9},
                    },
                )
            )
        ),
        JS,
        "tasks[0].new_cluster.autoscale.max_workers is 1000000000, outside 0..100000",
    ),
    Case(
        "job-num-workers-not-int",
        "job JSON",
        "num_workers",
        "`new_cluster.num_workers: many`",
        _create_job(_job(_task("a", new_cluster={**CLUSTER, "num_workers": "many"}))),
        JS,
        "tasks[0].new_cluster.num_workers must be an integer, got 'many'",
    ),
    Case(
        "job-notebook-path-nul",
        "job JSON",
        "notebook_path",
        "a NUL byte in `notebook_path`",
        _create_job(_job(_task("a", notebook_task={"notebook_path": "/Shared/x\x00y"}))),
        JS,
        "tasks[0].notebook_task.notebook_path contains a NUL character",
    ),
    Case(
        "job-python-file-nul",
        "job JSON",
        "python_file",
        "a NUL byte in `spark_python_task.python_file`",
        _create_job(
            _job(
                {
                    "task_key": "a",
                    "new_cluster": CLUSTER,
                    "spark_python_task": {"python_file": "/Workspace/a\x00.py"},
                }
            )
        ),
        JS,
        "tasks[0].spark_python_task.python_file contains a NUL character",
    ),
    Case(
        "job-name-too-long",
        "job JSON",
        "name",
        "a 4,097-byte job `name`",
        _create_job({"name": "n" * 4097, "tasks": [_task("a")]}),
        JS,
        "name is 4097 bytes, over the limit of 4096",
    ),
    Case(
        "submit-run-name-too-long",
        "job JSON",
        "run_name",
        "a 4,097-byte `run_name` (2,049 two-byte characters)",
        _submit({"run_name": "é" * 2049, "tasks": [_task("a")]}),
        JS,
        "run_name is 4098 bytes, over the limit of 4096",
    ),
    Case(
        "job-too-many-tasks",
        "job JSON",
        "tasks",
        "1,001 tasks in one job",
        _create_job(_job(*[_task(f"t{i}") for i in range(1001)])),
        JS,
        "tasks has 1001 entries, over the limit of 1000 tasks per job",
    ),
    Case(
        "job-reverse-chain-1500",
        "job JSON",
        "tasks",
        "a 1,500-task chain declared in reverse order",
        _create_job(
            _job(*[_task(f"t{i}", depends_on=_dep(f"t{i + 1}")) for i in range(1499)], _task("t1499"))
        ),
        JS,
        "tasks has 1500 entries, over the limit of 1000 tasks per job",
    ),
    Case(
        "job-timeout-huge",
        "job JSON",
        "timeout_seconds",
        "`timeout_seconds: 10**400`",
        _create_job(_job(_task("a"), timeout_seconds=10**400)),
        JS,
        "timeout_seconds is a 401-digit number, outside 0..2147483647",
    ),
    Case(
        "job-timeout-negative",
        "job JSON",
        "timeout_seconds",
        "`timeout_seconds: -1`",
        _create_job(_job(_task("a"), timeout_seconds=-1)),
        JS,
        "timeout_seconds is -1, outside 0..2147483647",
    ),
    Case(
        "submit-task-timeout-over-int32",
        "job JSON",
        "timeout_seconds",
        "task `timeout_seconds: 2**31`",
        _submit({"run_name": "r", "tasks": [_task("a", timeout_seconds=2**31)]}),
        JS,
        "tasks[0].timeout_seconds is 2147483648, outside 0..2147483647",
    ),
    # ---- operator arguments ------------------------------------------------------------------
    Case(
        "run-now-both-job-refs",
        "operator",
        "job_id",
        "`job_id=1, job_name='x'`",
        _run_now(job_id=1, job_name="x"),
        CE,
        "give exactly one of job_id and job_name (got job_id=1 and job_name='x')",
    ),
    Case(
        "run-now-no-job-ref",
        "operator",
        "job_id",
        "neither `job_id` nor `job_name`",
        _run_now(),
        CE,
        "give exactly one of job_id and job_name",
    ),
    Case(
        "run-now-job-id-not-int",
        "operator",
        "job_id",
        "`job_id='abc'` (after rendering)",
        _run_now(job_id="abc"),
        CE,
        "job_id must be a positive integer, got 'abc'",
    ),
    Case(
        "run-now-job-id-negative",
        "operator",
        "job_id",
        "`job_id=-3`",
        _run_now(job_id=-3),
        CE,
        "job_id must be a positive integer, got -3",
    ),
    Case(
        "run-now-job-id-float",
        "operator",
        "job_id",
        "`job_id=1.5`",
        _run_now(job_id=1.5),
        CE,
        "job_id must be a positive integer, got 1.5",
    ),
    Case(
        "run-now-token-not-string",
        "operator",
        "idempotency_token",
        "`idempotency_token={'a': 1}`",
        _run_now(job_id=1, idempotency_token={"a": 1}),
        CE,
        "idempotency_token must be a string of 1 to 64 characters, got dict",
    ),
    Case(
        "run-now-token-too-long",
        "operator",
        "idempotency_token",
        "a 65-character `idempotency_token`",
        _run_now(job_id=1, idempotency_token="t" * 65),
        CE,
        "idempotency_token must be a string of 1 to 64 characters, got 65 characters",
    ),
    Case(
        "sensor-run-id-not-int",
        "operator",
        "run_id",
        "`DatabricksRunSensor(run_id='12abc')`",
        _sensor(run_id="12abc"),
        CE,
        "run_id must be a positive integer, got '12abc'",
    ),
    Case(
        "sensor-run-id-huge",
        "operator",
        "run_id",
        "`DatabricksRunSensor(run_id=2**64)`",
        _sensor(run_id=2**64),
        CE,
        "run_id must be a positive integer, got 18446744073709551616",
    ),
    Case(
        "sensor-job-id-not-int",
        "operator",
        "job_id",
        "`DatabricksRunSensor(job_id='7; drop')`",
        _sensor(job_id="7; drop"),
        CE,
        "job_id must be a positive integer, got '7; drop'",
    ),
    Case(
        "sensor-job-id-zero",
        "operator",
        "job_id",
        "`DatabricksRunSensor(job_id='0')`",
        _sensor(job_id="0"),
        CE,
        "job_id must be a positive integer, got '0'",
    ),
    Case(
        "cancel-run-id-not-int",
        "operator",
        "run_id",
        "`DatabricksCancelRunOperator(run_id='x1')`",
        _cancel(run_id="x1"),
        CE,
        "run_id must be a positive integer, got 'x1'",
    ),
    Case(
        "cancel-job-id-bool",
        "operator",
        "job_id",
        "`DatabricksCancelRunOperator(job_id=True)`",
        _cancel(job_id=True),
        CE,
        "job_id must be a positive integer, got True",
    ),
    Case(
        "submit-cluster-id-blank",
        "job JSON",
        "existing_cluster_id",
        "`existing_cluster_id: ' '`",
        _submit(
            {"run_name": "r", "tasks": [{"task_key": "a", "notebook_task": NB, "existing_cluster_id": " "}]}
        ),
        JS,
        "tasks[0].existing_cluster_id ' ' is not a cluster id (letters, digits, '-', '_' and '.')",
    ),
    Case(
        "submit-cluster-id-control-char",
        "job JSON",
        "existing_cluster_id",
        "`existing_cluster_id: '0923-1\\n'`",
        _submit(
            {
                "run_name": "r",
                "tasks": [{"task_key": "a", "notebook_task": NB, "existing_cluster_id": "0923-1\n"}],
            }
        ),
        JS,
        "tasks[0].existing_cluster_id '0923-1\\n' is not a cluster id (letters, digits, '-', '_' and '.')",
    ),
    # ---- DBFS --------------------------------------------------------------------------------
    Case(
        "dbfs-put-over-1mb",
        "DBFS",
        "contents",
        "`dbfs_put` of 1 MB + 1 byte",
        _hook("dbfs_put", "/tmp/x", b"x" * (1024 * 1024 + 1)),
        CE,
        "dbfs/put: contents is 1048577 bytes, over the 1 MB inline limit (use dbfs_upload)",
    ),
    Case(
        "dbfs-relative-path",
        "DBFS",
        "path",
        "`dbfs_read('tmp/x')`",
        _hook("dbfs_read", "tmp/x"),
        CE,
        "dbfs/read: path 'tmp/x' must be an absolute DBFS path (/... or dbfs:/...)",
    ),
    Case(
        "dbfs-empty-path",
        "DBFS",
        "path",
        "`dbfs_list('')`",
        _hook("dbfs_list", ""),
        CE,
        "dbfs/list: path '' must be an absolute DBFS path (/... or dbfs:/...)",
    ),
    Case(
        "dbfs-move-relative-target",
        "DBFS",
        "destination_path",
        "`dbfs_move('/a', 'b')`",
        _hook("dbfs_move", "/a", "b"),
        CE,
        "dbfs/move: destination_path 'b' must be an absolute DBFS path (/... or dbfs:/...)",
    ),
    Case(
        "dbfs-missing-file",
        "DBFS",
        "path",
        "`dbfs_read('/no/such/file')`",
        _hook("dbfs_read", "/no/such/file"),
        "DatabricksNotFoundError",
        "GET /api/2.0/dbfs/read -> 404 RESOURCE_DOES_NOT_EXIST: No file or directory exists on path /no/such/file.",
        before_api=False,
    ),
    # ---- secrets -----------------------------------------------------------------------------
    Case(
        "secret-scope-with-space",
        "secrets",
        "scope",
        "`create_secret_scope('bad scope!')`",
        _hook("create_secret_scope", "bad scope!"),
        CE,
        "secrets/scopes/create: scope 'bad scope!' is not a valid secret scope name "
        "(letters, digits, '-', '_' and '.', at most 128 characters)",
    ),
    Case(
        "secret-scope-too-long",
        "secrets",
        "scope",
        "a 129-character scope name",
        _hook("list_secrets", "s" * 129),
        CE,
        f"secrets/list: scope '{'s' * 129}' is not a valid secret scope name "
        "(letters, digits, '-', '_' and '.', at most 128 characters)",
    ),
    Case(
        "secret-key-with-slash",
        "secrets",
        "key",
        "`put_secret('ok', 'a/b', ...)`",
        _hook("put_secret", "ok", "a/b", string_value="v"),
        CE,
        "secrets/put: key 'a/b' is not a valid secret key name (letters, digits, '-', '_' and '.', at most 128 characters)",
    ),
    Case(
        "secret-both-values",
        "secrets",
        "string_value",
        "`put_secret` with `string_value` and `bytes_value`",
        _hook("put_secret", "ok", "k", string_value="v", bytes_value=b"v"),
        "ValueError",
        "put_secret needs exactly one of string_value or bytes_value",
    ),
)


def render_markdown() -> str:
    lines = [
        "# Malformed inputs and the errors they give",
        "",
        "Generated from `tests/bad_input/catalogue.py` (a test fails when this file and the catalogue",
        "differ; regenerate with `.venv/bin/python tests/bad_input/catalogue.py > docs/bad-input.md`).",
        "Every message is one line and names the field. *Before any request* means the input is rejected",
        "locally: the test asserts the workspace saw no request at all.",
        "",
    ]
    for area in dict.fromkeys(case.area for case in CASES):
        lines += [
            f"## {area[0].upper()}{area[1:]}",
            "",
            "| id | input | field | error | before any request |",
            "|---|---|---|---|---|",
        ]
        for case in (c for c in CASES if c.area == area):
            message = (
                case.message if len(case.message) <= 200 else case.message[:80] + "…" + case.message[-80:]
            )
            message = message.replace("|", "\\|")
            given = case.given.replace("|", "\\|")
            lines.append(
                f"| `{case.id}` | {given} | `{case.field}` | `{case.error}`: {message} | {'yes' if case.before_api else 'no (a 4xx from the workspace)'} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(), end="")
