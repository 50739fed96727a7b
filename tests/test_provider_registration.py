"""The provider as Airflow sees it: entry point, `airflow providers list`, and the connection form."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from airflow_dbx_provider.get_provider_info import get_provider_info


def test_providers_list_shows_the_provider() -> None:
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    result = subprocess.run(
        [airflow, "providers", "list", "-o", "plain"], capture_output=True, text=True, timeout=120, check=True
    )
    assert "airflow-dbx-provider" in result.stdout


@pytest.fixture(scope="module")
def dbx_form() -> dict:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    forms = {meta.connection_type: meta.model_dump() for meta in HookMetaService.hook_meta_data()}
    assert "dbx" in forms, sorted(k for k in forms if k)
    return forms["dbx"]


def test_connection_form_relabels_the_standard_fields(dbx_form: dict) -> None:
    fields = dbx_form["standard_fields"]
    assert dbx_form["hook_class_name"] == "airflow_dbx_provider.hooks.sql_dbapi.DatabricksSqlHook"
    assert fields["host"]["title"] == "Workspace URL" and fields["host"]["placeholder"].startswith("https://")
    assert fields["password"]["title"] == "Token or client secret"
    assert fields["login"]["title"] == "Client ID (service principal)"
    assert fields["port"]["hidden"] and fields["url_schema"]["hidden"]


def test_connection_form_offers_auth_retry_and_rate_limit_settings(dbx_form: dict) -> None:
    from airflow_dbx_provider.hooks.settings import AUTH_TYPES, SETTING_NAMES

    extras = dbx_form["extra_fields"]
    expected = {"auth_type", "ca_bundle", "retry_deadline_seconds", "azure_tenant_id", "azure_resource_id"}
    expected |= {"azure_ad_endpoint", "azure_managed_identity_client_id", "federated_token_provider"}
    assert expected | {"max_retry_after_seconds", "requests_per_second", "oidc_token_filepath"} <= set(extras)
    assert set(extras["auth_type"]["schema"]["enum"]) == set(AUTH_TYPES)
    for name, field in extras.items():
        assert field["description"], f"{name} has no help text"
        assert name in SETTING_NAMES, f"{name} is shown but not read"


def test_connection_form_shows_each_setting_once(dbx_form: dict) -> None:
    """The client id and secret live in Login and Password only, not again as extra fields."""
    extras = dbx_form["extra_fields"]
    assert not {"client_id", "client_secret", "token", "host"} & set(extras)
    shown = [f["title"] for f in dbx_form["standard_fields"].values() if f and not f.get("hidden")]
    shown += [f["schema"]["title"] for f in extras.values()]
    assert len(shown) == len(set(shown)), shown


def _registered_modules() -> list[str]:
    info = get_provider_info()
    kinds = ("hooks", "operators", "sensors", "triggers")
    return [module for kind in kinds for entry in info[kind] for module in entry["python-modules"]]


def _registered_classes() -> list[str]:
    info = get_provider_info()
    return [*info["extra-links"], *(c["hook-class-name"] for c in info["connection-types"])]


@pytest.mark.parametrize("module", _registered_modules())
def test_registered_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_dbx_hook_class_is_a_full_connection_hook() -> None:
    """What Airflow reads off a conn type's hook class, and common-sql's DbApiHook check."""
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    from airflow_dbx_provider.hooks import DEFAULT_CONN_ID
    from airflow_dbx_provider.hooks.sql_dbapi import DatabricksSqlHook

    info = ProvidersManagerTaskRuntime().hooks["dbx"]  # what a task's get_hook() reads
    assert info is not None and info.hook_class_name.endswith("sql_dbapi.DatabricksSqlHook")
    assert info.connection_id_attribute_name == "databricks_conn_id"
    assert issubclass(DatabricksSqlHook, DbApiHook)
    assert (DatabricksSqlHook.conn_type, DatabricksSqlHook.default_conn_name) == ("dbx", DEFAULT_CONN_ID)
    assert DatabricksSqlHook.hook_name == info.hook_name == "Databricks (dbx)"
    assert "test_connection" in vars(DatabricksSqlHook)  # the REST check, not DbApiHook's SELECT 1


@pytest.mark.parametrize("classpath", _registered_classes())
def test_registered_class_resolves(classpath: str) -> None:
    module, _, name = classpath.rpartition(".")
    assert isinstance(getattr(importlib.import_module(module), name), type)
