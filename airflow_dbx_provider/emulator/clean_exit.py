"""Leave a process that has used Arrow without running interpreter finalisation.

pyarrow's and deltalake's native thread pools can abort the interpreter while it tears down
("terminate called without an active exception", exit 134), about one run in six here: a process
that succeeded would then fail. Once the work is done and the streams are flushed, there is
nothing left for finalisation to do, so processes of ours that read or write Delta tables leave
through here.
"""

from __future__ import annotations

import os
import sys


def exit_without_finalizers(code: int) -> None:
    """Flush stdout and stderr, then end the process with ``code`` at once."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing more can be written anyway
            pass
    os._exit(code)
