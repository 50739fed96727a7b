"""OAuth, pagination, DBFS round trip, and secrets kept out of logs (the limiter: test_rate_limit.py)."""

from __future__ import annotations

import logging
import os

import pytest
from hook_test_server import err, ok

from airflow_dbx_provider.exceptions import DatabricksUnauthenticatedError
from airflow_dbx_provider.hooks.databricks import DatabricksHook
from tests.hooks.conftest import TOKEN

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
RUNS_GET = "/api/2.2/jobs/runs/get"
SECRET = "client-secret-value-abcdef"


def _oauth(kind, server, make_client):
    return make_client(
        kind, host=server.url, token=None, auth_type="oauth-m2m", client_id="cid", client_secret=SECRET
    )


@KINDS
def test_oauth_token_fetched_once_for_several_calls(kind, server, make_client):
    server.require_bearer = "oauth-token-"
    client = _oauth(kind, server, make_client)
    for _ in range(3):
        client.get_run(1)
    token_posts = server.hits("/oidc/v1/token")
    assert len(token_posts) == 1 and len(server.hits("/oidc/.well-known/oauth-authorization-server")) == 1
    post = token_posts[0]
    assert post.method == "POST" and post.body == b"grant_type=client_credentials&scope=all-apis"
    assert post.headers["Authorization"].startswith("Basic ")
    assert all(h.headers["Authorization"] == "Bearer oauth-token-1-secretish" for h in server.hits(RUNS_GET))


@KINDS
def test_oauth_token_refreshed_after_expiry(kind, server, make_client):
    server.require_bearer = "oauth-token-"
    server.token_lifetime = 600
    client = _oauth(kind, server, make_client)
    now = [1000.0]
    client.get_run(1)
    client.hook._auth._cache._clock = lambda: now[0]
    client.hook._auth._cache._use_until = now[0] + 540  # as if fetched at now with a 60 s margin
    client.get_run(1)
    assert server.tokens_issued == 1
    now[0] += 541
    client.get_run(1)
    assert server.tokens_issued == 2
    assert server.hits(RUNS_GET)[-1].headers["Authorization"] == "Bearer oauth-token-2-secretish"


@KINDS
def test_oauth_401_refreshes_once(kind, server, make_client):
    server.require_bearer = "oauth-token-"
    client = _oauth(kind, server, make_client)
    client.get_run(1)
    server.rejected_tokens.add("oauth-token-1-secretish")  # revoked server-side
    client.get_run(1)
    assert server.tokens_issued == 2


@KINDS
def test_oauth_discovery_falls_back_to_default_token_path(kind, server, make_client):
    server.script("/oidc/.well-known/oauth-authorization-server", err(404, "NOT_FOUND", "nope"))
    _oauth(kind, server, make_client).get_run(1)
    assert server.tokens_issued == 1


@KINDS
def test_pat_401_is_final(kind, server, make_client, sleeps):
    server.require_bearer = "something-else"
    with pytest.raises(DatabricksUnauthenticatedError):
        make_client(kind, host=server.url).get_run(1)
    assert len(server.hits(RUNS_GET)) == 1 and sleeps == []


def test_list_runs_follows_every_page(server, make_client):
    path = "/api/2.2/jobs/runs/list"
    server.script(
        path,
        ok({"runs": [{"run_id": 1}, {"run_id": 2}], "next_page_token": "p2", "has_more": False}),
        ok({"runs": [{"run_id": 3}], "next_page_token": "p3"}),
        ok({"runs": [{"run_id": 4}], "next_page_token": ""}),
    )
    runs = make_client("sync", host=server.url).list_runs(job_id=5, active_only=True)
    assert [r["run_id"] for r in runs] == [1, 2, 3, 4]
    queries = [h.query for h in server.hits(path)]
    assert (
        "page_token" not in queries[0]
        and queries[1]["page_token"] == "p2"
        and queries[2]["page_token"] == "p3"
    )
    assert queries[0]["active_only"] == "true" and queries[0]["job_id"] == "5"


@KINDS
def test_list_runs_page_is_one_request(kind, server, make_client):
    path = "/api/2.2/jobs/runs/list"
    server.script(path, ok({"runs": [{"run_id": 3}], "next_page_token": "p3"}))
    page = make_client(kind, host=server.url).list_runs_page(active_only=True, page_token="p2")
    assert page == {"runs": [{"run_id": 3}], "next_page_token": "p3"}
    assert server.hits(path)[0].query == {"active_only": "true", "limit": "25", "page_token": "p2"}


def test_list_jobs_follows_every_page_and_find_by_name(server, make_client):
    path = "/api/2.2/jobs/list"
    pages = [
        ok({"jobs": [{"job_id": 1}], "next_page_token": "a"}),
        ok({"jobs": [{"job_id": 2}], "next_page_token": "b"}),
        ok({"jobs": [{"job_id": 3}]}),
    ]
    server.script(path, *pages)
    client = make_client("sync", host=server.url)
    assert [j["job_id"] for j in client.list_jobs(limit=1)] == [1, 2, 3]
    server.script(path, ok({"jobs": [{"job_id": 8}]}))
    assert client.find_job_id_by_name("etl") == 8
    assert server.hits(path)[-1].query["name"] == "etl"


