"""Files: writing one so that a reader (or a crash) never sees half of it; a file's digest; files held to their
first read; work done meanwhile; the folder a command's database spills to."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from audit.errors import ConfigError

T = TypeVar("T")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: object) -> bool:
    """Whether text names a file by URI (scheme://...): a release read where it lies, by the cluster that reads it
    (audit.ingest.in_place), and the log's record of where such a release is kept (audit.log.copies)."""
    return isinstance(text, str) and bool(URI.match(text))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(4 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_identity(path: Path) -> tuple[int, ...]:
    """What changes whenever a file's bytes do: its device, inode, size, modification time and status-change time.
    The status-change time (ctime) cannot be set back by whoever rewrites the file, as its modification time can
    (touch -d): a rewrite of the same size, its mtime restored, still changes it."""
    status = path.stat()
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


@dataclass(frozen=True)
class HeldFiles:
    """Files read more than once, and each one's identity (`file_identity`) when they were first read.

    A release is read more than once (its digest, then DuckDB's read; a Parquet release's digest, its first scan,
    then its checks or the log's copy), and so are a baseline kept beside the log and a data file publish wrote (its
    rows, then its bytes). Someone with write access beside the office could rewrite a file between two reads, so
    that what is recorded, reported or signed as checked is not what its digest names. The files are held from
    before the first read: `changed` once nothing reads them again says whether one was rewritten, replaced, added or
    removed in between."""

    path: Path
    list_files: Callable[[Path], list[Path]]     # the files under `path` (a file: itself), listed again to compare
    files: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, path: Path, list_files: Callable[[Path], list[Path]] = lambda path: [path]) -> HeldFiles:
        return cls(path, list_files, _identities(path, list_files(path)))

    def changed(self) -> str | None:
        """How the files differ from those first read (None when they are the same files, unchanged)."""
        try:
            now = _identities(self.path, self.list_files(self.path))
        except OSError as exc:  # removed, or no longer readable
            return f"{exc.strerror.lower() if exc.strerror else 'gone'} since it was first read"
        if now != self.files:
            return "its files are not the ones first read (rewritten, replaced, added or removed)"
        return None


def _identities(path: Path, files: list[Path]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((f.relative_to(path).as_posix() if f != path else "", file_identity(f)) for f in files)


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


SPILL_PREFIX = "audit-spill-"
_STARTING = "audit-starting-"  # a spill folder's name until its lock is held
_LOCK = ".held-by-a-running-command"


@contextmanager
def spill_folder() -> Iterator[str]:
    """A new temporary folder for what a command's database spills to disk, removed when the block ends; first, the
    folders of commands that were killed (out of memory, SIGKILL) before they could remove theirs, which can hold
    gigabytes. A running command holds a lock on its folder's lock file, and the system lets go of it when the
    process ends however it ends: a folder whose lock can be taken belongs to no running command, in this process
    namespace or another sharing the folder. Why by hand: tempfile has no such sweep."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): each folder is removed by its own command only
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None:
        for folder in Path(tempfile.gettempdir()).glob(f"{SPILL_PREFIX}*"):
            _remove_if_orphaned(folder, fcntl)
    # Locked under another name, then renamed: a sweep never sees the folder before its lock is held.
    starting = Path(tempfile.mkdtemp(prefix=_STARTING))
    lock = (starting / _LOCK).open("w")
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        spill = starting.with_name(SPILL_PREFIX + starting.name.removeprefix(_STARTING))
        starting.rename(spill)
        try:
            yield str(spill)
        finally:
            shutil.rmtree(spill, ignore_errors=True)
    finally:
        lock.close()
        shutil.rmtree(starting, ignore_errors=True)  # if the rename never happened


def _remove_if_orphaned(folder: Path, fcntl: Any) -> None:
    """Remove `folder` if no running command holds its lock; a folder with no lock file (an older version's, or one
    still being made) is left alone, and so is a link of that name (anyone can make one in the temporary folder,
    pointing anywhere)."""
    if folder.is_symlink() or not folder.is_dir():
        return
    try:
        handle = (folder / _LOCK).open("r")
    except OSError:
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a running command's
            return
        shutil.rmtree(folder, ignore_errors=True)
