"""Idempotency tokens that make a task instance start at most one live Databricks run, and the
check that a run Databricks hands back for such a token is really ours.

Databricks answers a submit/run-now that repeats an ``idempotency_token`` with the run it already
started, so a retried try, a crashed worker or a restarted scheduler re-attaches instead of
launching a duplicate. Generation ``n > 0`` tokens are for relaunching after a failed run.

Tokens are workspace-wide: whoever sends a token first owns the run. A token anyone can compute
(a plain hash of dag_id, task_id, run_id) lets another workspace user pre-submit a run of their
own under it, which the operator would then adopt. So the derived token is an HMAC-SHA256 keyed
with a secret of the Airflow deployment (see :func:`token_key`), and a run returned for a token
is checked (:func:`verify_run`) before anything of it reaches XCom. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_dbx_provider.exceptions import DatabricksConfigError, DbxError
from airflow_dbx_provider.job_schema import MAX_IDEMPOTENCY_TOKEN_LENGTH

_PREFIX = "airflow-"
_KEY_LABEL = b"airflow-dbx-provider idempotency token key v1"
#: An attached run that started this long before our request counts as pre-existing (clock skew).
PRE_EXISTING_SKEW_MS = 60_000

#: Where the token key comes from, first set wins: (config section, option).
KEY_SOURCES = (
    ("dbx_provider", "idempotency_secret"),
    ("api_auth", "jwt_secret"),
    ("core", "fernet_key"),
)


def token_key(connection_secrets: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """The HMAC key of derived tokens and the name of its source (never the secret itself).

    The first of ``[dbx_provider] idempotency_secret``, ``[api_auth] jwt_secret`` and
    ``[core] fernet_key`` that is set (each also as ``AIRFLOW__SECTION__OPTION``); every component
    of a deployment shares them, and ``airflow standalone`` / any ``airflow`` command writes the last
    two into a new airflow.cfg. Without any (``dag.test()`` in a bare environment), the Databricks
    credential of the connection keys it: equally secret to other workspace users and equally stable.
    """
    from airflow.configuration import conf

    for section, option in KEY_SOURCES:
        value = conf.get(section, option, fallback=None)
        if value and str(value).strip():
            return _derive(str(value).strip()), f"[{section}] {option}"
    for secret in connection_secrets:
        if secret:
            return _derive(secret), "the connection's credential"
    raise DatabricksConfigError(
        "no secret to key idempotency tokens: set [dbx_provider] idempotency_secret "
        "(AIRFLOW__DBX_PROVIDER__IDEMPOTENCY_SECRET), or pass idempotency_token"
    )


def _derive(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8", "surrogatepass"), _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, *parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return hmac.new(key, raw, hashlib.sha256).hexdigest()


def base_token(dag_id: str, task_id: str, run_id: str, map_index: int | None, *, key: bytes) -> str:
    """The token of a task instance's first run (same for every try of that task instance)."""
    token = _PREFIX + _mac(key, "dbx-run", dag_id, task_id, run_id, -1 if map_index is None else map_index)
    return token[:MAX_IDEMPOTENCY_TOKEN_LENGTH]


def generation_token(base: str, generation: int) -> str:
    """Token of the ``generation``-th run of a task instance (0 = ``base`` itself).

    Keyed through ``base``, which is already secret: ``sha256`` of it is as unguessable.
    """
    if generation <= 0:
        return base
    digest = hashlib.sha256(f"dbx-relaunch\x1f{base}\x1f{generation}".encode()).hexdigest()
    return (_PREFIX + digest)[:MAX_IDEMPOTENCY_TOKEN_LENGTH]


def check_token(token: Any) -> str:
    """A user-given token: a string of 1 to 64 characters (what run-now and runs/submit accept)."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_IDEMPOTENCY_TOKEN_LENGTH:
        got = f"{len(token)} characters" if isinstance(token, str) else type(token).__name__
        raise DatabricksConfigError(
            f"idempotency_token must be a string of 1 to {MAX_IDEMPOTENCY_TOKEN_LENGTH} characters, got {got}"
        )
    return token


@dataclass(frozen=True)
class ExpectedRun:
    """What a run this task would have started looks like (None: not checked)."""

    job_id: int | None = None  # run-now: the job we asked to run
    run_name: str | None = None  # submit: the run_name we sent
    task_keys: frozenset[str] | None = None  # submit: the task keys we sent


class ForeignRunError(DbxError):
    """Databricks returned, for our idempotency token, a run that this task would not have started."""


def verify_run(
    run: Mapping[str, Any],
    expected: ExpectedRun,
    *,
    pre_existing: bool,
    whoami: Callable[[], str | None],
) -> None:
    """Raise :class:`ForeignRunError` (one line: run id and what differed) unless ``run`` is ours.

    ``job_id`` / ``run_name`` / task keys are compared on every attach (they come with the
    ``runs/get`` the operator makes anyway). The creator is compared with the hook's own identity
    (``whoami``: one SCIM Me call) only when the run pre-existed this try's request.
    """
    differences: list[str] = []
    if expected.job_id is not None and run.get("job_id") != expected.job_id:
        differences.append(f"job_id {run.get('job_id')!r} instead of {expected.job_id}")
    if expected.run_name is not None and run.get("run_name") != expected.run_name:
        differences.append(
            f"run_name {str(run.get('run_name'))[:100]!r} instead of {expected.run_name[:100]!r}"
        )
    if expected.task_keys is not None:
        keys = frozenset(str(t.get("task_key")) for t in run.get("tasks") or [])
        if keys != expected.task_keys:
            differences.append(
                f"task keys {', '.join(sorted(keys))[:200] or '(none)'} instead of "
                f"{', '.join(sorted(expected.task_keys))[:200]}"
            )
    creator = run.get("creator_user_name")
    if not differences and pre_existing and creator:
        me = whoami()
        if me and creator != me:
            differences.append(f"created by {creator!r}, not by this connection's identity {me!r}")
    if differences:
        raise ForeignRunError(
            f"Databricks run {run.get('run_id')} returned for this task's idempotency token is not the "
            f"run it would have started ({'; '.join(differences)}); refusing to use it"
        )


def started_before(run: Mapping[str, Any], request_ms: int) -> bool:
    """True when ``run`` started clearly before this try sent its request (it was already there)."""
    try:
        start = int(run.get("start_time") or 0)
    except (TypeError, ValueError):
        return True
    return 0 < start < request_ms - PRE_EXISTING_SKEW_MS
