"""The run model that operators, the sensor and the trigger share.

- :mod:`~airflow_dbx_provider.runs.state`: ``RunState`` and the state sets that classify it
- :mod:`~airflow_dbx_provider.runs.summary`: plain run / task summaries (trigger events, XCom)
- :mod:`~airflow_dbx_provider.runs.outcome`: trigger event payloads, task outputs, the explained failure
- :mod:`~airflow_dbx_provider.runs.links`: the run page extra link and the XCom keys of a run
- :mod:`~airflow_dbx_provider.runs.defaults`: defaults common to run operators, the sensor and the trigger
- :mod:`~airflow_dbx_provider.runs.hook_mixin`: connection id, hook arguments and the cached hook

Import the submodules directly: this package imports nothing itself, so the triggerer loads only
what its trigger needs (``state``, ``summary``, ``outcome``).
"""
