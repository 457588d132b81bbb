"""Run a command as its own process and measure its wall time, exit code and its own peak memory.

Why a small process in between: on Linux a process's peak RSS (ru_maxrss) starts at the high-water mark of the
memory it was exec'd from, because exec keeps the old memory's mark. Python's subprocess starts children by
vfork, whose old memory is the parent's own; so every child of a bench that once held 6.8 GB (writing a 100M-row
CSV) reported at least 6.8 GB, whatever it used itself. The command is therefore started by a bare interpreter
(`python -S`, about 11 MB), which waits for it and hands back the command's own usage.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs in the in-between process: no imports beyond the interpreter's own, so its mark stays small.
_TRAMPOLINE = ("import os, subprocess, sys\n"
               "p = subprocess.Popen(sys.argv[2:])\n"
               "_, status, usage = os.wait4(p.pid, 0)\n"
               "with open(sys.argv[1], 'w') as f: f.write(str(usage.ru_maxrss))\n"
               "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run_measured(args: list[str], cwd: Path | None = None, ok: tuple[int, ...] | None = None,
                 name: str | None = None) -> dict:
    """{"seconds", "exit", "peak_rss_mb" (the command's own, its waited-for children included), "stdout",
    "stderr"} of `args`. With `ok`, an exit code outside it stops the bench, naming the command (`name`, else its
    words) and the end of what it wrote on stderr: a measurement of a command that failed is no measurement."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".maxrss") as usage:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-S", "-c", _TRAMPOLINE, usage.name, *args], cwd=cwd,
                                stdout=out, stderr=err, text=True)
        _, status, _ = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        kilobytes = usage.read().strip()
        if not kilobytes:  # the command could not be started at all: its error is in stderr
            raise SystemExit(f"{args[0]} could not be run: {err.read()[-2000:]}")
        result = {"seconds": seconds, "exit": os.waitstatus_to_exitcode(status), "peak_rss_mb": int(kilobytes) / 1024,
                  "stdout": out.read(), "stderr": err.read()}
    if ok is not None and result["exit"] not in ok:
        raise SystemExit(f"{name or ' '.join(map(str, args))} exited {result['exit']}: {result['stderr'][-2000:]}")
    return result
