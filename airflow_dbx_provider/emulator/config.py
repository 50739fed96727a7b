"""Emulator settings: one dataclass shared by the CLI, the in-process server and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_dbx_provider.api_families import FAMILY_RATES

DEFAULT_ADMIN_TOKEN = "dbx-emulator-admin-token"
DEFAULT_ADMIN_USER = "admin@example.com"
DEFAULT_WORKSPACE_ID = "1234567890123456"
DEFAULT_AZURE_TENANT_ID = "72f988bf-0000-4000-8000-00000000dbe1"
DEFAULT_IDENTITY_HEADER = "dbx-emulator-identity-header"

# Distributions a Databricks runtime ships (a subset of DBR 15/16 LTS's Python libraries): a task's
# `pypi` library naming one is satisfied without installing (services/libraries.py).
DEFAULT_PREINSTALLED_LIBRARIES: tuple[str, ...] = (
    "numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "matplotlib", "seaborn", "plotly",
    "requests", "urllib3", "certifi", "idna", "charset-normalizer", "simplejson", "six",
    "python-dateutil", "pytz", "tzdata", "packaging", "setuptools", "pip", "wheel", "pyyaml",
    "jinja2", "markupsafe", "protobuf", "grpcio", "boto3", "botocore", "s3transfer",
    "databricks-sdk", "mlflow-skinny", "pydantic", "typing-extensions", "attrs", "click",
    "cryptography", "cffi", "pycparser", "decorator", "ipython", "jedi", "tenacity",
    "statsmodels", "patsy", "joblib", "threadpoolctl", "pyparsing", "cycler", "kiwisolver",
    "fonttools", "pillow", "filelock", "fsspec", "azure-core", "azure-storage-blob",
    "google-auth", "google-cloud-storage", "googleapis-common-protos", "jmespath", "wrapt",
)  # fmt: skip

# Requests per second per endpoint family: the table the hooks pace themselves by
# (airflow_dbx_provider/api_families.py). 0 disables the limit for a family.
DEFAULT_RATE_LIMITS: dict[str, float] = dict(FAMILY_RATES)


@dataclass
class PrincipalSpec:
    """A user or service principal the emulator knows, with its bearer token (and OAuth secret)."""

    name: str
    token: str | None = None
    kind: str = "user"  # "user" | "service_principal"
    is_admin: bool = False
    client_secret: str | None = None
    groups: list[str] = field(default_factory=list)


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None  # None: a fresh temporary directory
    admin_token: str = DEFAULT_ADMIN_TOKEN
    admin_user: str = DEFAULT_ADMIN_USER
    workspace_id: str = DEFAULT_WORKSPACE_ID
    principals: list[PrincipalSpec] = field(default_factory=list)
    tls: bool = False
    cert_file: Path | None = None
    key_file: Path | None = None
    tls_dir: Path | None = None  # where --tls writes its certificate (default: <data_dir>/tls)
    tls_hostnames: list[str] = field(default_factory=list)  # extra names the certificate is valid for
    # How clients (and notebook subprocesses) reach this workspace, when not the bind address,
    # e.g. https://emulator:8000 in docker compose. Used in run_page_url and DATABRICKS_HOST.
    public_url: str | None = None
    time_scale: float = 1.0
    rate_limits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_limit_enabled: bool = True
    strict_versions: bool = False  # 404 "Bad Target" for /api/2.1/dbfs and /api/2.1/secrets
    secrets_get_requires_notebook: bool = False
    missing_run_status: int = 400  # Databricks answers 400 INVALID_PARAMETER_VALUE; some clients expect 404
    workspace_dir: Path | None = None  # a folder on disk whose .py files appear as notebooks
    log_requests: bool = False
    # Lifetime of every token the emulator issues for a client: OAuth M2M, Entra ID, managed
    # identity and OIDC federation (short values test a client's refresh).
    oauth_token_lifetime_seconds: float = 3600.0
    # Entra ID (services/entra.py): the one tenant the emulator's authority knows.
    azure_tenant_id: str = DEFAULT_AZURE_TENANT_ID
    # Managed identity: the service principal a system-assigned identity is (None: none assigned; a
    # user-assigned one is chosen by client_id), and the App Service IDENTITY_HEADER secret.
    managed_identity: str | None = None
    identity_header: str = DEFAULT_IDENTITY_HEADER
    # Compute a cluster spec may name, besides the defaults (services/compute_catalog.py):
    # runtime versions `{"key", "name"}` and node types `{"node_type_id", "memory_mb", "num_cores",
    # ...}` (any NodeType field). Read on every call: a test may extend them on a running server.
    spark_versions: list[dict[str, Any]] = field(default_factory=list)
    node_types: list[dict[str, Any]] = field(default_factory=list)
    # Tasks without compute (no cluster, no environment) run serverless in jobs/create and
    # runs/submit alike; False refuses both, as a workspace without serverless compute does.
    serverless_compute: bool = True
    # Task libraries (services/libraries.py): distributions the runtime ships (a `pypi` library
    # naming one is not installed), the package index to install the others from (None: the
    # machine's pip/uv configuration, or the library's `repo`), and whether the network is off.
    preinstalled_libraries: list[str] = field(default_factory=lambda: list(DEFAULT_PREINSTALLED_LIBRARIES))
    library_index_url: str | None = None
    library_offline: bool = False
