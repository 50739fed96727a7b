"""The `pytest11` plugin loads for every user of the provider who runs pytest: it must stay cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "uvicorn",
    "starlette",
    "airflow_dbx_provider.emulator.server",
    "airflow_dbx_provider.emulator.services",
)


def test_importing_the_plugin_does_not_load_the_emulator() -> None:
    script = (
        "import json, sys; import airflow_dbx_provider.emulator.pytest_plugin; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    loaded = json.loads(out)
    assert [m for m in loaded if m.startswith(HEAVY)] == []


def test_public_names_load_on_first_access() -> None:
    import airflow_dbx_provider.emulator as emulator

    assert emulator.EmulatorServer.__name__ == "EmulatorServer"
    with pytest.raises(AttributeError):
        emulator.NoSuchThing  # noqa: B018
