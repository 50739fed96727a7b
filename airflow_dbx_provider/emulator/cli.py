"""`dbx-emulator`: serve an emulated workspace until SIGINT/SIGTERM.

Prints exactly one line, `listening on http://HOST:PORT`, once requests are accepted.
The admin token defaults to `config.DEFAULT_ADMIN_TOKEN` ("dbx-emulator-admin-token"); give a
real one with `--token-file PATH` (a file only you can read) and other principals' tokens in a
`--config` file. A secret on the command line is readable by every process on the machine
(`/proc/PID/cmdline`, `ps`), so `--token` and tokens in `--principal` are deprecated.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
import warnings
from pathlib import Path

from airflow_dbx_provider.emulator.config import DEFAULT_ADMIN_TOKEN, EmulatorConfig, PrincipalSpec
from airflow_dbx_provider.emulator.control import FAULT_KINDS
from airflow_dbx_provider.emulator.server import EmulatorServer


def parse_principal(text: str) -> PrincipalSpec:
    """NAME:TOKEN[:admin|user|sp[:CLIENT_SECRET]]"""
    parts = text.split(":")
    if len(parts) < 2 or not parts[0]:
        raise argparse.ArgumentTypeError(f"expected NAME:TOKEN[:admin|user|sp[:CLIENT_SECRET]], got {text!r}")
    role = parts[2] if len(parts) > 2 else "user"
    if role not in ("admin", "user", "sp"):
        raise argparse.ArgumentTypeError(f"role must be admin, user or sp, got {role!r}")
    return PrincipalSpec(
        name=parts[0],
        token=parts[1] or None,
        kind="service_principal" if role == "sp" else "user",
        is_admin=role == "admin",
        client_secret=":".join(parts[3:]) or None,
    )


def _principals_from_file(path: Path) -> list[PrincipalSpec]:
    """`{"principals": [{"name", "token", "kind", "is_admin", "client_secret", "groups"}]}`"""
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077 and "token" in path.read_text():
        warnings.warn(
            f"--config {path} holds tokens and is readable by others; chmod it to 0600", stacklevel=2
        )
    data = json.loads(path.read_text())
    return [PrincipalSpec(**item) for item in data.get("principals", [])]


def _compute_from_file(config: EmulatorConfig, path: Path) -> None:
    """`{"spark_versions": [{"key", "name"}], "node_types": [{"node_type_id", ...}],
    "serverless_compute": bool}`: compute the workspace serves besides the defaults."""
    data = json.loads(path.read_text())
    for name, key in (("spark_versions", "key"), ("node_types", "node_type_id")):
        if not all(isinstance(item, dict) and item.get(key) for item in data.get(name, [])):
            raise SystemExit(f"--config {path}: each of {name} needs a {key!r}")
    config.spark_versions.extend(data.get("spark_versions", []))
    config.node_types.extend(data.get("node_types", []))
    if "serverless_compute" in data:
        config.serverless_compute = bool(data["serverless_compute"])
    # Task libraries: more preinstalled distributions, the package index, no network.
    extra = data.get("preinstalled_libraries", [])
    if not isinstance(extra, list) or not all(isinstance(name, str) for name in extra):
        raise SystemExit(f"--config {path}: preinstalled_libraries must be a list of distribution names")
    config.preinstalled_libraries.extend(extra)
    if data.get("library_index_url"):
        config.library_index_url = str(data["library_index_url"])
    if "library_offline" in data:
        config.library_offline = bool(data["library_offline"])


def _rate(text: str) -> tuple[str, float]:
    family, _, rps = text.partition("=")
    try:
        return family, float(rps)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FAMILY=RPS, got {text!r}") from None


def _fault(text: str) -> tuple[str, str, float]:
    parts = text.split(":")
    if len(parts) != 3 or parts[1] not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(
            f"expected FAMILY:KIND:PROB with KIND in {FAULT_KINDS}, got {text!r}"
        )
    return parts[0], parts[1], float(parts[2])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbx-emulator", description="A local Databricks workspace emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, help="state lives here (default: a temporary directory)")
    parser.add_argument(
        "--token",
        default=None,
        help="deprecated (visible to every process on the machine): use --token-file",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help="a file (mode 0600) holding the admin's bearer token; default: "
        f"{DEFAULT_ADMIN_TOKEN!r}, for local use only",
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve https with a generated self-signed certificate"
    )
    parser.add_argument("--cert", type=Path, help="TLS certificate (PEM); implies --tls")
    parser.add_argument("--key", type=Path, help="TLS private key (PEM)")
    parser.add_argument(
        "--tls-dir",
        type=Path,
        help="where --tls writes its certificate (default: DATA_DIR/tls); kept if present",
    )
    parser.add_argument(
        "--tls-hostname",
        action="append",
        default=[],
        metavar="NAME",
        help="extra name the certificate is valid for",
    )
    parser.add_argument(
        "--public-url", help="how clients reach this workspace (run page URLs, notebooks' DATABRICKS_HOST)"
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated second")
    parser.add_argument("--workspace-dir", type=Path, help="a folder whose .py files appear as notebooks")
    parser.add_argument(
        "--principal", action="append", type=parse_principal, default=[], metavar="NAME:TOKEN[:ROLE[:SECRET]]"
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="JSON file with principals, spark_versions, node_types, serverless_compute, "
        "preinstalled_libraries, library_index_url, library_offline",
    )
    parser.add_argument("--rate-limit", action="append", type=_rate, default=[], metavar="FAMILY=RPS")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--fault", action="append", type=_fault, default=[], metavar="FAMILY:KIND:PROB")
    parser.add_argument(
        "--strict-versions", action="store_true", help="404 Bad Target for undocumented versions"
    )
    parser.add_argument("--missing-run-status", type=int, default=400, choices=(400, 404))
    return parser


def read_secret_file(path: Path, what: str) -> str:
    """The first line of a file no other OS user can read or write (mode 0600 or stricter)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        text = path.read_text()
    except OSError as exc:
        raise SystemExit(f"dbx-emulator: cannot read {what} {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise SystemExit(
            f"dbx-emulator: {what} {path} is readable by others (mode {mode:04o}); chmod it to 0600"
        )
    value = text.strip()
    if not value or "\n" in value:
        raise SystemExit(f"dbx-emulator: {what} {path} must hold exactly one non-empty line")
    return value


