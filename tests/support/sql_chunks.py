"""Small SQL result chunks on a live emulator, so a short result spans several chunks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_dbx_provider.emulator import EmulatorServer


@contextmanager
def small_result_chunks(server: EmulatorServer, chunk_bytes: int = 1500) -> Iterator[None]:
    assert server.state is not None
    service = server.state.sql_statements
    before, service.chunk_bytes = service.chunk_bytes, chunk_bytes
    try:
        yield
    finally:
        service.chunk_bytes = before
