"""Where clients reach the workspace: run page URLs and notebooks' DATABRICKS_HOST."""

from __future__ import annotations

from airflow_dbx_provider.emulator import EmulatorConfig, EmulatorServer


def _submit_and_get_page_url(server: EmulatorServer) -> str:
    from airflow_dbx_provider.hooks.databricks import DatabricksHook

    hook = DatabricksHook.from_settings(
        host=server.url.replace("0.0.0.0", "127.0.0.1"), token=server.admin_token
    )
    task = {
        "task_key": "t",
        "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1},
        "spark_jar_task": {"main_class_name": "Main"},
    }
    run_id = hook.submit_run({"run_name": "url", "tasks": [task]})
    return str(hook.get_run(run_id)["run_page_url"])


def test_public_url_is_what_clients_are_told(tmp_path) -> None:
    config = EmulatorConfig(data_dir=tmp_path, public_url="https://emulator:8000/", rate_limit_enabled=False)
    with EmulatorServer(config) as server:
        assert server.state.base_url == "https://emulator:8000"
        assert _submit_and_get_page_url(server).startswith("https://emulator:8000/?o=")


def test_a_wildcard_bind_address_is_not_handed_out(tmp_path) -> None:
    config = EmulatorConfig(host="0.0.0.0", data_dir=tmp_path, rate_limit_enabled=False)
    with EmulatorServer(config) as server:
        assert server.state.base_url == f"http://127.0.0.1:{server.port}"
        assert _submit_and_get_page_url(server).startswith(f"http://127.0.0.1:{server.port}/?o=")
