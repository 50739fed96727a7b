"""Cluster specs are checked against the compute the workspace serves, as on Databricks.

A bogus `spark_version`, `node_type_id` or `instance_pool_id` is a 400 INVALID_PARAMETER_VALUE
wherever a cluster spec goes (clusters/create|edit, a job's `new_cluster` and `job_clusters` in
jobs/create, reset and update, runs/submit), and what the SDK's helpers pick from
`clusters/spark-versions` and `clusters/list-node-types` is accepted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from _runs_helpers import Api
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.emulator.cli import build_parser, config_from_args

GOOD = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
NOTEBOOK = {"notebook_task": {"notebook_path": "/x"}}
BOGUS: dict[str, tuple[dict[str, Any], str]] = {
    "spark_version": ({"spark_version": "7.3.x-scala2.99"}, "Invalid spark version 7.3.x-scala2.99."),
    "node_type_id": (
        {"node_type_id": "i3.bogus"},
        "Node type i3.bogus is not supported. Supported node types: ",
    ),
    "driver_node_type_id": (
        {"driver_node_type_id": "i3.bogus"},
        "Node type i3.bogus is not supported. Supported node types: ",
    ),
    "instance_pool_id": (
        {"instance_pool_id": "0101-000000-pool-nope"},
        "Instance pool 0101-000000-pool-nope",
    ),
}


def _job(cluster: dict[str, Any], where: str) -> dict[str, Any]:
    """A job body naming `cluster` as a task's `new_cluster` or in `job_clusters`."""
    if where == "job_clusters":
        return {
            "name": "j",
            "job_clusters": [{"job_cluster_key": "c", "new_cluster": cluster}],
            "tasks": [{"task_key": "t", "job_cluster_key": "c", **NOTEBOOK}],
        }
    return {"name": "j", "tasks": [{"task_key": "t", "new_cluster": cluster, **NOTEBOOK}]}


