"""A private PostgreSQL cluster for benchmarks: Debian's binaries, a temp dir, 127.0.0.1 and a free port.

    with PostgresCluster() as pg:
        pg.url  # postgresql+psycopg2://airflow@127.0.0.1:PORT/airflow

Needs Debian's ``postgresql`` package (``apt-get install -y postgresql``) for ``initdb``/``pg_ctl``.
As root the cluster runs as the ``postgres`` user (``runuser``), since PostgreSQL refuses root.
The drivers Airflow needs (psycopg2, asyncpg) are not in the project's lock: :func:`psycopg2_site` installs
them once into a cache folder (not the project's venv, which ``uv sync`` keeps
exact), to be put on ``PYTHONPATH``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow_dbx_bench"


def psycopg2_site() -> Path:
    """A folder holding psycopg2 and asyncpg (Airflow opens both; installed with pip the first time)."""
    site = CACHE / "pg-site"
    if not (site / "psycopg2").is_dir() or not (site / "asyncpg").is_dir():
        site.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + ["--target", str(site), "--upgrade", "psycopg2-binary", "asyncpg"],
            check=True,
            timeout=300,
        )
    return site


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"{name} not found: apt-get install -y postgresql")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    def __init__(self, *, max_connections: int = 400) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.max_connections = max_connections
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, cwd="/")

    def __enter__(self) -> PostgresCluster:
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "airflow", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections={self.max_connections}"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "pg.log"),
            "-w",
            "start",
        )
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "airflow", "airflow")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
