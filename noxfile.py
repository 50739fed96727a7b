"""The test command's sessions. `python3 scripts/dev.py test` runs them all (`.ci/run` is that
command), e2e beside tests and tests_oldest_airflow; `nox` alone runs them one after another.

    .venv/bin/nox                                   # every session below, in this order
    .venv/bin/nox -s lint typecheck                 # ruff check + ruff format --check; mypy
    .venv/bin/nox -s tests -- tests/hooks -k retry  # pytest with your arguments (default: all but tests/e2e)
    .venv/bin/nox -s e2e                            # the end-to-end tests (real airflow standalone, browser)
    .venv/bin/nox -s tests_oldest_airflow           # the Airflow-facing suites on the oldest supported Airflow
    .venv/bin/nox -l                                # list them

The venvs live under .nox/ (kept between runs): typecheck, tests and e2e share the tests session's,
tests_oldest_airflow and bench have their own. Each installs from uv.lock with `uv sync --locked`
(bytecode compiled): exactly the pinned versions, and an error, not a re-resolution, when
pyproject.toml changed without `uv lock`. nox and uv come with the dev extra (`.venv` after any
`scripts/dev.py` command).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"  # uv sync brings a kept venv up to date in milliseconds
nox.options.sessions = ["lint", "typecheck", "browser", "tests", "e2e", "tests_oldest_airflow"]

# Run again on the oldest Airflow we support (pyproject: apache-airflow>=3.1; the version is pinned
# by the `oldest-airflow` dependency group): the suites that touch Airflow's API, less the slow
# real-Airflow runs of the official example DAGs and the SQL operator DAGs (run on the latest only).
OLDEST_AIRFLOW_SUITES = ["tests/hooks", "tests/operators", "tests/sensors", "tests/triggers"]
# Most of the suite waits (simulated runs, real Airflow processes, polling) rather than computes, so
# more workers than the 2 cores of CI pay off. DBX_TEST_WORKERS=0 runs everything in this process.
PARALLEL = ["-n", os.environ.get("DBX_TEST_WORKERS", "4")]


# typecheck, tests and e2e need the same packages: one venv (the tests session's), installed once.
SHARED_VENV = Path(__file__).resolve().parent / ".nox" / "tests"
SHARED_EXTRAS = ("--extra=dev", "--extra=compare")
UV = str(Path(sys.executable).with_name("uv"))  # nox runs from .venv, which has uv (the dev extra)


def _sync(session: nox.Session, *args: str, location: str | Path | None = None) -> None:
    """`uv sync --locked ARGS` into the session's venv (or ``location``): the project editable,
    plus what ARGS select. Bytecode is compiled at install: the suite starts hundreds of Python
    processes (xdist workers, Airflow's, the emulator's notebook tasks), and where
    PYTHONDONTWRITEBYTECODE is set (as in CI) each would otherwise compile Airflow and pandas from
    source again; measured, that is a quarter of the suite's CPU time."""
    session.run_install(
        UV,
        "sync",
        "--locked",
        "--quiet",
        *args,
        env={
            "UV_PROJECT_ENVIRONMENT": str(location or session.virtualenv.location),
            "UV_COMPILE_BYTECODE": "1",
        },
        external=True,
    )


def _shared_python(session: nox.Session) -> str:
    """Sync the shared venv (for a session without a venv of its own) and return its python."""
    _sync(session, *SHARED_EXTRAS, location=SHARED_VENV)
    return str(SHARED_VENV / "bin" / "python")


def _install_locked(session: nox.Session, *packages: str) -> None:
    """Only `packages` (no project, no Airflow), at the versions uv.lock pins for the dev extra."""
    constraints = Path(session.create_tmp()) / "dev-constraints.txt"
    session.run_install(
        "uv",
        "export",
        "--locked",
        "--quiet",
        "--extra=dev",
        "--no-emit-project",
        "--no-hashes",
        f"--output-file={constraints}",
        silent=True,
    )
    session.install("--constraint", str(constraints), *packages, silent=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    _install_locked(session, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    """mypy over the package, with its dependencies installed (in the tests session's venv)."""
    session.run(_shared_python(session), "-m", "mypy", "airflow_dbx_provider")


@nox.session(python=False)
def browser(session: nox.Session) -> None:
    """CI set-up for tests/e2e/test_browser.py: Debian's chromium and chromium-driver (apt-get, as root).

    Without them (not root, or apt-get failed) the browser test is skipped, saying why; under CI
    (CI=true) that fails instead, so this session fails under CI too.
    """
    if shutil.which("chromium") and shutil.which("chromedriver"):
        session.log("chromium and chromedriver are installed")
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        _no_browser(session, "chromium/chromedriver are missing and this is not root with apt-get")
        return
    quiet = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        session.run("apt-get", "update", "-qq", env=quiet, external=True)
        session.run(
            "apt-get", "install", "-y", "-qq", "chromium", "chromium-driver", env=quiet, external=True
        )
    except CommandFailed:
        _no_browser(session, "apt-get could not install chromium and chromium-driver")


def _no_browser(session: nox.Session, reason: str) -> None:
    if os.environ.get("CI") == "true":
        session.error(f"{reason}: the browser test cannot run under CI")
    session.warn(f"{reason}: the browser test will be skipped")


@nox.session
def tests(session: nox.Session) -> None:
    """pytest on the locked latest Airflow: the suite but the end-to-end tests (or posargs)."""
    _sync(session, *SHARED_EXTRAS, location=SHARED_VENV)
    if session.posargs:
        session.run("python", "-m", "pytest", *session.posargs)
        return
    session.run("python", "-m", "pytest", *PARALLEL, "--durations=15", "--ignore=tests/e2e")


@nox.session(python=False)
def e2e(session: nox.Session) -> None:
    """The end-to-end tests: real `airflow standalone`, a browser; one pytest process (in the tests
    session's venv). They mostly wait on Airflow, so `scripts/dev.py test` runs them beside the suite."""
    python = _shared_python(session)
    session.run(
        python, "-m", "pytest", "-p", "no:cacheprovider", "--durations=5", *(session.posargs or ["tests/e2e"])
    )


@nox.session
def tests_oldest_airflow(session: nox.Session) -> None:
    """The Airflow-facing suites (or posargs) on the oldest supported Airflow, with the test extra only."""
    _sync(session, "--extra=test", "--group=oldest-airflow")
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *(session.posargs or [*PARALLEL, "-m", "not slow", *OLDEST_AIRFLOW_SUITES]),
    )


@nox.session
def bench(session: nox.Session) -> None:
    """A benchmark script with its arguments: `nox -s bench -- bench/bench_hook.py --rounds 3`.

    Benchmarks measure ours against the official provider side by side, so they need the official
    clients (the `compare` extra), which the demo's and the UI's .venv leaves out.
    """
    _sync(session, "--extra=dev", "--extra=compare")
    if not session.posargs:
        session.error("name a script: nox -s bench -- bench/bench_hook.py [ARGS]")
    session.run("python", *session.posargs)
