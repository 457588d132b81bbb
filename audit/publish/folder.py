"""Where a package is written, so that no reader and no crash ever sees half of one.

A package is built in a hidden staging folder beside its destination, flushed to disk,
and renamed to a hidden *pending* folder named by its chain head before the publication
is committed to the log. After the commit it is renamed into place. So, whenever the
process dies:
- before the commit: the log has no publication; the pending or staging folder is
  abandoned and removed by the next publish;
- after the commit: the log has the publication and its complete pending folder,
  which the next publish (or this one) renames into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from audit.errors import StateError
from audit.files import inside

STAGING = ".staging-"
PENDING = ".pending-"


def package_folder(out: Path, dataset: str, version: str) -> Path:
    """Where version `version` of `dataset` goes: `out`/dataset/version, inside `out` with no link on the way,
    and new (a published package is never overwritten)."""
    target = inside(out, Path(dataset) / version)
    if target.exists() or target.is_symlink():
        raise StateError(f"{target} already exists: a published package is never overwritten")
    return target


def staging_folder(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING}", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)  # mkdtemp makes it private; a package is for everyone to read
    return path


def pending_folder(target: Path, head: str) -> Path:
    return target.with_name(f".{target.name}{PENDING}{head[:16]}")


def seal(staging: Path, pending: Path) -> None:
    """Flush every file of `staging` to disk, then rename it to `pending`."""
    for folder, _, files in os.walk(staging):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))
    os.rename(staging, pending)
    _fsync(pending.parent)


def complete(target: Path, head: str) -> bool:
    """Put the package of publication `head` in place if it is still pending; True when it is in place."""
    if target.is_dir():
        return True
    pending = pending_folder(target, head)
    if not pending.is_dir():
        return False
    os.rename(pending, target)
    _fsync(target.parent)
    return True


def clear_abandoned(parent: Path, keep: set[str]) -> None:
    """Remove staging and pending folders of publications that never reached the log (`keep`: their heads)."""
    if not parent.is_dir():
        return
    for path in parent.iterdir():
        name = path.name
        if not (name.startswith(".") and path.is_dir()):
            continue
        if STAGING in name or (PENDING in name and name.rsplit(PENDING, 1)[1] not in keep):
            shutil.rmtree(path, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
