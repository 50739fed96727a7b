"""Names that moved into ``airflow.sdk`` after Airflow 3.1: one place imports them for every version.

We support ``apache-airflow>=3.1``; Airflow 3.3 exposes these under ``airflow.sdk``, 3.1 only under
their core modules (which 3.3 still has, with a deprecation warning).
"""

from __future__ import annotations

try:
    from airflow.sdk.configuration import conf
except ImportError:  # Airflow < 3.2
    from airflow.configuration import conf  # type: ignore[no-redef]

try:
    from airflow.sdk.exceptions import AirflowNotFoundException, AirflowSkipException
except ImportError:  # Airflow < 3.2
    from airflow.exceptions import (  # type: ignore[no-redef,assignment]
        AirflowNotFoundException,
        AirflowSkipException,
    )

__all__ = ["AirflowNotFoundException", "AirflowSkipException", "conf"]
