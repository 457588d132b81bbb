"""The benchmarks' peak memory is the measured command's own, however large the bench process once was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# A bench process that held 600 MB (as one writing a large CSV does), then measures two commands.
_BENCH = """
import json, sys
from tests.bench.measured import run_measured
held = bytearray(600 * 2**20)
held[::4096] = b"x" * len(held[::4096])  # touch every page, so that it is resident
del held
small = run_measured([sys.executable, "-c", "pass"])
large = run_measured([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"])
failing = run_measured([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
try:
    run_measured([sys.executable, "-c", "import sys; sys.exit('no such table')"], ok=(0,), name="the floor")
    stopped = None
except SystemExit as exc:
    stopped = str(exc)
print(json.dumps({"small": small["peak_rss_mb"], "large": large["peak_rss_mb"],
                  "failing": [failing["exit"], failing["stdout"]], "stopped": stopped}))
"""


def test_a_commands_peak_is_its_own_not_the_bench_processs():
    done = subprocess.run([sys.executable, "-c", _BENCH], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[1])
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    # Started straight from the bench process, `python -c pass` reported the bench's 600 MB.
    assert peaks["small"] < 100, peaks
    assert 300 <= peaks["large"] < 400, peaks
    assert peaks["failing"] == [3, "out\n"]
    # Given the codes that are fine, a command that exits with another stops the bench, naming it and its error.
    assert peaks["stopped"] == "the floor exited 1: no such table\n"
