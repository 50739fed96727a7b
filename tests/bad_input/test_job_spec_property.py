"""Random job JSON: our validator and the emulator's jobs/create never crash, and agree on validity."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_dbx_provider.exceptions import DatabricksJobSpecError
from airflow_dbx_provider.operators.job_spec import validate_job_spec

KEYS = ["a", "b", "c", "d"]
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
junk = st.one_of(st.none(), st.integers(-2, 2), st.text(max_size=3), st.booleans(), st.just([]), st.just({}))
# timeout_seconds: the validator refuses negatives (tests/bad_input/catalogue.py, job-timeout-negative);
# the emulator does not bound it yet, so negatives stay out of the agreement check until it does.
# existing_cluster_id: the validator refuses strings that are no cluster id (blank, control characters);
# the emulator checks that only when the run starts, so only non-strings are compared here.
id_junk = junk.filter(lambda v: not isinstance(v, str))
timeout_junk = junk.filter(lambda v: not (isinstance(v, int) and not isinstance(v, bool) and v < 0))

task_st = st.fixed_dictionaries(
    {},
    optional={
        "task_key": st.one_of(st.sampled_from(KEYS), junk),
        "notebook_task": st.one_of(st.just({"notebook_path": "/x"}), junk),
        "spark_jar_task": st.just({"main_class_name": "M"}),
        "new_cluster": st.one_of(st.just(CLUSTER), junk),
        "existing_cluster_id": st.one_of(st.just("c-1"), id_junk),
        "job_cluster_key": st.one_of(st.sampled_from(["jc", "nope"]), junk),
        "depends_on": st.one_of(
            st.lists(
                st.one_of(st.builds(lambda k: {"task_key": k}, st.sampled_from(KEYS)), junk), max_size=3
            ),
            junk,
        ),
        "timeout_seconds": st.one_of(st.integers(0, 100), timeout_junk),
        "max_retries": st.one_of(st.integers(0, 3), junk),
    },
)
job_st = st.fixed_dictionaries(
    {"name": st.just("prop")},
    optional={
        "tasks": st.one_of(st.lists(task_st, max_size=4), junk),
        "job_clusters": st.one_of(st.just([{"job_cluster_key": "jc", "new_cluster": CLUSTER}]), junk),
        "max_concurrent_runs": st.one_of(st.integers(0, 5), junk),
        "timeout_seconds": st.one_of(st.integers(0, 100), timeout_junk),
        "tags": st.one_of(st.just({"k": "v"}), junk),
    },
)


def _ours(spec: dict[str, Any]) -> str | None:
    try:
        validate_job_spec(spec, kind="job")
    except DatabricksJobSpecError as err:  # any other exception fails the test
        return str(err)
    return None


@pytest.mark.timeout(120)
def test_random_job_json_validator_and_emulator_agree(dbx_emulator: Any) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {dbx_emulator.admin_token}"
    url = f"{dbx_emulator.url}/api/2.2/jobs/create"

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(job_st)
    def check(spec: dict[str, Any]) -> None:
        ours = _ours(spec)
        resp = session.post(url, json=spec, timeout=10)
        assert resp.status_code in (200, 400), (resp.status_code, resp.text, spec)
        theirs = None if resp.status_code == 200 else resp.json()["message"]
        assert (ours is None) == (theirs is None), {"spec": spec, "validator": ours, "emulator": theirs}

    check()
    dbx_emulator.check_errors()
