"""docker-compose.yml without a Docker engine: schema, references between services, paths on disk."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SECRETS = (
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "EMULATOR_ADMIN_TOKEN",
)
AIRFLOW_COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_matches_the_compose_spec() -> None:
    exe = Path(sys.executable).with_name("check-jsonschema")
    command = [str(exe)] if exe.exists() else [shutil.which("check-jsonschema") or "check-jsonschema"]
    result = subprocess.run(
        [*command, "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _dependencies(service: dict[str, Any]) -> list[str]:
    depends = service.get("depends_on") or []
    names = list(depends) if isinstance(depends, (list, dict)) else []
    names += [link.split(":")[0] for link in service.get("links") or []]
    return names


def test_every_referenced_service_exists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency in _dependencies(service):
            assert dependency in services, f"{name} depends on unknown service {dependency}"


def test_profiled_dependencies_are_optional(compose: dict[str, Any]) -> None:
    """A default `up` must not need a service that only a profile starts."""
    services = compose["services"]
    for name, service in services.items():
        if service.get("profiles"):
            continue
        depends = service.get("depends_on") or {}
        for dependency in depends:
            if services[dependency].get("profiles"):
                assert isinstance(depends, dict) and depends[dependency].get("required") is False, (
                    name,
                    dependency,
                )


def test_mounted_paths_and_build_contexts_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context} is missing"
            if isinstance(build, dict) and build.get("dockerfile"):
                assert (context / build["dockerfile"]).is_file(), f"{name}: Dockerfile missing"
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: host path {source} is missing"
            else:
                assert source in (compose.get("volumes") or {}), (
                    f"{name}: named volume {source} is not declared"
                )


def test_airflow_is_wired_to_the_emulator(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in AIRFLOW_COMPONENTS:
        service = services[name]
        # Optional: with a real workspace (no emulator profile) Airflow must not wait for it.
        assert service["depends_on"]["emulator"] == {"condition": "service_healthy", "required": False}, name
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
        assert "healthcheck" in service, name
        conn = json.loads(service["environment"]["AIRFLOW_CONN_DATABRICKS_DEFAULT"])
        # Not localhost, so it must be https with the emulator's certificate trusted.
        assert conn["host"].startswith("https://emulator:")
        assert conn["extra"]["ca_bundle"].startswith("/opt/airflow/emulator-certs/")
        assert conn["password"].startswith("${EMULATOR_ADMIN_TOKEN:?")
    assert services["airflow-init"]["depends_on"]["emulator"]["required"] is False
    assert "--tls-dir=/opt/airflow/emulator-certs" in services["emulator"]["command"]
    assert services["emulator"]["profiles"] == ["emulator"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["redis"]["profiles"] == ["celery"]


def _interpolations(text: str) -> dict[str, str]:
    """`${NAME...}` references in the compose file: name -> what follows the name."""
    return {match.group(1): match.group(2) for match in re.finditer(r"\$\{(\w+)([^}]*)\}", text)}


def test_no_secret_has_a_default() -> None:
    """Every secret must come from .env: `${NAME:?message}` makes compose refuse to start without it."""
    references = _interpolations(COMPOSE_FILE.read_text())
    for name in SECRETS:
        assert references.get(name, "").startswith(":?"), f"{name} must be required (${{{name}:?...}})"
    for name, rest in references.items():
        if rest.startswith(":-"):
            assert name in ("AIRFLOW_EXECUTOR", "BIND_ADDRESS"), f"{name} falls back to a default"
    text = COMPOSE_FILE.read_text()
    for leaked in ("change-me", "dbx-emulator-admin-token", "POSTGRES_PASSWORD: airflow"):
        assert leaked not in text
    assert not (REPO / "docker" / "simple_auth_manager_passwords.json").exists()


def test_the_emulator_token_is_a_secret_file_not_argv(compose: dict[str, Any]) -> None:
    emulator = compose["services"]["emulator"]
    assert "--token-file=/run/secrets/emulator_admin_token" in emulator["command"]
    assert not any(arg.startswith("--token=") for arg in emulator["command"])
    assert emulator["secrets"] == ["emulator_admin_token"]
    assert compose["secrets"]["emulator_admin_token"] == {"environment": "EMULATOR_ADMIN_TOKEN"}
    assert "environment" not in emulator


def test_ports_are_published_on_loopback_by_default(compose: dict[str, Any]) -> None:
    published = [port for service in compose["services"].values() for port in service.get("ports") or []]
    assert published, "the UI and the emulator are published"
    for port in published:
        assert port.startswith("${BIND_ADDRESS:-127.0.0.1}:"), port


def test_make_env_provides_every_required_secret() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "docker" / "make_env.py")], capture_output=True, text=True, check=True
    )
    values = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line and not line.startswith("#")
    )
    required = [
        name for name, rest in _interpolations(COMPOSE_FILE.read_text()).items() if rest.startswith(":?")
    ]
    assert set(SECRETS) <= set(required)
    for name in required:
        assert len(values[name]) >= 32, name
    assert len({values[name] for name in required}) == len(required), "secrets must differ"
    assert values["COMPOSE_PROFILES"] == "emulator"
    assert ".env" in (REPO / ".gitignore").read_text().split()


def test_dockerfile_installs_the_provider_on_airflow_3_3_2() -> None:
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2" in dockerfile
    assert "[emulator]" in dockerfile


def test_emulator_certificate_names_the_compose_host(compose: dict[str, Any], tmp_path: Path) -> None:
    """The emulator service's own --tls certificate is valid for the name Airflow dials."""
    from cryptography import x509

    from airflow_dbx_provider.emulator.server import generate_self_signed_cert

    command = compose["services"]["emulator"]["command"]
    names = [arg.split("=", 1)[1] for arg in command if arg.startswith("--tls-hostname=")]
    assert "--tls" in command and names == ["emulator"]
    assert "--public-url=https://emulator:8000" in command
    cert_path, _ = generate_self_signed_cert(tmp_path, "0.0.0.0", names)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"emulator", "localhost"} <= set(alt.get_values_for_type(x509.DNSName))


def test_the_demo_orders_api_is_its_own_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    orders = services["orders-api"]
    assert orders["profiles"] == ["emulator"] and "ports" not in orders
    assert orders["command"][:3] == ["python", "-m", "orders_api"]
    assert "./dags_examples:/opt/airflow/dags:ro" in orders["volumes"]
    emulator = services["emulator"]
    assert not any(
        "SAMPLE_SOURCE" in str(item) for item in [*(emulator.get("environment") or []), *emulator["command"]]
    )
    env = services["airflow-scheduler"]["environment"]
    conn = json.loads(env["AIRFLOW_CONN_ORDERS_API_DEFAULT"])
    assert conn["host"] == "http://orders-api:8765/v1"