@KINDS
def test_get_run_merges_task_pages(kind, server, make_client):
    server.script(
        RUNS_GET,
        ok({"run_id": 1, "tasks": [{"task_key": "a"}], "next_page_token": "t2"}),
        ok({"run_id": 1, "tasks": [{"task_key": "b"}], "next_page_token": "t3"}),
        ok({"run_id": 1, "tasks": [{"task_key": "c"}]}),
    )
    run = make_client(kind, host=server.url).get_run(1)
    assert [t["task_key"] for t in run["tasks"]] == ["a", "b", "c"] and "next_page_token" not in run


def test_get_job_merges_settings_pages_and_api_21(server, make_client):
    path = "/api/2.1/jobs/get"
    server.script(
        path,
        ok(
            {
                "job_id": 4,
                "settings": {"tasks": [{"task_key": "a"}], "job_clusters": []},
                "next_page_token": "x",
            }
        ),
        ok(
            {
                "job_id": 4,
                "settings": {"tasks": [{"task_key": "b"}], "job_clusters": [{"job_cluster_key": "c"}]},
            }
        ),
    )
    job = make_client("sync", host=server.url, api_version="2.1").get_job(4)
    assert [t["task_key"] for t in job["settings"]["tasks"]] == ["a", "b"]
    assert job["settings"]["job_clusters"] == [{"job_cluster_key": "c"}]


def test_dbfs_upload_download_round_trip(server, make_client):
    data = os.urandom(3 * 1024 * 1024 + 12345)
    client = make_client("sync", host=server.url)
    client.dbfs_upload("/tmp/big.bin", data)
    assert len(server.hits("/api/2.0/dbfs/add-block")) == 4
    assert client.dbfs_download("/tmp/big.bin") == data
    reads = server.hits("/api/2.0/dbfs/read")
    assert len(reads) == 4 and all(int(r.query["length"]) == 1024 * 1024 for r in reads)


@KINDS
def test_secrets_never_in_logs_or_errors(kind, server, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    server.require_bearer = "oauth-token-"
    client = _oauth(kind, server, make_client)
    server.script(
        RUNS_GET,
        err(429, "X", "retry", Retry_After="0"),
        err(400, "INVALID_PARAMETER_VALUE", f"echo {SECRET}"),
    )
    with pytest.raises(Exception) as info:
        client.get_run(1)
    assert SECRET not in str(info.value) and "***" in str(info.value)
    for record in caplog.records:
        text = record.getMessage()
        assert SECRET not in text and "oauth-token-1" not in text and "Authorization" not in text


@KINDS
def test_user_agent_and_bearer(kind, server, make_client):
    make_client(kind, host=server.url).get_run(1)
    seen = server.hits(RUNS_GET)[0]
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["User-Agent"].startswith("airflow-dbx-provider/0.1.0 (+python-")


def test_test_connection(server, make_client):
    ok_, message = make_client("sync", host=server.url).test_connection()
    assert ok_ and "tester@example.com" in message
    server.script("/api/2.0/preview/scim/v2/Me", err(403, 403, "Invalid access token."))
    ok_, message = make_client("sync", host=server.url).test_connection()
    assert not ok_ and "Invalid access token." in message and TOKEN not in message


def test_secret_get_decodes_and_acl_items(server, make_client):
    client = make_client("sync", host=server.url)
    server.script("/api/2.0/secrets/get", ok({"key": "k", "value": "aGVsbG8="}))
    assert client.get_secret("s", "k") == b"hello"
    server.script("/api/2.0/secrets/acls/list", ok({"items": [{"principal": "users", "permission": "READ"}]}))
    assert client.list_secret_acls("s") == [{"principal": "users", "permission": "READ"}]


def test_permissions_use_put_and_patch(server, make_client):
    client = make_client("sync", host=server.url)
    acl = [{"user_name": "a@x.com", "permission_level": "CAN_VIEW"}]
    client.set_job_permissions(5, acl)
    client.update_job_permissions(5, acl)
    hits = server.hits("/api/2.0/permissions/jobs/5")
    assert [h.method for h in hits] == ["PUT", "PATCH"] and hits[0].json() == {"access_control_list": acl}


def test_wait_for_cluster_state_polls_with_injected_sleep(server, make_client, sleeps):
    path = "/api/2.1/clusters/get"
    server.script(
        path, ok({"state": "PENDING"}), ok({"state": "PENDING"}), ok({"state": "RUNNING", "cluster_id": "c"})
    )
    cluster = make_client("sync", host=server.url).wait_for_cluster_state("c", poll_seconds=7)
    assert cluster["state"] == "RUNNING" and sleeps == [7, 7]


def test_hook_class_attributes():
    assert DatabricksHook.conn_type == "dbx" and DatabricksHook.conn_name_attr == "databricks_conn_id"
    assert DatabricksHook.default_conn_name == "databricks_default"
