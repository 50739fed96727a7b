"""Suite-wide settings: a private Airflow home and DAG bundles, set before anything imports Airflow.

Area conftests (tests/<area>/conftest.py) hold their own fixtures. DAG files that tests run with
`dag.test()` live in `dags_examples/` or `tests/dags/`: both are DAG bundles here, because
`dag.test()` only runs a DAG that its bundle has serialized.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.airflow_workspace"]

# Everything here talks to 127.0.0.1 only; a proxy from the environment would swallow it.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="dbx-tests-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
DOC_SNIPPETS_FOLDER = Path(_AIRFLOW_HOME) / "doc_snippets"
DOC_SNIPPETS_FOLDER.mkdir()
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags_examples")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": "dags_examples",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(REPO / "dags_examples"), "refresh_interval": 0},
        },
        {
            "name": "test_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(REPO / "tests" / "dags"), "refresh_interval": 0},
        },
        {
            "name": "doc_snippets",  # tests/docs writes the DAGs of README and docs/ code blocks here
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(DOC_SNIPPETS_FOLDER), "refresh_interval": 0},
        },
    ]
)
