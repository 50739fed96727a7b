"""The process-wide client limiter: one AIMD token bucket per (workspace host, endpoint family)."""

from __future__ import annotations

import pytest
from hook_test_server import err, ok

from airflow_dbx_provider.hooks import rate_limit
from airflow_dbx_provider.hooks.api import EP
from airflow_dbx_provider.hooks.rate_limit import FAMILY_RATES, TokenBucket, bucket_for, endpoint_family
from airflow_dbx_provider.hooks.settings import resolve_settings

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
RUNS_GET = "/api/2.2/jobs/runs/get"
THROTTLED = err(429, "REQUEST_LIMIT_EXCEEDED", "x", Retry_After="0")


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("GET", "/api/2.2/jobs/runs/get", "runs_read"),
        ("GET", "/api/2.1/jobs/runs/list", "runs_read"),
        ("GET", "/api/2.2/jobs/runs/get-output", "runs_read"),
        ("POST", "/api/2.2/jobs/run-now", "runs_submit"),
        ("POST", "/api/2.2/jobs/runs/submit", "runs_submit"),
        ("POST", "/api/2.2/jobs/runs/cancel", "runs_write"),
        ("POST", "/api/2.2/jobs/create", "jobs"),
        ("GET", "/api/2.2/jobs/get", "jobs_read"),
        ("GET", "/api/2.1/clusters/get", "clusters"),
        ("POST", "/api/2.0/dbfs/add-block", "dbfs"),
        ("POST", "/api/2.0/secrets/put", "secrets"),
        ("POST", "/api/2.0/workspace/import", "workspace"),
        ("PATCH", "/api/2.0/permissions/jobs/7", "permissions"),
        ("GET", "/api/2.0/preview/scim/v2/Me", "other"),
        ("POST", "/oidc/v1/token", "other"),
        # the emulator's route templates (relative to the version) map to the same families
        ("GET", "/jobs/runs/get", "runs_read"),
        ("POST", "/jobs/runs/submit", "runs_submit"),
        ("GET", "/jobs/list", "jobs_read"),
        ("PUT", "/preview/permissions/jobs/{job_id}", "permissions"),
        ("GET", "/preview/scim/v2/Me", "other"),
    ],
)
def test_endpoint_family(method, path, family):
    assert endpoint_family(method, path) == family


def test_token_bucket_paces_and_floors():
    now = [0.0]
    bucket = TokenBucket(2, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    for _ in range(5):
        bucket.on_throttled()
    assert bucket.rate == 1.0


def test_defaults_are_the_family_rates_and_the_setting_replaces_them():
    host = "https://x.example.com"
    assert (
        resolve_settings(
            conn_id=None, conn=None, overrides={"host": host, "token": "dapi-x"}, env={}
        ).requests_per_second
        is None
    )
    assert {f: bucket_for(host, f).max_rate for f in FAMILY_RATES} == FAMILY_RATES
    assert FAMILY_RATES["runs_read"] == 100.0 and FAMILY_RATES["jobs"] == 20.0
    # hooks sharing a bucket get the lowest rate any of them asked for, for the whole process
    assert bucket_for(host, "runs_read", 40).max_rate == 40.0
    assert bucket_for(host, "runs_read").max_rate == 40.0  # never raised again by a laxer hook
    assert bucket_for(host, "runs_read", 10).max_rate == 10.0
    # the setting applies to every family, above the published defaults too
    other = "https://other.example.com"
    assert bucket_for(other, "jobs", 400).max_rate == 400.0
    assert bucket_for(other, "runs_read", 400).max_rate == 400.0
    assert bucket_for("https://third.example.com", "runs_read").max_rate == 100.0


@pytest.fixture
def still_clock(monkeypatch):
    """Shared buckets see no time pass, so a wait is exactly what the bucket computed."""
    monkeypatch.setattr(rate_limit, "bucket_clock", lambda: 1000.0)


@KINDS
@pytest.mark.usefixtures("still_clock")
def test_families_do_not_share_tokens(kind, server, make_client, sleeps):
    client = make_client(kind, host=server.url, requests_per_second=2)
    server.script("/api/2.2/jobs/create", ok({"job_id": 1}), ok({"job_id": 2}))
    for _ in range(2):
        client.call(EP.RUNS_GET, run_id=1)
    for _ in range(2):
        client.call(EP.JOBS_CREATE, name="j")  # a fresh bucket: the runs reads took nothing from it
    assert sleeps == []
    client.call(EP.RUNS_GET, run_id=1)  # the runs_read bucket is empty: wait ~1/2 s
    assert sleeps == [0.5]


@pytest.mark.usefixtures("still_clock")
def test_buckets_shared_by_sync_and_async_hooks_of_one_host(server, make_client, sleeps):
    a = make_client("sync", host=server.url, requests_per_second=2)
    b = make_client("async", host=server.url + "/", requests_per_second=2)
    a.get_run(1)
    b.get_run(1)
    assert sleeps == []
    a.get_run(1)
    assert sleeps == [0.5]


@KINDS
def test_429_halves_only_that_family_then_recovers_additively(kind, server, make_client):
    client = make_client(kind, host=server.url, requests_per_second=None)
    client.call(EP.JOBS_GET, job_id=1)
    server.script(RUNS_GET, THROTTLED, ok({}))
    client.get_run(1)
    runs_read, jobs_read = bucket_for(server.url, "runs_read"), bucket_for(server.url, "jobs_read")
    assert runs_read.rate == 51.0  # 100 halved, then one success of additive recovery (+1% of 100)
    assert jobs_read.rate == jobs_read.max_rate == 30.0  # another family: untouched
    for _ in range(49):
        client.get_run(1)
    assert runs_read.rate == 100.0  # back to, and never above, the family's default