def _admin_token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        if args.token is not None:
            raise SystemExit("dbx-emulator: give --token-file or --token, not both")
        return read_secret_file(args.token_file, "--token-file")
    if args.token is not None:
        warnings.warn(
            "--token puts the admin token on the command line, where every process can read it; "
            "use --token-file PATH (mode 0600) instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return str(args.token)
    return DEFAULT_ADMIN_TOKEN


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    if any(spec.token or spec.client_secret for spec in args.principal):
        warnings.warn(
            "--principal with a token or client secret puts it on the command line; "
            "list principals in a --config file (mode 0600) instead",
            DeprecationWarning,
            stacklevel=2,
        )
    config = EmulatorConfig(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        admin_token=_admin_token(args),
        tls=args.tls or args.cert is not None,
        cert_file=args.cert,
        key_file=args.key,
        tls_dir=args.tls_dir,
        tls_hostnames=args.tls_hostname,
        public_url=args.public_url,
        time_scale=args.time_scale,
        workspace_dir=args.workspace_dir,
        rate_limit_enabled=not args.no_rate_limits,
        strict_versions=args.strict_versions,
        missing_run_status=args.missing_run_status,
    )
    if args.config:
        config.principals.extend(_principals_from_file(args.config))
        _compute_from_file(config, args.config)
    config.principals.extend(args.principal)
    config.rate_limits.update(dict(args.rate_limit))
    return config


def main(argv: list[str] | None = None) -> int:
    warnings.simplefilter("default", DeprecationWarning)  # shown once on stderr, never fatal
    args = build_parser().parse_args(argv)
    if args.cert and not args.key:
        print("--cert needs --key", file=sys.stderr)
        return 2
    server = EmulatorServer(config_from_args(args))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    assert server.state is not None
    for target, kind, probability in args.fault:
        server.state.faults.set_probability(target, kind, probability)
    print(f"listening on {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def run() -> None:
    """The `dbx-emulator` command: :func:`main`, then an exit Arrow's native threads cannot abort."""
    from airflow_dbx_provider.emulator.clean_exit import exit_without_finalizers

    exit_without_finalizers(main())
