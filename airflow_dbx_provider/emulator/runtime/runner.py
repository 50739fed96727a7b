"""Execute one task attempt: `python runner.py spec.json` (started by task_execution.py).

Runs as a plain script so the child imports neither Airflow nor the emulator's web stack. The
outcome goes to `result.json`: `exit_value` (+ `truncated`) from `dbutils.notebook.exit`,
or `error` ("ValueError: bad row") and `error_trace` (the traceback) on an uncaught exception.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import linecache
import os
import sys
import traceback
from pathlib import Path
from typing import Any

OUTPUT_LIMIT = 5 * 1024 * 1024
NO_SPARK = ("spark", "sc", "sqlContext", "display", "displayHTML", "table", "sql")


def _load_dbutils() -> Any:
    path = Path(__file__).with_name("dbutils.py")
    spec = importlib.util.spec_from_file_location("_dbx_emulator_dbutils", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _entry_point(package: str, name: str) -> Any:
    """The `entry_point` of an installed distribution, else `package.name` if importable."""
    wanted = package.replace("-", "_").lower()
    for dist in importlib.metadata.distributions():
        if (dist.metadata["Name"] or "").replace("-", "_").lower() != wanted:
            continue
        for ep in dist.entry_points:
            if ep.name == name:
                return ep.load()
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise RuntimeError(
            f"Package {package} is not installed in the emulator's Python environment "
            f"({sys.executable}); install the wheel there to run python_wheel_task."
        ) from None
    if hasattr(module, name):
        return getattr(module, name)
    raise RuntimeError(f"No entry point named {name} found in package {package}.")


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    dbutils_module = _load_dbutils()
    dbutils = dbutils_module.DBUtils(widgets=spec.get("widgets", {}))
    sys.path[0] = os.getcwd()
    outcome: dict[str, Any] = {}
    code = 0
    try:
        if spec["kind"] == "python_wheel_task":
            sys.argv = spec["argv"]
            function = _entry_point(spec["package_name"], spec["entry_point"])
            function()
        else:
            if spec["kind"] == "spark_python_task":
                sys.argv = spec["argv"]
            namespace: dict[str, Any] = {
                "__name__": "__main__",
                "__file__": spec["filename"],
                "dbutils": dbutils,
            }
            # Tracebacks quote the notebook's lines, as a Databricks error trace does.
            linecache.cache[spec["filename"]] = (
                len(spec["source"]),
                None,
                spec["source"].splitlines(True),
                spec["filename"],
            )
            exec(compile(spec["source"], spec["filename"], "exec"), namespace)
    except dbutils_module.NotebookExit as done:
        value = done.value
        outcome["exit_value"] = value[:OUTPUT_LIMIT]
        outcome["truncated"] = len(value) > OUTPUT_LIMIT
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            outcome["error"] = f"SystemExit: {exit_.code}"
            code = 1
    except BaseException as exc:  # everything the user's code raises fails the task
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, NameError) and getattr(exc, "name", None) in NO_SPARK:
            message += " (the Databricks emulator runs plain Python: there is no Spark session or display())"
        outcome["error"] = message
        outcome["error_trace"] = _user_traceback(exc)
        sys.stderr.write(outcome["error_trace"])
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    tmp = Path(spec["result_path"] + ".tmp")
    tmp.write_text(json.dumps(outcome))
    tmp.replace(spec["result_path"])
    return code


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the user's code on, as Databricks shows it: no frames of this runner."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


if __name__ == "__main__":
    exit_code = main(sys.argv[1])
    # The outcome is on disk and the streams are flushed: skip interpreter finalisation. Native
    # thread pools (deltalake's runtime, arrow) can abort the process while Python tears down
    # ("terminate called without an active exception", exit -6), failing a task that succeeded.
    os._exit(exit_code)