def _requests(api: Api, cluster: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every call that takes a cluster spec, with `cluster` in it (jobs and a cluster made first)."""
    job_id = api.post("/api/2.2/jobs/create", _job(GOOD, "task"))["job_id"]
    cluster_id = api.cluster()
    deadline = time.monotonic() + 10
    while api.get("/api/2.1/clusters/get", cluster_id=cluster_id)["state"] != "RUNNING":  # editable
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return {
        "clusters/create": ("/api/2.1/clusters/create", {"cluster_name": "c", **cluster}),
        "clusters/edit": (
            "/api/2.1/clusters/edit",
            {"cluster_id": cluster_id, "cluster_name": "c", **cluster},
        ),
        "jobs/create new_cluster": ("/api/2.2/jobs/create", _job(cluster, "task")),
        "jobs/create job_clusters": ("/api/2.2/jobs/create", _job(cluster, "job_clusters")),
        "jobs/reset": ("/api/2.2/jobs/reset", {"job_id": job_id, "new_settings": _job(cluster, "task")}),
        "jobs/update": (
            "/api/2.2/jobs/update",
            {
                "job_id": job_id,
                "new_settings": {"job_clusters": _job(cluster, "job_clusters")["job_clusters"]},
            },
        ),
        "runs/submit tasks": ("/api/2.2/jobs/runs/submit", {"run_name": "r", **_job(cluster, "task")}),
        "runs/submit job_clusters": (
            "/api/2.2/jobs/runs/submit",
            {"run_name": "r", **_job(cluster, "job_clusters")},
        ),
        "runs/submit legacy": (
            "/api/2.1/jobs/runs/submit",
            {"run_name": "r", "new_cluster": cluster, **NOTEBOOK},
        ),
    }


CALLS = [
    "clusters/create", "clusters/edit", "jobs/create new_cluster", "jobs/create job_clusters", "jobs/reset",
    "jobs/update", "runs/submit tasks", "runs/submit job_clusters", "runs/submit legacy",
]  # fmt: skip


@pytest.mark.parametrize("field", list(BOGUS))
@pytest.mark.parametrize("call", CALLS)
def test_bogus_compute_is_refused_everywhere(
    api: Api, dbx_emulator: EmulatorServer, call: str, field: str
) -> None:
    override, message = BOGUS[field]
    path, body = _requests(api, {**GOOD, **override})[call]
    response = api.call("POST", path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert response.json()["message"].startswith(message), response.text
    assert dbx_emulator.counters()["runs_created"] == 0


@pytest.mark.parametrize("call", CALLS)
def test_served_compute_is_accepted_everywhere(api: Api, call: str) -> None:
    path, body = _requests(api, GOOD)[call]
    response = api.call("POST", path, json=body)
    assert response.status_code == 200, response.text


def test_sdk_selectors_pick_what_is_accepted(sdk: WorkspaceClient) -> None:
    version = sdk.clusters.select_spark_version(long_term_support=True)
    assert version == "16.4.x-scala2.12"  # the newest LTS on the SDK's default Scala 2.12
    assert sdk.clusters.select_spark_version(long_term_support=True, scala="2.13") == "17.3.x-scala2.13"
    assert sdk.clusters.select_spark_version(ml=True, scala="2.12") == "16.4.x-cpu-ml-scala2.12"
    assert sdk.clusters.select_spark_version(spark_version="3.5.0", scala="2.12") == "15.4.x-scala2.12"
    node = sdk.clusters.select_node_type(local_disk=True)
    assert node == "m5d.large"  # the smallest with a local disk
    assert sdk.clusters.select_node_type(min_memory_gb=30, local_disk=True) in ("i3.xlarge", "r5d.xlarge")
    assert sdk.clusters.select_node_type(min_gpus=1) == "g4dn.xlarge"
    assert sdk.clusters.select_node_type(photon_driver_capable=True, category="Memory Optimized")
    details = sdk.clusters.create(cluster_name="sdk", spark_version=version, node_type_id=node, num_workers=1)
    assert details.cluster_id
    with pytest.raises(InvalidParameterValue, match="Invalid spark version 1.0.x-scala2.10"):
        sdk.clusters.create(
            cluster_name="x", spark_version="1.0.x-scala2.10", node_type_id=node, num_workers=1
        )


def test_node_types_carry_the_fields_select_node_type_reads(api: Api) -> None:
    node_types = api.get("/api/2.1/clusters/list-node-types")["node_types"]
    for item in node_types:
        for field in (
            "node_type_id",
            "memory_mb",
            "num_cores",
            "num_gpus",
            "is_deprecated",
            "instance_type_id",
            "category",
            "photon_driver_capable",
            "photon_worker_capable",
            "is_io_cache_enabled",
        ):
            assert field in item, (item["node_type_id"], field)  # fmt: skip
        disks = item["node_instance_type"]
        assert set(disks) >= {
            "local_disks",
            "local_disk_size_gb",
            "local_nvme_disks",
            "local_nvme_disk_size_gb",
        }


def test_instance_pools_back_cluster_specs(sdk: WorkspaceClient, api: Api) -> None:
    pool = sdk.instance_pools.create(instance_pool_name="p", node_type_id="m5d.large", min_idle_instances=0)
    pool_id = pool.instance_pool_id or ""
    assert sdk.instance_pools.get(pool_id).node_type_id == "m5d.large"
    assert [p.instance_pool_id for p in sdk.instance_pools.list()] == [pool_id]
    cluster_id = sdk.clusters.create(
        cluster_name="pooled", spark_version="15.4.x-scala2.12", instance_pool_id=pool_id, num_workers=1
    ).cluster_id
    assert sdk.clusters.get(cluster_id or "").node_type_id == "m5d.large"  # the pool's
    job = {"name": "j", "tasks": [{"task_key": "t", **NOTEBOOK, "new_cluster": {
        "spark_version": "15.4.x-scala2.12", "instance_pool_id": pool_id, "num_workers": 1}}]}  # fmt: skip
    api.post("/api/2.2/jobs/create", job)
    sdk.instance_pools.delete(pool_id)
    assert list(sdk.instance_pools.list()) == []
    response = api.call("POST", "/api/2.2/jobs/create", json=job)
    assert response.status_code == 400 and "does not exist" in response.json()["message"]
    bad_pool = api.call(
        "POST", "/api/2.0/instance-pools/create", json={"instance_pool_name": "q", "node_type_id": "x"}
    )
    assert bad_pool.status_code == 400 and bad_pool.json()["message"].startswith(
        "Node type x is not supported"
    )


def test_own_runtimes_and_node_types_from_config(
    api: Api, dbx_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dbx_emulator.config
    monkeypatch.setattr(
        config, "spark_versions", [{"key": "7.3.x-scala2.12", "name": "7.3 LTS (Apache Spark 3.0.1)"}]
    )
    monkeypatch.setattr(
        config, "node_types", [{"node_type_id": "r3.xlarge", "memory_mb": 31232, "num_cores": 4}]
    )
    versions = [v["key"] for v in api.get("/api/2.1/clusters/spark-versions")["versions"]]
    assert "7.3.x-scala2.12" in versions and "15.4.x-scala2.12" in versions
    node = next(
        n
        for n in api.get("/api/2.1/clusters/list-node-types")["node_types"]
        if n["node_type_id"] == "r3.xlarge"
    )
    assert node["memory_mb"] == 31232 and node["node_instance_type"]["local_disks"] == 0
    api.post("/api/2.1/clusters/create", {"cluster_name": "old", "spark_version": "7.3.x-scala2.12",
                                          "node_type_id": "r3.xlarge", "num_workers": 0})  # fmt: skip


def test_config_file_adds_compute(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({
        "spark_versions": [{"key": "11.3.x-scala2.12", "name": "11.3 LTS"}],
        "node_types": [{"node_type_id": "Standard_D3_v2", "memory_mb": 14336, "num_cores": 4}],
        "serverless_compute": False,
    }))  # fmt: skip
    config = config_from_args(build_parser().parse_args(["--config", str(path)]))
    assert config.spark_versions == [{"key": "11.3.x-scala2.12", "name": "11.3 LTS"}]
    assert config.node_types[0]["node_type_id"] == "Standard_D3_v2"
    assert config.serverless_compute is False
    path.write_text(json.dumps({"node_types": [{"memory_mb": 1}]}))
    with pytest.raises(SystemExit, match="node_type_id"):
        config_from_args(build_parser().parse_args(["--config", str(path)]))


def test_tasks_without_compute_are_serverless_in_create_and_submit_alike(
    api: Api, dbx_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = {"task_key": "t", "spark_jar_task": {"main_class_name": "Main"}}
    api.post("/api/2.2/jobs/create", {"name": "j", "tasks": [task]})
    run_id = api.post("/api/2.2/jobs/runs/submit", {"run_name": "r", "tasks": [task]})["run_id"]
    assert api.wait(run_id)["state"]["result_state"] == "SUCCESS"
    monkeypatch.setattr(dbx_emulator.config, "serverless_compute", False)
    for path, body in (
        ("/api/2.2/jobs/create", {"name": "j", "tasks": [task]}),
        ("/api/2.2/jobs/runs/submit", {"run_name": "r", "tasks": [task]}),
    ):
        response = api.call("POST", path, json=body)
        assert response.status_code == 400, response.text
        assert response.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "One of job_cluster_key, new_cluster, or existing_cluster_id must be specified.",
        }
