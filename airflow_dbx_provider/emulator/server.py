"""The emulator as an in-process server: uvicorn in one thread, the run engine in another.

    with EmulatorServer(EmulatorConfig(port=0, time_scale=0.05)) as server:
        WorkspaceClient(host=server.url, token=server.admin_token)

The socket is bound before the server thread starts, so `url` is known (and the port taken)
as soon as `start()` returns; `start()` returns once requests are accepted.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from airflow_dbx_provider.emulator.app import create_app
from airflow_dbx_provider.emulator.clock import Clock
from airflow_dbx_provider.emulator.composition import Workspace
from airflow_dbx_provider.emulator.config import EmulatorConfig

log = logging.getLogger("airflow_dbx_provider.emulator")

TICK_SECONDS = 0.02


def generate_self_signed_cert(
    directory: Path, host: str, extra_names: Sequence[str] = ()
) -> tuple[Path, Path]:
    """A throwaway certificate for `--tls` (cryptography, no openssl CLI).

    Valid for the bind host, localhost, 127.0.0.1 and `extra_names` (e.g. a compose service name).
    An existing certificate in `directory` is kept, so clients that trust it keep working.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "emulator-cert.pem", directory / "emulator-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dbx-emulator")])
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for candidate in dict.fromkeys([host, "127.0.0.1", *extra_names]):
        if candidate == "localhost":
            continue
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(candidate)))
        except ValueError:
            alt_names.append(x509.DNSName(candidate))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class _AbortableApp:
    """Outermost ASGI layer: lets the app drop the TCP connection without answering (fault "reset")."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["dbx.abort_connection"] = lambda: _abort(send)
        await self.app(scope, receive, send)


def _abort(send: Any) -> None:
    # uvicorn's `send` is a bound method of its per-request cycle, which holds the transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the connection to reset it")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:  # RST instead of FIN: the client sees "connection reset by peer"
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
    transport.abort()


class EmulatorServer:
    """One emulated workspace served over HTTP(S) from background threads."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._clock = clock  # tests inject one to hold simulated time still
        self.state: Workspace | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._engine: threading.Thread | None = None
        self._stop_engine = threading.Event()
        self._socket: socket.socket | None = None
        self.url = ""

    @property
    def admin_token(self) -> str:
        return self.config.admin_token

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1] if self._socket else 0

    def start(self, timeout: float = 30.0) -> EmulatorServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        self.state = Workspace(self.config, self._clock)
        ssl_args: dict[str, Any] = {}
        if self.config.tls or self.config.cert_file:
            if not (self.config.cert_file and self.config.key_file):
                cert, key = generate_self_signed_cert(
                    self.config.tls_dir or self.state.data_dir / "tls",
                    self.config.host,
                    self.config.tls_hostnames,
                )
                self.config.cert_file, self.config.key_file = cert, key
            self.config.tls = True
            ssl_args = {"ssl_certfile": str(self.config.cert_file), "ssl_keyfile": str(self.config.key_file)}
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.set_inheritable(True)
        self._socket = sock
        scheme = "https" if self.config.tls else "http"
        host = f"[{self.config.host}]" if family == socket.AF_INET6 else self.config.host
        self.url = f"{scheme}://{host}:{self.port}"
        self.state.base_url = (
            self.config.public_url.rstrip("/") if self.config.public_url else self._local_url(scheme)
        )
        uv_config = uvicorn.Config(
            _AbortableApp(create_app(self.state)),
            http="httptools",
            loop="uvloop",
            lifespan="off",
            access_log=False,
            log_level="warning",
            # Idle keep-alive connections are closed after 30 s, so idle sockets cannot pile up
            # (shorter would race clients that poll every few seconds on a reused connection).
            timeout_keep_alive=30,
            limit_concurrency=4096,  # beyond this many connections, 503 instead of exhausting descriptors
            timeout_graceful_shutdown=1,
            backlog=2048,
            **ssl_args,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="dbx-emulator-http", daemon=True
        )
        self._thread.start()
        self._stop_engine.clear()
        self._engine = threading.Thread(target=self._run_engine, name="dbx-emulator-engine", daemon=True)
        self._engine.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self

    def _run_engine(self) -> None:
        assert self.state is not None
        state = self.state
        while not self._stop_engine.wait(TICK_SECONDS):
            try:
                with state.store.lock:
                    state.tick()
            except Exception as exc:  # keep ticking; the test re-raises it at teardown
                log.exception("engine tick failed")
                state.record_server_error(exc)

    def _local_url(self, scheme: str) -> str:
        """The URL a process on this machine uses; a wildcard bind address is not one to dial."""
        if self.config.host in ("0.0.0.0", ""):
            return f"{scheme}://127.0.0.1:{self.port}"
        if self.config.host == "::":
            return f"{scheme}://[::1]:{self.port}"
        return self.url

    def stop(self) -> None:
        """Stop serving, kill task subprocesses and close the store (data stays on disk)."""
        self._stop_engine.set()
        if self._engine is not None:
            self._engine.join(timeout=10)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        if self.state is not None:
            with self.state.store.lock:
                self.state.close()
        self._thread = self._engine = self._server = None
        self._socket = None

    def reset(self) -> None:
        assert self.state is not None
        with self.state.store.lock:
            self.state.reset()

    def counters(self) -> dict[str, Any]:
        assert self.state is not None
        return self.state.counters.snapshot()

    def check_errors(self) -> None:
        """Re-raise the first server-side exception (handler bug, engine bug) since the last check."""
        if self.state is None:
            return
        errors = self.state.take_server_errors()
        if errors:
            raise errors[0]

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
