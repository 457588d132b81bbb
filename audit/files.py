"""Files: writing one so that a reader (or a crash) never sees half of it; a file's digest; work done meanwhile."""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from audit.errors import ConfigError

T = TypeVar("T")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(4 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def meanwhile(work: Callable[[], T], name: str) -> Callable[[], T]:
    """Start `work` in a thread of its own and return the call that waits for its result (or raises its error),
    for work that lets go of the GIL while the main thread does other work (a file's digest while DuckDB reads it).
    A daemon thread, not concurrent.futures: a command stopped by an error or by Ctrl-C then ends at once rather
    than waiting for a digest of gigabytes it no longer needs."""
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["result"] = work()
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller, who raises it
            done["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if "error" in done:
            raise done["error"]
        return done["result"]

    return result


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    with written_aside(path, text) as put_in_place:
        put_in_place()
    return path


@contextmanager
def written_aside(path: Path, text: str) -> Iterator[Callable[[], None]]:
    """Write `text` beside `path` now; the block calls the function it is given to put it in place. If the block
    fails first, the file written aside is removed: a file can be written before the record it belongs to is
    committed, so that running out of space stops the command before anything is recorded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        yield lambda: os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def inside(base: Path, path: Path) -> Path:
    """`path` (absolute, or relative to `base`), refused (ConfigError, exit 2) unless it lies inside `base` with
    no symbolic link between them: whatever the tool writes stays in the workspace, or in the folder the
    office named with --out."""
    base = Path(os.path.abspath(base))
    path = Path(os.path.abspath(base / path))
    if not path.is_relative_to(base):
        raise ConfigError(f"{path} is outside {base}; the tool writes nothing there")
    step = base
    for part in path.relative_to(base).parts:
        step = step / part
        if step.is_symlink():
            raise ConfigError(f"{step} is a symbolic link; the tool writes nothing through one (it could lead "
                              f"outside {base})")
    return path
