"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``).

Kept import-light: Airflow loads this while configuring itself, before any hook is imported.
"""

from __future__ import annotations

from typing import Any

from airflow_dbx_provider import __version__

INTEGRATION = "Databricks (dbx)"


def _string(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


def _number(label: str, description: str, default: float) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["number", "null"], "default": default},
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-dbx-provider",
        "name": "Databricks (dbx)",
        "description": "Drive Databricks over its REST API: rate-limited, retrying, deferrable at scale.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.databricks.com/api/workspace/introduction",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_dbx_provider.hooks.databricks",
                    "airflow_dbx_provider.hooks.databricks_async",
                    "airflow_dbx_provider.hooks.sql_dbapi",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_dbx_provider.triggers.run",
                    "airflow_dbx_provider.triggers.workflow_task",
                    "airflow_dbx_provider.triggers.sql_statement",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_dbx_provider.operators.create_job",
                    "airflow_dbx_provider.operators.submit_run",
                    "airflow_dbx_provider.operators.run_now",
                    "airflow_dbx_provider.operators.cancel_run",
                    "airflow_dbx_provider.operators.task",
                    "airflow_dbx_provider.operators.workflow",
                    "airflow_dbx_provider.operators.workspace",
                    "airflow_dbx_provider.operators.sql",
                    "airflow_dbx_provider.operators.sql_statements",
                    "airflow_dbx_provider.operators.copy_into",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_dbx_provider.sensors.run", "airflow_dbx_provider.sensors.sql"],
            }
        ],
        "extra-links": ["airflow_dbx_provider.runs.links.DatabricksRunPageLink"],
        "connection-types": [
            {
                # The DbApiHook, so that common-sql's operators and SqlSensor work with a dbx conn id
                # (conn.get_hook()); our own operators build DatabricksHook directly.
                "hook-class-name": "airflow_dbx_provider.hooks.sql_dbapi.DatabricksSqlHook",
                "hook-name": "Databricks (dbx)",
                "connection-type": "dbx",
                "conn-fields": {
                    "auth_type": _string(
                        "Auth type",
                        "pat: token in Password; oauth-m2m: Databricks service principal (Login/Password ="
                        " client id/secret); azure-client-secret: Entra ID service principal (Login/Password"
                        " + tenant); azure-msi: managed identity; azure-default-credential:"
                        " DefaultAzureCredential; oidc-federation: an OIDC token exchanged for a Databricks"
                        " token (client id in Login)",
                        default="pat",
                        enum=[
                            "pat",
                            "oauth-m2m",
                            "azure-client-secret",
                            "azure-msi",
                            "azure-default-credential",
                            "oidc-federation",
                        ],
                    ),
                    "azure_tenant_id": _string("Azure tenant ID", "Entra ID tenant (azure-client-secret)"),
                    "azure_resource_id": _string(
                        "Azure workspace resource ID",
                        "/subscriptions/.../workspaces/<name>: adds the SP management token headers, for a"
                        " service principal not yet in the workspace",
                    ),
                    "azure_ad_endpoint": _string(
                        "Entra ID authority",
                        "Authority host (default login.microsoftonline.com, or AZURE_AUTHORITY_HOST)",
                    ),
                    "azure_managed_identity_client_id": _string(
                        "Managed identity client ID", "A user-assigned managed identity (azure-msi)"
                    ),
                    "federated_token_provider": _string(
                        "OIDC token provider",
                        "Dotted path to a callable returning the OIDC token (oidc-federation)",
                    ),
                    "oidc_token_filepath": _string(
                        "OIDC token file",
                        "File holding the OIDC token, re-read at each exchange (oidc-federation; default:"
                        " the DATABRICKS_OIDC_TOKEN environment variable)",
                    ),
                    "ca_bundle": _string(
                        "CA bundle path", "PEM file used to verify the workspace certificate"
                    ),
                    "insecure_skip_verify": {
                        "label": "Skip TLS verification",
                        "description": "Disable certificate checks (testing only; logged as a warning)",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                    "connect_timeout": _number("Connect timeout (s)", "TCP/TLS connect timeout", 10),
                    "read_timeout": _number("Read timeout (s)", "Per-response read timeout", 60),
                    "retry_deadline_seconds": _number(
                        "Retry deadline (s)", "Stop retrying a call after this long", 600
                    ),
                    "max_retry_after_seconds": _number(
                        "Max Retry-After (s)", "Cap on a server-requested wait before retrying", 120
                    ),
                    "requests_per_second": {
                        "label": "Requests per second",
                        "description": (
                            "Client-side rate limit for every endpoint family, shared by all tasks of a"
                            " worker per workspace. Empty: Databricks' published per-family rates (runs reads"
                            " 100/s, runs/submit and run-now 35, jobs writes 20, DBFS 30, workspace 60, ...);"
                            " on a 429 a family's rate halves, then recovers"
                        ),
                        "schema": {"type": ["number", "null"], "default": None},
                    },
                    "api_version": _string(
                        "Jobs API version", "2.2 (default) or 2.1", default="2.2", enum=["2.2", "2.1"]
                    ),
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {
                        "host": "Workspace URL",
                        "login": "Client ID (service principal)",
                        "password": "Token or client secret",
                    },
                    "placeholders": {
                        "host": "https://adb-1234567890123456.7.azuredatabricks.net",
                        "password": "dapi... (or the client secret: oauth-m2m, azure-client-secret)",
                        "login": "application (client) id: oauth-m2m, azure-client-secret, oidc-federation",
                    },
                },
            }
        ],
    }
