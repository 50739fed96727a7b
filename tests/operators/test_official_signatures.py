"""Every argument of an official operator we offer under the same name is accepted by ours.

Reads the installed ``apache-airflow-providers-databricks`` (a dev dependency): a new argument
there fails this test, naming it, until ours accepts it.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import airflow_dbx_provider.operators as ours

official = pytest.importorskip("airflow.providers.databricks.operators.databricks")

#: Official operators a DAG may import; each must exist here under the same name.
REQUIRED = (
    "DatabricksSubmitRunOperator",
    "DatabricksRunNowOperator",
    "DatabricksCreateJobsOperator",
)


def _official_operators() -> list[str]:
    from airflow.models import BaseOperator

    names = []
    for name, cls in vars(official).items():
        if (
            inspect.isclass(cls)
            and issubclass(cls, BaseOperator)
            and cls.__module__ == official.__name__
            and not inspect.isabstract(cls)
        ):
            names.append(name)
    return sorted(names)


def _named_parameters(cls: type) -> set[str]:
    """Parameter names of ``cls.__init__`` (keyword-or-positional and keyword-only)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
        if p.kind in kinds and p.name != "self"
    }


def _accepted(cls: type) -> set[str]:
    """Names ``cls`` accepts: its own and those its ``**kwargs`` hand to a base class."""
    accepted: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass is not object:
            accepted |= _named_parameters(klass)
    return accepted


OFFERED = [name for name in _official_operators() if hasattr(ours, name)]


def test_the_operators_official_dags_use_most_are_offered() -> None:
    missing = [name for name in REQUIRED if not hasattr(ours, name)]
    assert not missing, f"not offered under the official name: {missing}"


@pytest.mark.parametrize("name", OFFERED)
def test_every_official_argument_is_accepted(name: str) -> None:
    theirs: Any = getattr(official, name)
    mine: Any = getattr(ours, name)
    missing = sorted(_named_parameters(theirs) - _accepted(mine))
    assert not missing, f"{name} does not accept the official argument(s): {', '.join(missing)}"
