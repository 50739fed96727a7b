"""Registering secrets with Airflow's secrets masker (a leaf: no-op outside Airflow)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def mask_secret(value: str | None) -> None:
    """Register ``value`` with Airflow's secrets masker, if available (no-op outside Airflow)."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret as _mask
    except ImportError:  # pragma: no cover - older Airflow layouts
        try:
            from airflow.sdk.execution_time.secrets_masker import mask_secret as _mask  # type: ignore
        except ImportError:
            return
    try:
        _mask(value)
    except Exception:  # pragma: no cover - masking must never break a call
        log.debug("could not register a secret with the masker")
