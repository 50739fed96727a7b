"""Compute the official provider's example DAGs name that today's workspaces no longer serve.

The examples were written for runtimes 7.3, 9.1 and 11.3 and node types r3.xlarge and
Standard_D3_v2. The emulator refuses a cluster spec naming compute it does not serve (as
Databricks does), so the tests that run the examples add these the way a user adds their own
runtime versions and node types: through the emulator's config (`spark_versions`, `node_types`).
Their tasks name PyPI libraries (simplejson, which runtimes ship, and Faker): Faker joins the
config's `preinstalled_libraries`, so the tests install nothing and never reach the network.
"""

from __future__ import annotations

from typing import Any

import pytest

SPARK_VERSIONS = [
    {"key": "7.3.x-scala2.12", "name": "7.3 LTS (includes Apache Spark 3.0.1, Scala 2.12)"},
    {"key": "9.1.x-scala2.12", "name": "9.1 LTS (includes Apache Spark 3.1.2, Scala 2.12)"},
    {"key": "11.3.x-scala2.12", "name": "11.3 LTS (includes Apache Spark 3.3.0, Scala 2.12)"},
]
NODE_TYPES = [
    {"node_type_id": "r3.xlarge", "memory_mb": 31232, "num_cores": 4.0, "is_deprecated": True},
    {"node_type_id": "Standard_D3_v2", "memory_mb": 14336, "num_cores": 4.0},
]
PREINSTALLED = ["simplejson", "Faker"]


def allow_example_compute(workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the examples' runtimes, node types and libraries on this (running) emulator for one test."""
    config = workspace.config
    monkeypatch.setattr(config, "spark_versions", [*config.spark_versions, *SPARK_VERSIONS])
    monkeypatch.setattr(config, "node_types", [*config.node_types, *NODE_TYPES])
    monkeypatch.setattr(config, "preinstalled_libraries", [*config.preinstalled_libraries, *PREINSTALLED])
