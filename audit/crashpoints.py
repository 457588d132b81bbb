"""Named points where a test can kill the running command, to prove a crash there loses nothing.

`AUDIT_CRASH_AT=publish-after-commit audit publish ...` makes the process SIGKILL itself
when it reaches that point: no cleanup, no `finally`, as when a machine loses power.
`AUDIT_PAUSE_AT=ingest-before-commit` makes it wait there instead (writing `paused` to stderr), so that a test can
interrupt it at exactly that moment. Unset (always, outside tests), a crash point does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "AUDIT_CRASH_AT"
PAUSE_ENV = "AUDIT_PAUSE_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == name:
        import sys
        import time

        sys.stderr.write(f"paused at {name}\n")
        sys.stderr.flush()
        time.sleep(60)
