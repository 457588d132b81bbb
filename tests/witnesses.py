"""Real witness processes for the tests: `audit witness serve` on a free port of this machine, and an office's
settings naming them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli


def audit(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


class WitnessProcess:
    """`audit witness serve` in a process of its own, on a free port of this machine."""

    def __init__(self, folder: Path, name: str, office_key: Path) -> None:
        self.folder, self.name, self.office_key = folder, name, office_key
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "key").exists():
            assert audit("witness", "keygen", name, folder / "key")[0] == 0
        self.vkey = folder / "key.vkey"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "WitnessProcess":
        ready = self.folder / "ready"
        ready.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "audit", "witness", "serve", "--key", self.folder / "key", "--state",
             self.folder / "state", "--office-key", self.office_key, "--port", "0", "--ready", ready],
            stderr=(self.folder / "log").open("a"))
        deadline = time.time() + 60
        while not ready.is_file() or not ready.read_text().strip():
            assert self.process.poll() is None, (self.folder / "log").read_text()
            assert time.time() < deadline, "the witness did not start"
            time.sleep(0.1)
        self.url = ready.read_text().strip()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


def write_settings(office: Path, witnesses: list[WitnessProcess], quorum: int,
                   origin: str = "city.example/crime-audit") -> None:
    """The office's audit.yaml: its signing key, its logs' origin, and `witnesses` with a quorum."""
    cosigners = "".join(f"    - {{url: '{w.url}', key: '{w.vkey}'}}\n" for w in witnesses)
    (office / "audit.yaml").write_text(f"signing_key: keys/office.pem\nlog_origin: {origin}\n"
                                       f"witnesses:\n  quorum: {quorum}\n  cosigners:\n{cosigners}")
