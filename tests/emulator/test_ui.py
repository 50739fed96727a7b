"""The workspace UI over real HTTP: sign-in cookie, 401 without it, ACLs, no secret values, CSRF.

The page's data calls are the REST API with the session cookie instead of a bearer token; these
tests make the same calls the page's script makes. What the browser renders is covered by
tests/e2e/test_emulator_ui_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from _runs_helpers import DAVE, Api

from airflow_dbx_provider.emulator import EmulatorServer
from airflow_dbx_provider.emulator.errors import EmulatorError
from airflow_dbx_provider.emulator.ui.sessions import COOKIE_NAME, IDLE_SECONDS, UiSessions

SECRET_VALUE = "ui-LEAKCANARY-secret-value-5e1f"
STATIC = Path(__file__).resolve().parents[2] / "airflow_dbx_provider/emulator/ui/static"


def ui_session(server: EmulatorServer, token: str) -> tuple[requests.Session, str]:
    """A browser-like session signed in with `token`; returns it and the CSRF token."""
    session = requests.Session()
    session.trust_env = False
    response = session.post(f"{server.url}/ui/login", json={"token": token}, timeout=10)
    assert response.status_code == 200, response.text
    return session, response.json()["csrf_token"]


def ui_get(
    session: requests.Session, server: EmulatorServer, url_path: str, /, **params: Any
) -> requests.Response:
    return session.get(server.url + url_path, params=params, timeout=10)


def make_job(api: Api, name: str, token: str | None = None) -> int:
    body = {"name": name, "tasks": [{"task_key": "t", "spark_jar_task": {"main_class_name": "M"}}]}
    response = api.call("POST", "/api/2.2/jobs/create", token=token, json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["job_id"])


def test_login_sets_a_session_cookie_that_is_not_the_token(dbx_emulator: EmulatorServer) -> None:
    session = requests.Session()
    session.trust_env = False
    response = session.post(
        f"{dbx_emulator.url}/ui/login", json={"token": dbx_emulator.admin_token}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["user_name"] == "admin@example.com"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in set_cookie and "samesite=strict" in set_cookie.lower() and "Path=/" in set_cookie
    cookie = session.cookies[COOKIE_NAME]
    assert dbx_emulator.admin_token not in cookie and len(cookie) >= 40
    assert dbx_emulator.admin_token not in response.text
    me = ui_get(session, dbx_emulator, "/ui/api/session").json()
    assert me["user_name"] == "admin@example.com" and me["csrf_token"] == response.json()["csrf_token"]
    assert ui_get(session, dbx_emulator, "/api/2.2/jobs/list").status_code == 200


@pytest.mark.parametrize("token", ["", "not-a-token"], ids=["empty", "unknown"])
def test_login_with_a_bad_token_sets_no_cookie(dbx_emulator: EmulatorServer, token: str) -> None:
    response = requests.post(f"{dbx_emulator.url}/ui/login", json={"token": token}, timeout=10)
    assert response.status_code in (401, 403)
    assert "set-cookie" not in response.headers


def test_the_page_is_public_but_holds_no_data_and_forbids_inline_scripts(api: Api) -> None:
    job_id = make_job(api, "private-job-name")
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    url = api.run(run_id)["run_page_url"]
    assert re.fullmatch(rf"{re.escape(api.server.url)}/\?o=\d+#job/{job_id}/run/{run_id}", url)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "private-job-name" not in page.text and str(run_id) not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/ui/static/app.js" defer>']
    assert not re.search(r"\son\w+\s*=", page.text) and "style=" not in page.text
    for name in ("app.js", "app.css"):
        static = requests.get(f"{api.server.url}/ui/static/{name}", timeout=10)
        assert static.status_code == 200 and "content-security-policy" in static.headers
    assert requests.get(f"{api.server.url}/ui/static/index.py", timeout=10).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/ui/api/session",
        "/api/2.2/jobs/list",
        "/api/2.2/jobs/runs/list",
        "/api/2.0/dbfs/list?path=/",
        "/api/2.0/secrets/scopes/list",
        "/ui/api/delta?path=/t",
    ],
)
@pytest.mark.parametrize("cookie", [None, "forged-session-id"], ids=["no-cookie", "forged-cookie"])
def test_ui_data_calls_without_a_session_answer_401(
    dbx_emulator: EmulatorServer, path: str, cookie: str | None
) -> None:
    cookies = {COOKIE_NAME: cookie} if cookie else {}
    response = requests.get(dbx_emulator.url + path, cookies=cookies, timeout=10)
    assert response.status_code == 401, response.text


def test_logout_ends_the_session_and_needs_the_csrf_token(dbx_emulator: EmulatorServer) -> None:
    session, csrf = ui_session(dbx_emulator, dbx_emulator.admin_token)
    assert session.post(f"{dbx_emulator.url}/ui/logout", timeout=10).status_code == 403
    response = session.post(f"{dbx_emulator.url}/ui/logout", headers={"X-CSRF-Token": csrf}, timeout=10)
    assert response.status_code == 200 and COOKIE_NAME not in session.cookies
    # The old cookie value is dead on the server too, not only forgotten by the client.
    old = response.request.headers["Cookie"].split("=", 1)[1]
    assert (
        requests.get(
            f"{dbx_emulator.url}/api/2.2/jobs/list", cookies={COOKIE_NAME: old}, timeout=10
        ).status_code
        == 401
    )


def test_a_user_sees_only_what_its_acls_allow(api: Api, dbx_emulator: EmulatorServer) -> None:
    admin_job = make_job(api, "admin-only-job")
    dave_job = make_job(api, "daves-job", token=DAVE.token)
    admin_run = api.post("/api/2.2/jobs/run-now", {"job_id": admin_job})["run_id"]
    dave_run = api.call("POST", "/api/2.2/jobs/run-now", token=DAVE.token, json={"job_id": dave_job}).json()[
        "run_id"
    ]
    api.post("/api/2.0/secrets/scopes/create", {"scope": "admin-scope"})
    api.post("/api/2.0/secrets/put", {"scope": "admin-scope", "key": "admin-key", "string_value": "v"})
    dave_scope = {"scope": "dave-scope"}
    assert api.call("POST", "/api/2.0/secrets/scopes/create", token=DAVE.token, json=dave_scope).ok
    put = {"scope": "dave-scope", "key": "dave-key", "string_value": "v"}
    assert api.call("POST", "/api/2.0/secrets/put", token=DAVE.token, json=put).ok

    dave, _ = ui_session(dbx_emulator, str(DAVE.token))
    assert ui_get(dave, dbx_emulator, "/ui/api/session").json()["user_name"] == DAVE.name
    jobs = ui_get(dave, dbx_emulator, "/api/2.2/jobs/list").json()["jobs"]
    assert [j["job_id"] for j in jobs] == [dave_job]
    runs = ui_get(dave, dbx_emulator, "/api/2.2/jobs/runs/list").json()["runs"]
    assert [r["run_id"] for r in runs] == [dave_run]
    assert ui_get(dave, dbx_emulator, "/api/2.2/jobs/runs/get", run_id=admin_run).status_code == 403
    assert ui_get(dave, dbx_emulator, "/api/2.2/jobs/get", job_id=admin_job).status_code == 403
    assert ui_get(dave, dbx_emulator, "/api/2.0/secrets/list", scope="admin-scope").status_code == 403
    keys = ui_get(dave, dbx_emulator, "/api/2.0/secrets/list", scope="dave-scope").json()["secrets"]
    assert [k["key"] for k in keys] == ["dave-key"]

    admin, _ = ui_session(dbx_emulator, dbx_emulator.admin_token)
    assert {r["run_id"] for r in ui_get(admin, dbx_emulator, "/api/2.2/jobs/runs/list").json()["runs"]} == {
        admin_run,
        dave_run,
    }


def test_secret_values_never_reach_the_ui(api: Api, dbx_emulator: EmulatorServer) -> None:
    api.post("/api/2.0/secrets/scopes/create", {"scope": "s"})
    api.post("/api/2.0/secrets/put", {"scope": "s", "key": "k", "string_value": SECRET_VALUE})
    session, _ = ui_session(dbx_emulator, dbx_emulator.admin_token)
    # The session cookie cannot read a value even where the token could.
    got = ui_get(session, dbx_emulator, "/api/2.0/secrets/get", scope="s", key="k")
    assert got.status_code == 403 and SECRET_VALUE not in got.text
    seen = [
        ui_get(session, dbx_emulator, path, **params).text
        for path, params in [
            ("/", {}),
            ("/ui/static/app.js", {}),
            ("/api/2.0/secrets/scopes/list", {}),
            ("/api/2.0/secrets/list", {"scope": "s"}),
        ]
    ]
    assert all(SECRET_VALUE not in text for text in seen)
    assert "secrets/get" not in (STATIC / "app.js").read_text()


def test_a_script_in_a_job_name_stays_text(api: Api, dbx_emulator: EmulatorServer) -> None:
    name = "<script>alert(1)</script>"
    job_id = make_job(api, name)
    session, _ = ui_session(dbx_emulator, dbx_emulator.admin_token)
    response = ui_get(session, dbx_emulator, "/api/2.2/jobs/list")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["jobs"][0]["settings"]["name"] == name
    assert (
        ui_get(session, dbx_emulator, "/api/2.2/jobs/get", job_id=job_id).json()["settings"]["name"] == name
    )
    # The page builds its DOM from text nodes: no HTML sink anywhere in the script.
    script = "\n".join(
        line for line in (STATIC / "app.js").read_text().splitlines() if not line.lstrip().startswith("//")
    )
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script


def test_post_actions_need_the_csrf_token(api: Api, dbx_emulator: EmulatorServer) -> None:
    job_id = make_job(api, "short")
    session, csrf = ui_session(dbx_emulator, dbx_emulator.admin_token)
    cancel = f"{dbx_emulator.url}/api/2.2/jobs/runs/cancel"
    with api.held():  # the simulated run lasts 100 ms: it must still be running when canceled
        run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
        for headers in ({}, {"X-CSRF-Token": "wrong"}):
            refused = session.post(cancel, json={"run_id": run_id}, headers=headers, timeout=10)
            assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
        assert api.run(run_id)["state"]["life_cycle_state"] != "TERMINATED"
        ok = session.post(cancel, json={"run_id": run_id}, headers={"X-CSRF-Token": csrf}, timeout=10)
        assert ok.status_code == 200, ok.text
    run = api.wait(run_id)
    assert run["state"]["result_state"] == "CANCELED"
    # Only the UI's two actions: a session cannot create or delete, even with the CSRF token.
    for path, body in [("/api/2.2/jobs/create", {"name": "x"}), ("/api/2.2/jobs/delete", {"job_id": job_id})]:
        denied = session.post(dbx_emulator.url + path, json=body, headers={"X-CSRF-Token": csrf}, timeout=10)
        assert denied.status_code == 403, denied.text
    assert api.get("/api/2.2/jobs/get", job_id=job_id)["job_id"] == job_id


def test_repair_through_the_ui_session(api: Api, dbx_emulator: EmulatorServer, notebook: Any) -> None:
    path = notebook("fails", "raise ValueError('bad row')\n")
    job = {"name": "fails", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": path}}]}
    job_id = api.post("/api/2.2/jobs/create", job)["job_id"]
    run_id = api.post("/api/2.2/jobs/run-now", {"job_id": job_id})["run_id"]
    assert api.wait(run_id)["state"]["result_state"] == "FAILED"
    session, csrf = ui_session(dbx_emulator, dbx_emulator.admin_token)
    repair = {"run_id": run_id, "rerun_all_failed_tasks": True}
    response = session.post(
        f"{dbx_emulator.url}/api/2.2/jobs/runs/repair",
        json=repair,
        headers={"X-CSRF-Token": csrf},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert "repair_id" in response.json()


def test_login_from_another_site_is_refused(dbx_emulator: EmulatorServer) -> None:
    response = requests.post(
        f"{dbx_emulator.url}/ui/login",
        json={"token": dbx_emulator.admin_token},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_delta_table_view(dbx_emulator: EmulatorServer) -> None:
    pd = pytest.importorskip("pandas")
    deltalake = pytest.importorskip("deltalake")
    folder = Path(dbx_emulator.state.data_dir) / "dbfs" / "tables" / "orders"
    frame = pd.DataFrame({"id": [1, 2], "name": ["<b>x</b>", None], "amount": [1.5, 2.0]})
    deltalake.write_deltalake(str(folder), frame)
    deltalake.write_deltalake(str(folder), frame.head(1), mode="append")
    session, _ = ui_session(dbx_emulator, dbx_emulator.admin_token)

    view = ui_get(session, dbx_emulator, "/ui/api/delta", path="dbfs:/tables/orders", rows=2).json()
    assert view["version"] == 1 and view["path"] == "/tables/orders"
    assert [(f["name"], f["type"]) for f in view["schema"]] == [
        ("id", "long"),
        ("name", "string"),
        ("amount", "double"),
    ]
    assert [h["operation"] for h in view["history"]] == ["WRITE", "WRITE"]
    assert view["columns"] == ["id", "name", "amount"] and len(view["rows"]) == 2
    assert {tuple(row) for row in view["rows"]} <= {(1, "<b>x</b>", 1.5), (2, None, 2.0)}

    listing = ui_get(session, dbx_emulator, "/api/2.0/dbfs/list", path="/tables/orders").json()["files"]
    assert any(f["path"] == "/tables/orders/_delta_log" and f["is_dir"] for f in listing)


@pytest.mark.parametrize(
    ("path", "rows"),
    [("/tables", "5"), ("/missing", "5"), ("/../etc", "5"), ("relative", "5"), ("/tables/orders", "5000")],
    ids=["not-delta", "missing", "dot-dot", "relative", "too-many-rows"],
)
def test_delta_view_refuses_bad_paths(dbx_emulator: EmulatorServer, path: str, rows: str) -> None:
    (Path(dbx_emulator.state.data_dir) / "dbfs" / "tables").mkdir(parents=True, exist_ok=True)
    session, _ = ui_session(dbx_emulator, dbx_emulator.admin_token)
    response = ui_get(session, dbx_emulator, "/ui/api/delta", path=path, rows=rows)
    assert response.status_code in (400, 404), response.text
    assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def test_a_revoked_token_ends_its_sessions(dbx_emulator: EmulatorServer) -> None:
    auth = dbx_emulator.state.auth
    principal = auth.principal_named("admin@example.com")
    assert principal is not None
    token = auth.notebook_token(principal)  # a token the emulator revokes when its task ends
    session, _ = ui_session(dbx_emulator, token)
    assert ui_get(session, dbx_emulator, "/api/2.2/jobs/list").status_code == 200
    auth.revoke(token)
    assert ui_get(session, dbx_emulator, "/api/2.2/jobs/list").status_code == 401
    assert ui_get(session, dbx_emulator, "/ui/api/session").status_code == 401


def test_idle_sessions_expire(dbx_emulator: EmulatorServer) -> None:
    now = [1000.0]
    sessions = UiSessions(dbx_emulator.state.auth, monotonic=lambda: now[0])
    session_id, _, _ = sessions.login(dbx_emulator.admin_token)
    now[0] += IDLE_SECONDS - 1
    assert sessions.session(session_id)[1].name == "admin@example.com"  # use keeps it alive
    now[0] += IDLE_SECONDS + 1
    with pytest.raises(EmulatorError) as refused:
        sessions.session(session_id)
    assert refused.value.status_code == 401
